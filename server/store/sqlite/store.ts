/**
 * The embedded store engine: one sqlite file (`mallard.db`) in the data directory, shared safely by
 * several processes (WAL, busy timeout, write transactions that take the lock up front).
 *
 * better-sqlite3 is synchronous: each method does its work in one short call and returns a settled
 * Promise to satisfy the engine-neutral contract.
 */
import { withCrlfLineEnds } from '../../mime/line-ends.ts';
import path from 'node:path';
import type { MimeIndex } from '../../mime/types.ts';
import { StoreError } from '../errors.ts';
import { checkLease } from '../leases.ts';
import { normalizeFlags } from '../normalize.ts';
import type {
  FlagListing,
  Address,
  Domain,
  DomainPatch,
  DomainUsage,
  AppendItem,
  AppendManyOptions,
  AppendOptions,
  AppendResult,
  AppPassword,
  ConnectionRule,
  ConnectionRulePatch,
  CopyResult,
  Credentials,
  DeliveryResult,
  Flag,
  FlagOperation,
  Id,
  ImportedMailbox,
  ImportedMessage,
  ImportItem,
  JournalEntry,
  Mailbox,
  MailboxCounts,
  MailboxStatus,
  MessageSummary,
  MetadataChange,
  MetadataEntry,
  NewConnectionRule,
  NewUser,
  Quota,
  SpecialUse,
  Store,
  StoreFlagsResult,
  StoreHealth,
  UidRange,
  User,
  UserPatch,
  UserQuery,
  SortFields,
  SortBasics,
} from '../types.ts';
import * as accounts from './accounts.ts';
import * as blobs from './blobs.ts';
import * as domains from './domains.ts';
import * as imports from './imports.ts';
import { checkImportedMessage } from '../imports.ts';
import { DATABASE_FILE, openDatabase, type Sql } from './database.ts';
import * as journal from './journal.ts';
import * as leases from './leases.ts';
import * as outbound from './outbound.ts';
import type { NewOutboundMessage, OutboundMessage, OutboundResult } from '../outbound.ts';
import * as mailboxes from './mailboxes.ts';
import * as messages from './messages.ts';
import * as metadata from './metadata.ts';
import * as urlauth from './urlauth.ts';
import * as rules from './rules.ts';
import * as history from './history.ts';
import * as mtaSts from './mta-sts.ts';
import * as sieve from './sieve.ts';
import * as importProgress from './import-progress.ts';
import * as spam from './spam.ts';
import {
  checkGreylist,
  checkSpamList,
  type GreylistResult,
  type SpamListEntry,
  type SpamListKind,
} from '../spam.ts';
import {
  checkSieveContent,
  checkSieveMemoryKey,
  checkSieveName,
  type SieveMemoryEntry,
  type SieveScriptRecord,
} from '../sieve.ts';
import { checkMarkName, checkMarkValue } from '../progress-marks.ts';
import { checkImportProgress, checkImportSource, type ImportProgress } from '../import-progress.ts';
import { checkStsPolicy, stsDomainOf, type CachedStsPolicy } from '../mta-sts.ts';
import { checkDay, checkDeliveryCount, type DeliveryDay, type DeliveryOutcome } from '../history.ts';
import { parseId, requireId } from '../ids.ts';
import { guard } from './guard.ts';
import { mailboxRow, requireMailboxRow, requireUserRow, toMailbox } from './rows.ts';

export interface SqliteStoreOptions {
  /** Prune journal entries older than this when opening; 0 keeps everything. */
  journalRetentionMs?: number;
  /** How long to wait for another process's write before failing with UNAVAILABLE. */
  busyTimeoutMs?: number;
}

/** Engine-specific figures for tests and the admin panel. */
export interface SqliteStoreStats {
  users: number;
  mailboxes: number;
  messages: number;
  blobs: number;
  blobBytes: number;
  journalEntries: number;
}

export class SqliteStore implements Store {
  readonly engine = 'sqlite';
  readonly file: string;
  private readonly sql: Sql;

  private constructor(sql: Sql, file: string) {
    this.sql = sql;
    this.file = file;
  }

  static async open(dataDir: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const sql = guard(() => openDatabase(dataDir, options.busyTimeoutMs));
    const store = new SqliteStore(sql, path.join(dataDir, DATABASE_FILE));
    const retention = options.journalRetentionMs ?? journal.JOURNAL_RETENTION_MS;
    try {
      if (retention > 0) await store.pruneJournal(new Date(Date.now() - retention));
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** Runs one synchronous database call, translating driver failures into StoreErrors. */
  private call<T>(fn: (sql: Sql) => T): Promise<T> {
    try {
      // In a group (inOneCommit) each call gets a savepoint, so a failing one undoes only itself.
      const run = this.grouping ? () => this.sql.write(() => fn(this.sql)) : () => fn(this.sql);
      return Promise.resolve(guard(run));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private grouping = false;

  /**
   * Group commit: runs `fn`, which makes store calls, in one write transaction, so all their
   * changes become durable with one COMMIT — one fsync instead of one per call. Each call inside
   * has a savepoint of its own: one that fails undoes only its own changes (its promise rejects).
   * The calls' promises are settled when `fn` returns, but nothing is durable until this returns;
   * when it throws (the COMMIT failed), none of them was committed.
   */
  inOneCommit<T>(fn: () => T): T {
    this.grouping = true;
    try {
      return guard(() => this.sql.write(fn));
    } finally {
      this.grouping = false;
    }
  }

  /**
   * Whether the group's transaction is still open. SQLite rolls a whole transaction back by itself
   * on some errors (a full disk, an I/O error); calls made after that would each commit on their
   * own, so the group must stop there.
   */
  inTransaction(): boolean {
    return this.sql.db.inTransaction;
  }

  // --- users ---

  createUser(user: NewUser): Promise<User> {
    return this.call((sql) => accounts.createUser(sql, user));
  }

  getUser(id: Id): Promise<User | null> {
    const userId = parseId(id);
    return this.call((sql) => (userId === null ? null : accounts.getUser(sql, userId)));
  }

  getUserByUsername(username: string): Promise<User | null> {
    return this.call((sql) => accounts.getUserByUsername(sql, username));
  }

  listUsers(query?: UserQuery): Promise<{ users: User[]; total: number }> {
    return this.call((sql) => accounts.listUsers(sql, query));
  }

  updateUser(id: Id, patch: UserPatch): Promise<User> {
    return this.call((sql) => accounts.updateUser(sql, requireId(id, 'user'), patch));
  }

  setPasswordHash(id: Id, passwordHash: string): Promise<void> {
    return this.call((sql) => accounts.setPasswordHash(sql, requireId(id, 'user'), passwordHash));
  }

  deleteUser(id: Id): Promise<void> {
    return this.call((sql) => accounts.deleteUser(sql, requireId(id, 'user')));
  }

  getCredentials(username: string): Promise<Credentials | null> {
    return this.call((sql) => accounts.getCredentials(sql, username));
  }

  // --- addresses ---

  // --- domains ---

  listDomains(): Promise<Domain[]> {
    return this.call((sql) => domains.listDomains(sql));
  }

  getDomain(name: string): Promise<Domain | null> {
    return this.call((sql) => domains.getDomain(sql, name));
  }

  createDomain(domain: { name: string }): Promise<Domain> {
    return this.call((sql) => domains.createDomain(sql, domain));
  }

  updateDomain(name: string, patch: DomainPatch): Promise<Domain> {
    return this.call((sql) => domains.updateDomain(sql, name, patch));
  }

  domainUsage(name: string): Promise<DomainUsage> {
    return this.call((sql) => domains.domainUsage(sql, name));
  }

  deleteDomain(name: string): Promise<void> {
    return this.call((sql) => domains.deleteDomain(sql, name));
  }

  addAddress(userId: Id, address: string): Promise<Address> {
    return this.call((sql) => accounts.addAddress(sql, requireId(userId, 'user'), address));
  }

  removeAddress(address: string): Promise<void> {
    return this.call((sql) => accounts.removeAddress(sql, address));
  }

  listAddresses(userId: Id): Promise<Address[]> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? [] : accounts.listAddresses(sql, id)));
  }

  resolveRecipient(address: string): Promise<User | null> {
    return this.call((sql) => accounts.resolveRecipient(sql, address));
  }

  // --- app passwords ---

  createAppPassword(userId: Id, label: string, hash: string): Promise<AppPassword> {
    return this.call((sql) => accounts.createAppPassword(sql, requireId(userId, 'user'), label, hash));
  }

  listAppPasswords(userId: Id): Promise<AppPassword[]> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? [] : accounts.listAppPasswords(sql, id)));
  }

  deleteAppPassword(userId: Id, id: Id): Promise<void> {
    return this.call((sql) =>
      accounts.deleteAppPassword(sql, requireId(userId, 'user'), requireId(id, 'app password')),
    );
  }

  touchAppPassword(id: Id): Promise<void> {
    const passwordId = parseId(id);
    return this.call((sql) => {
      if (passwordId !== null) accounts.touchAppPassword(sql, passwordId);
    });
  }

  // --- mailboxes ---

  listMailboxes(userId: Id): Promise<Mailbox[]> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? [] : mailboxes.listMailboxes(sql, id)));
  }

  getMailbox(userId: Id, mailboxPath: string): Promise<Mailbox | null> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? null : mailboxes.getMailbox(sql, id, mailboxPath)));
  }

  getMailboxById(mailboxId: Id): Promise<Mailbox | null> {
    const id = parseId(mailboxId);
    return this.call((sql) => {
      const row = id === null ? undefined : mailboxRow(sql, id);
      return row ? toMailbox(row) : null;
    });
  }

  createMailbox(userId: Id, mailboxPath: string, specialUse?: SpecialUse | null): Promise<Mailbox> {
    return this.call((sql) =>
      mailboxes.createMailbox(sql, requireId(userId, 'user'), mailboxPath, specialUse),
    );
  }

  deleteMailbox(userId: Id, mailboxPath: string): Promise<void> {
    return this.call((sql) => mailboxes.deleteMailbox(sql, requireId(userId, 'user'), mailboxPath));
  }

  renameMailbox(userId: Id, from: string, to: string): Promise<void> {
    return this.call((sql) => mailboxes.renameMailbox(sql, requireId(userId, 'user'), from, to));
  }

  listSubscriptions(userId: Id): Promise<string[]> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? [] : mailboxes.listSubscriptions(sql, id)));
  }

  setSubscribed(userId: Id, mailboxPath: string, subscribed: boolean): Promise<void> {
    return this.call((sql) =>
      mailboxes.setSubscribed(sql, requireId(userId, 'user'), mailboxPath, subscribed),
    );
  }

  getMetadata(userId: Id, mailboxPath: string): Promise<MetadataEntry[]> {
    return this.call((sql) => metadata.getMetadata(sql, requireId(userId, 'user'), mailboxPath));
  }

  setMetadata(
    userId: Id,
    mailboxPath: string,
    changes: readonly MetadataChange[],
    maxEntries: number,
  ): Promise<void> {
    return this.call((sql) =>
      metadata.setMetadata(sql, requireId(userId, 'user'), mailboxPath, changes, maxEntries),
    );
  }

  urlAuthKey(mailboxId: Id, create: boolean): Promise<Buffer | null> {
    return this.call((sql) => urlauth.urlAuthKey(sql, requireId(mailboxId, 'mailbox'), create));
  }

  resetUrlAuthKeys(userId: Id, mailboxId: Id | null): Promise<void> {
    return this.call((sql) =>
      urlauth.resetUrlAuthKeys(
        sql,
        requireId(userId, 'user'),
        mailboxId === null ? null : requireId(mailboxId, 'mailbox'),
      ),
    );
  }

  mailboxCounts(mailboxId: Id): Promise<MailboxCounts> {
    return this.call((sql) => mailboxes.mailboxCounts(sql, requireId(mailboxId, 'mailbox')));
  }

  mailboxStatus(userId: Id, mailboxPath: string): Promise<MailboxStatus | null> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? null : mailboxes.mailboxStatus(sql, id, mailboxPath)));
  }

  claimRecent(mailboxId: Id): Promise<{ previous: number; current: number }> {
    return this.call((sql) => mailboxes.claimRecent(sql, requireId(mailboxId, 'mailbox')));
  }

  /** claimRecent's answer when there is nothing to claim, by a read alone; null otherwise (engine-specific). */
  unchangedRecentClaim(mailboxId: Id): Promise<{ previous: number; current: number } | null> {
    return this.call((sql) => mailboxes.unchangedRecentClaim(sql, requireId(mailboxId, 'mailbox')));
  }

  // --- messages ---

  append(mailboxId: Id, raw: Buffer, options: AppendOptions = {}): Promise<AppendResult> {
    return this.call((sql) => {
      const id = requireId(mailboxId, 'mailbox');
      return messages.appendMessage(sql, id, appendInput(sql, raw, options));
    });
  }

  appendMany(
    mailboxId: Id,
    items: readonly AppendItem[],
    options: AppendManyOptions = {},
  ): Promise<AppendResult[]> {
    return this.call((sql) => {
      const id = requireId(mailboxId, 'mailbox');
      const record = options.importProgress ? checkImportProgress(options.importProgress) : null;
      const inputs = items.map((item) => appendInput(sql, item.raw, item.options ?? {}));
      // One transaction (each append a savepoint inside it): a failure rolls all of them back, and
      // an import's record commits with its batch or not at all.
      return sql.write(() => {
        const results = inputs.map((input) => messages.appendMessage(sql, id, input));
        if (record) importProgress.saveImportProgress(sql, requireMailboxRow(sql, id).user_id, record);
        return results;
      });
    });
  }

  replaceMessage(
    mailboxId: Id,
    uid: number,
    targetMailboxId: Id,
    raw: Buffer,
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    return this.call((sql) => {
      const source = requireId(mailboxId, 'mailbox');
      const target = requireId(targetMailboxId, 'mailbox');
      const input = appendInput(sql, raw, options);
      // One transaction: the old message goes first, so its bytes no longer count for the quota.
      return sql.write(() => {
        if (messages.deleteMessages(sql, source, [uid]).length === 0) {
          throw new StoreError('NONEXISTENT', `no message ${uid} to replace`);
        }
        return messages.appendMessage(sql, target, input);
      });
    });
  }

  deliver(recipient: string, raw: Buffer, options: AppendOptions = {}): Promise<DeliveryResult> {
    return this.call((sql) => {
      const input = appendInput(sql, raw, options);
      // Resolution and append share one transaction: the user cannot vanish in between.
      return sql.write(() => {
        const user = accounts.resolveRecipient(sql, recipient);
        if (!user) throw new StoreError('NONEXISTENT', `no recipient ${recipient}`);
        if (user.disabled) throw new StoreError('CANNOT', `user ${user.username} is disabled`);
        const inbox = mailboxes.getMailbox(sql, Number(user.id), 'INBOX');
        if (!inbox) throw new StoreError('NONEXISTENT', `user ${user.username} has no INBOX`);
        return { ...messages.appendMessage(sql, Number(inbox.id), input), userId: user.id };
      });
    });
  }

  listFlags(mailboxId: Id, uidBelow: number): Promise<FlagListing> {
    return this.call((sql) => messages.listFlags(sql, requireId(mailboxId, 'mailbox'), uidBelow));
  }

  listMessages(
    mailboxId: Id,
    filter?: { uids?: UidRange[]; changedSince?: number },
  ): Promise<MessageSummary[]> {
    return this.call((sql) => messages.listMessages(sql, requireId(mailboxId, 'mailbox'), filter));
  }

  getMessage(mailboxId: Id, uid: number): Promise<MessageSummary | null> {
    const id = parseId(mailboxId);
    return this.call((sql) => (id === null ? null : messages.getMessage(sql, id, uid)));
  }

  readBlob(blobId: string): Promise<Buffer> {
    return this.call((sql) => blobs.readBlob(sql, blobId));
  }

  readBlobs(blobIds: readonly string[]): Promise<Map<string, Buffer>> {
    return this.call((sql) => blobs.readBlobs(sql, blobIds));
  }

  readBlobHeads(heads: ReadonlyArray<{ blobId: string; bytes: number }>): Promise<Map<string, Buffer>> {
    return this.call((sql) => blobs.readBlobHeads(sql, heads));
  }

  readMimeIndex(blobId: string): Promise<MimeIndex> {
    return this.call((sql) => blobs.readMimeIndex(sql, blobId));
  }

  readPreviews(blobIds: readonly string[]): Promise<Map<string, string>> {
    return this.call((sql) => blobs.readPreviews(sql, blobIds));
  }

  readMimeIndexes(blobIds: readonly string[]): Promise<Map<string, MimeIndex>> {
    return this.call((sql) => blobs.readMimeIndexes(sql, blobIds));
  }

  readSortFields(blobIds: readonly string[]): Promise<Map<string, SortFields>> {
    return this.call((sql) => blobs.readSortFields(sql, blobIds));
  }

  listSortBasics(mailboxId: Id): Promise<SortBasics> {
    return this.call((sql) => messages.listSortBasics(sql, requireId(mailboxId, 'mailbox')));
  }

  storeFlags(
    mailboxId: Id,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    unchangedSince?: number,
  ): Promise<StoreFlagsResult> {
    return this.call((sql) =>
      messages.storeFlags(
        sql,
        requireId(mailboxId, 'mailbox'),
        uids,
        operation,
        normalizeFlags(flags),
        unchangedSince,
      ),
    );
  }

  copyMessages(mailboxId: Id, uids: number[], targetMailboxId: Id): Promise<CopyResult> {
    return this.call((sql) =>
      messages.copyMessages(
        sql,
        requireId(mailboxId, 'mailbox'),
        uids,
        requireId(targetMailboxId, 'mailbox'),
        false,
      ),
    );
  }

  moveMessages(mailboxId: Id, uids: number[], targetMailboxId: Id): Promise<CopyResult> {
    return this.call((sql) =>
      messages.copyMessages(
        sql,
        requireId(mailboxId, 'mailbox'),
        uids,
        requireId(targetMailboxId, 'mailbox'),
        true,
      ),
    );
  }

  expunge(mailboxId: Id, uids?: number[]): Promise<number[]> {
    return this.call((sql) => messages.expunge(sql, requireId(mailboxId, 'mailbox'), uids));
  }

  deleteMessages(mailboxId: Id, uids: number[]): Promise<number[]> {
    return this.call((sql) => messages.deleteMessages(sql, requireId(mailboxId, 'mailbox'), uids));
  }

  listKeywords(mailboxId: Id): Promise<string[]> {
    return this.call((sql) => messages.listKeywords(sql, requireId(mailboxId, 'mailbox')));
  }

  expungedSince(mailboxId: Id, modseq: number, uids?: UidRange[]): Promise<number[] | null> {
    return this.call((sql) => messages.expungedSince(sql, requireId(mailboxId, 'mailbox'), modseq, uids));
  }

  // --- migration ---

  importMailbox(userId: Id, mailbox: ImportedMailbox): Promise<Mailbox> {
    return this.call((sql) => imports.importMailbox(sql, requireId(userId, 'user'), mailbox));
  }

  importMessage(mailboxId: Id, message: ImportedMessage, raw: Buffer): Promise<'imported' | 'exists'> {
    return this.call((sql) => importOne(sql, requireId(mailboxId, 'mailbox'), message, raw));
  }

  importMessages(mailboxId: Id, items: readonly ImportItem[]): Promise<Array<'imported' | 'exists'>> {
    return this.call((sql) => {
      const id = requireId(mailboxId, 'mailbox');
      if (!Array.isArray(items)) throw new StoreError('INVALID', 'messages must be a list');
      // One transaction, one COMMIT: the savepoints of the single imports nest inside it.
      return sql.write(() => items.map((item) => importOne(sql, id, item?.message, item?.raw)));
    });
  }

  // --- journal ---

  /** The whole journal's head: ids are shared by the users (journal.ts). */
  journalHead(_userId?: Id): Promise<number> {
    return this.call((sql) => journal.journalHead(sql));
  }

  readJournal(after: ReadonlyMap<Id, number>, limit?: number): Promise<JournalEntry[]> {
    return this.call((sql) => journal.readJournal(sql, after, limit));
  }

  /** Deletes journal entries older than `before` (not in the contract); returns how many. */
  pruneJournal(before: Date): Promise<number> {
    return this.call((sql) => journal.pruneJournal(sql, before));
  }

  // --- connection rules ---

  listRules(): Promise<ConnectionRule[]> {
    return this.call((sql) => rules.listRules(sql));
  }

  createRule(input: NewConnectionRule): Promise<ConnectionRule> {
    return this.call((sql) => rules.createRule(sql, input));
  }

  updateRule(id: Id, patch: ConnectionRulePatch): Promise<ConnectionRule> {
    return this.call((sql) => rules.updateRule(sql, requireId(id, 'rule'), patch));
  }

  deleteRule(id: Id): Promise<void> {
    return this.call((sql) => rules.deleteRule(sql, requireId(id, 'rule')));
  }

  moveRule(id: Id, position: number): Promise<ConnectionRule> {
    return this.call((sql) => rules.moveRule(sql, requireId(id, 'rule'), position));
  }

  seedRules(input: NewConnectionRule[]): Promise<boolean> {
    return this.call((sql) => rules.seedRules(sql, input));
  }

  rulesVersion(): Promise<number> {
    return this.call((sql) => rules.rulesVersion(sql));
  }

  // --- leases ---

  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.call((sql) => {
      checkLease(key, holder, ttlMs);
      return leases.acquireLease(sql, key, holder, ttlMs);
    });
  }

  releaseLease(key: string, holder: string): Promise<void> {
    return this.call((sql) => {
      checkLease(key, holder);
      leases.releaseLease(sql, key, holder);
    });
  }

  // --- progress marks: rows of the versions table named mark:NAME ---

  getProgressMark(name: string): Promise<number | null> {
    return this.call(
      (sql) =>
        sql.get<{ value: number }>('SELECT value FROM versions WHERE name = ?', `mark:${checkMarkName(name)}`)
          ?.value ?? null,
    );
  }

  setProgressMark(name: string, value: number | null): Promise<void> {
    return this.call((sql) => {
      const key = `mark:${checkMarkName(name)}`;
      if (checkMarkValue(value) === null) sql.run('DELETE FROM versions WHERE name = ?', key);
      else {
        sql.run(
          'INSERT INTO versions (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
          key,
          value,
        );
      }
    });
  }

  // --- the delivery history ---

  countDelivery(day: string, outcome: DeliveryOutcome, count = 1): Promise<void> {
    return this.call((sql) => {
      checkDeliveryCount(outcome, count);
      history.countDelivery(sql, checkDay(day), outcome, count);
    });
  }

  deliveryHistory(first: string, last: string): Promise<DeliveryDay[]> {
    return this.call((sql) => history.deliveryHistory(sql, checkDay(first), checkDay(last)));
  }

  // --- where an import from another IMAP server stands ---

  saveImportProgress(userId: Id, progress: ImportProgress): Promise<void> {
    return this.call((sql) => {
      const checked = checkImportProgress(progress);
      importProgress.saveImportProgress(sql, requireId(userId, 'user'), checked);
    });
  }

  listImportProgress(userId: Id, source?: string): Promise<ImportProgress[]> {
    const id = parseId(userId);
    return this.call((sql) => {
      const checked = source === undefined ? null : checkImportSource(source);
      return id === null ? [] : importProgress.listImportProgress(sql, id, checked);
    });
  }

  // --- the MTA-STS policy cache ---

  saveStsPolicy(domain: string, cached: CachedStsPolicy): Promise<void> {
    return this.call((sql) => {
      checkStsPolicy(cached);
      mtaSts.saveStsPolicy(sql, stsDomainOf(domain), cached);
    });
  }

  getStsPolicy(domain: string): Promise<CachedStsPolicy | null> {
    return this.call((sql) => mtaSts.getStsPolicy(sql, stsDomainOf(domain)));
  }

  // --- the spam filter ---

  listSpamEntries(userId: Id): Promise<SpamListEntry[]> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? [] : spam.listSpamEntries(sql, id)));
  }

  setSpamEntry(userId: Id, list: SpamListKind, pattern: string): Promise<SpamListEntry> {
    return this.call((sql) =>
      spam.setSpamEntry(sql, requireId(userId, 'user'), checkSpamList(list), pattern),
    );
  }

  removeSpamEntry(userId: Id, pattern: string): Promise<void> {
    return this.call((sql) => spam.removeSpamEntry(sql, requireId(userId, 'user'), pattern));
  }

  greylist(triplet: string, delayMs: number, expiryMs: number, now = new Date()): Promise<GreylistResult> {
    return this.call((sql) => {
      checkGreylist(triplet, delayMs, expiryMs);
      return spam.greylist(sql, triplet, delayMs, expiryMs, now.getTime());
    });
  }

  // --- Sieve scripts and memory ---

  listSieveScripts(userId: Id): Promise<SieveScriptRecord[]> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? [] : sieve.listSieveScripts(sql, id)));
  }

  getSieveScript(userId: Id, name: string): Promise<SieveScriptRecord | null> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? null : sieve.getSieveScript(sql, id, name)));
  }

  getActiveSieveScript(userId: Id): Promise<SieveScriptRecord | null> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? null : sieve.getActiveSieveScript(sql, id)));
  }

  putSieveScript(userId: Id, name: string, content: string): Promise<SieveScriptRecord> {
    return this.call((sql) =>
      sieve.putSieveScript(sql, requireId(userId, 'user'), checkSieveName(name), checkSieveContent(content)),
    );
  }

  activateSieveScript(userId: Id, name: string | null): Promise<void> {
    return this.call((sql) => sieve.activateSieveScript(sql, requireId(userId, 'user'), name));
  }

  deleteSieveScript(userId: Id, name: string): Promise<void> {
    return this.call((sql) => sieve.deleteSieveScript(sql, requireId(userId, 'user'), name));
  }

  renameSieveScript(userId: Id, from: string, to: string): Promise<void> {
    return this.call((sql) =>
      sieve.renameSieveScript(sql, requireId(userId, 'user'), from, checkSieveName(to)),
    );
  }

  claimSieveMemory(userId: Id, key: string, expiresAt: Date, now = new Date()): Promise<boolean> {
    return this.call((sql) =>
      sieve.claimSieveMemory(
        sql,
        requireId(userId, 'user'),
        checkSieveMemoryKey(key),
        expiresAt.getTime(),
        now.getTime(),
      ),
    );
  }

  hasSieveMemory(userId: Id, key: string, now = new Date()): Promise<boolean> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? false : sieve.hasSieveMemory(sql, id, key, now.getTime())));
  }

  listSieveMemory(userId: Id, now = new Date()): Promise<SieveMemoryEntry[]> {
    const id = parseId(userId);
    return this.call((sql) => (id === null ? [] : sieve.listSieveMemory(sql, id, now.getTime())));
  }

  // --- the outbound queue ---

  enqueueOutbound(message: NewOutboundMessage): Promise<OutboundMessage> {
    return this.call((sql) => outbound.enqueueOutbound(sql, message));
  }

  claimOutbound(
    holder: string,
    leaseMs: number,
    limit: number,
    now = new Date(),
  ): Promise<OutboundMessage[]> {
    return this.call((sql) => outbound.claimOutbound(sql, holder, leaseMs, limit, now.getTime()));
  }

  recordOutbound(id: string, holder: string, address: string, result: OutboundResult): Promise<boolean> {
    return this.call((sql) => outbound.recordOutbound(sql, id, holder, address, result));
  }

  renewOutbound(id: string, holder: string, leaseMs: number): Promise<boolean> {
    return this.call((sql) => outbound.renewOutbound(sql, id, holder, leaseMs));
  }

  releaseOutbound(id: string, holder: string): Promise<void> {
    return this.call((sql) => outbound.releaseOutbound(sql, id, holder));
  }

  readOutboundRaw(id: string): Promise<Buffer> {
    return this.call((sql) => outbound.readOutboundRaw(sql, id));
  }

  getOutbound(id: string): Promise<OutboundMessage | null> {
    return this.call((sql) => outbound.getOutbound(sql, id));
  }

  listOutbound(): Promise<OutboundMessage[]> {
    return this.call((sql) => outbound.listOutbound(sql));
  }

  retryOutbound(id: string): Promise<OutboundMessage> {
    return this.call((sql) => outbound.retryOutbound(sql, id));
  }

  deleteOutbound(id: string): Promise<void> {
    return this.call((sql) => outbound.deleteOutbound(sql, id));
  }

  // --- quota, health, engine specifics ---

  getQuota(userId: Id): Promise<Quota> {
    return this.call((sql) => {
      const user = requireUserRow(sql, requireId(userId, 'user'));
      return { usedBytes: user.used_bytes, limitBytes: user.quota_bytes };
    });
  }

  async health(): Promise<StoreHealth> {
    try {
      const head = await this.journalHead();
      return { ok: true, engine: this.engine, detail: `${this.file} (journal at ${head})` };
    } catch (error) {
      return {
        ok: false,
        engine: this.engine,
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  }

  stats(): Promise<SqliteStoreStats> {
    return this.call((sql) => ({
      users: count(sql, 'SELECT count(*) AS n FROM users'),
      mailboxes: count(sql, 'SELECT count(*) AS n FROM mailboxes'),
      messages: count(sql, 'SELECT count(*) AS n FROM messages'),
      blobs: count(sql, 'SELECT count(*) AS n FROM blobs'),
      blobBytes: count(sql, 'SELECT coalesce(sum(size), 0) AS n FROM blobs'),
      journalEntries: count(sql, 'SELECT count(*) AS n FROM journal'),
    }));
  }

  /** The connection settings that durability and sharing rely on (for tests and status pages). */
  settings(): Promise<{
    journalMode: string;
    synchronous: number;
    busyTimeoutMs: number;
    schemaVersion: number;
  }> {
    return this.call((sql) => ({
      journalMode: sql.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: sql.db.pragma('synchronous', { simple: true }) as number,
      busyTimeoutMs: sql.db.pragma('busy_timeout', { simple: true }) as number,
      schemaVersion: sql.db.pragma('user_version', { simple: true }) as number,
    }));
  }

  /**
   * Cross-checks the redundant bookkeeping (blob reference counts, users' used bytes, UID and
   * MODSEQ counters); returns the problems found, none when consistent. Reads every message row:
   * meant for tests and repair tools, not for the serving path.
   */
  checkIntegrity(): Promise<string[]> {
    return this.call((sql) => checkIntegrity(sql));
  }

  async close(): Promise<void> {
    if (this.sql.db.open) this.sql.db.close();
  }
}

export function openSqliteStore(dataDir: string, options?: SqliteStoreOptions): Promise<SqliteStore> {
  return SqliteStore.open(dataDir, options);
}

function appendInput(sql: Sql, raw: Buffer, options: AppendOptions): messages.AppendInput {
  if (!Buffer.isBuffer(raw)) throw new StoreError('INVALID', 'message must be a Buffer');
  const internalDate = options.internalDate ?? new Date();
  if (!(internalDate instanceof Date) || Number.isNaN(internalDate.getTime())) {
    throw new StoreError('INVALID', 'invalid internal date');
  }
  // New mail is stored with CRLF line ends (mime/line-ends.ts); imports keep their bytes.
  const blob = blobs.prepareBlob(sql, withCrlfLineEnds(raw));
  return { blob, flags: normalizeFlags(options.flags), internalDate };
}

function count(sql: Sql, source: string): number {
  return sql.get<{ n: number }>(source)!.n;
}

function checkIntegrity(sql: Sql): string[] {
  const problems: string[] = [];
  const refcounts = sql.all<{ hash: string; refcount: number; refs: number }>(
    `SELECT b.hash, b.refcount, (SELECT count(*) FROM messages m WHERE m.blob_hash = b.hash) AS refs
     FROM blobs b`,
  );
  for (const row of refcounts) {
    if (row.refcount !== row.refs)
      problems.push(`blob ${row.hash}: refcount ${row.refcount}, references ${row.refs}`);
  }
  const orphans = sql.all<{ hash: string }>(
    'SELECT DISTINCT blob_hash AS hash FROM messages WHERE blob_hash NOT IN (SELECT hash FROM blobs)',
  );
  for (const row of orphans) problems.push(`message references missing blob ${row.hash}`);
  const usage = sql.all<{ id: number; used: number; actual: number }>(
    `SELECT u.id, u.used_bytes AS used, (SELECT coalesce(sum(m.size), 0) FROM messages m
       JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = u.id) AS actual FROM users u`,
  );
  for (const row of usage) {
    if (row.used !== row.actual)
      problems.push(`user ${row.id}: used_bytes ${row.used}, messages ${row.actual}`);
  }
  const counters = sql.all<{
    path: string;
    uid_next: number;
    highest_modseq: number;
    max_uid: number;
    max_modseq: number;
  }>(
    `SELECT b.path, b.uid_next, b.highest_modseq, max(m.uid) AS max_uid, max(m.modseq) AS max_modseq
     FROM mailboxes b JOIN messages m ON m.mailbox_id = b.id GROUP BY b.id`,
  );
  for (const row of counters) {
    if (row.max_uid >= row.uid_next) problems.push(`mailbox ${row.path}: uid ${row.max_uid} >= uidNext`);
    if (row.max_modseq > row.highest_modseq) problems.push(`mailbox ${row.path}: modseq above highest`);
  }
  const totals = sql.all<{ path: string; kept: string; actual: string }>(
    `SELECT b.path,
       b.message_count || '/' || b.unseen_count || '/' || b.byte_count || '/' || b.deleted_count AS kept,
       (SELECT count(*) || '/' || coalesce(sum(m.seen = 0), 0) || '/' || coalesce(sum(m.size), 0)
         || '/' || coalesce(sum(m.deleted = 1), 0)
        FROM messages m WHERE m.mailbox_id = b.id) AS actual
     FROM mailboxes b`,
  );
  for (const row of totals) {
    if (row.kept !== row.actual)
      problems.push(`mailbox ${row.path}: counters ${row.kept}, messages ${row.actual}`);
  }
  return problems;
}

/** Translates driver errors: a busy or unreachable database is UNAVAILABLE (try again later). */
/** One message of importMessage(s), checked; a resumed migration re-sends what is there. */
function importOne(
  sql: Sql,
  mailboxId: number,
  message: ImportedMessage,
  raw: Buffer,
): 'imported' | 'exists' {
  const checked = checkImportedMessage(message);
  if (!Buffer.isBuffer(raw)) throw new StoreError('INVALID', 'message must be a Buffer');
  // Skip the hashing and indexing of what is already there.
  if (messages.getMessage(sql, mailboxId, checked.uid)) return 'exists';
  return imports.importMessage(sql, mailboxId, checked, blobs.prepareBlob(sql, raw));
}
