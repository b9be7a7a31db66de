/**
 * The MongoDB store engine: all mail in one MongoDB database (a replica set for redundancy, a
 * sharded cluster for scale), shared by any number of server processes, which see each other's
 * changes through the journal (journal.ts).
 *
 * Durability: every write is acknowledged by a majority of the replica set with its journal
 * flushed (w: 'majority', j: true), and reads use read concern 'majority', so an acknowledged
 * APPEND survives the loss of the primary and a reader never sees a write that could be rolled
 * back. On a single server both mean "on disk".
 *
 * Outages: the server selection timeout is short, so while the database is unreachable every call
 * fails within seconds with StoreError UNAVAILABLE (errors.ts); the driver reconnects by itself
 * when it returns.
 *
 * No transactions and no explicit sessions (a sharded cluster must not need them): each module
 * says how it stays consistent with single-document atomic updates. Change streams are not used:
 * the journal (polled, one query per poll for the users with sessions in this process) works on
 * every deployment, the test stand-in included.
 */
import { withCrlfLineEnds } from '../../mime/line-ends.ts';
import {
  MongoClient,
  type CommandFailedEvent,
  type CommandStartedEvent,
  type CommandSucceededEvent,
  type Document,
  type MongoClientOptions,
} from 'mongodb';
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
} from '../types.ts';
import * as accounts from './accounts.ts';
import * as blobs from './blobs.ts';
import * as domains from './domains.ts';
import { parseId, requireId } from '../ids.ts';
import { requireMailbox, requireUser, toMailbox } from './docs.ts';
import { translateError } from './errors.ts';
import * as imports from './imports.ts';
import * as journal from './journal.ts';
import * as leases from './leases.ts';
import * as mailboxes from './mailboxes.ts';
import * as messages from './messages.ts';
import * as metadata from './metadata.ts';
import * as urlauth from './urlauth.ts';
import * as rules from './rules.ts';
import { Collections, ensureSchema } from './schema.ts';
import * as outbound from './outbound.ts';
import * as recount from './recount.ts';
import { markForRecount } from './totals.ts';
import { probeTextSearch, textCandidates, type TextSearchSupport } from './text-search.ts';
import * as history from './history.ts';
import * as mtaSts from './mta-sts.ts';
import * as sieve from './sieve.ts';
import * as threadLinks from './thread-links.ts';
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
import type { NewOutboundMessage, OutboundMessage, OutboundResult } from '../outbound.ts';

/** The database used when the URI names none. */
export const DEFAULT_DATABASE = 'mallard';
/** How long a call waits for a reachable server before failing with UNAVAILABLE. */
export const SERVER_SELECTION_TIMEOUT_MS = 3000;
/** How often appends left unsettled by an outage are tried again. */
const SETTLE_EVERY_MS = 1000;
/** How often the janitor looks for mailboxes whose STATUS counters must be recounted (recount.ts). */
export const RECOUNT_EVERY_MS = 1000;
/** How long a connection may stay silent during an operation before it counts as broken. */
export const SOCKET_TIMEOUT_MS = 30_000;

export interface MongoStoreOptions {
  /** Prune journal entries older than this when opening; 0 keeps everything. */
  journalRetentionMs?: number;
  serverSelectionTimeoutMS?: number;
  /** Shown in the server's logs and currentOp. */
  appName?: string;
  /** How often the recount janitor runs (recount.ts); 0: never (tests that drive it themselves). */
  recountEveryMs?: number;
}

/** Engine-specific figures for tests and the admin panel. */
export interface MongoStoreStats {
  users: number;
  mailboxes: number;
  messages: number;
  blobs: number;
  blobBytes: number;
  chunks: number;
  journalEntries: number;
}

export class MongoStore implements Store {
  readonly engine = 'mongodb';
  /** The URI without credentials, for logs and health. */
  readonly location: string;
  private readonly client: MongoClient;
  private readonly collections: Collections;
  private readonly gaps = new journal.GapTracker();
  /** Appends that failed with their outcome unknown and still to be withdrawn (messages.ts). */
  private readonly unsettled = new Set<messages.UnsettledAppend>();
  private settler: NodeJS.Timeout | null = null;
  /** The recount janitor (recount.ts): its timer, and the round running, if any. */
  private janitor: NodeJS.Timeout | null = null;
  private janitorRound: Promise<unknown> | null = null;
  private closed = false;
  /** Whether SEARCH BODY/TEXT can use the text index here (text-search.ts), decided at open. */
  private textSearch: TextSearchSupport = { mode: 'scan', reason: 'not probed' };

  private constructor(client: MongoClient, databaseName: string, location: string) {
    this.client = client;
    this.collections = new Collections(client.db(databaseName));
    this.location = location;
  }

  static async open(uri: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
    if (typeof uri !== 'string' || uri.trim() === '') {
      throw new StoreError('INVALID', 'store.mongodb.uri is empty: set it to a mongodb:// URI');
    }
    const clientOptions: MongoClientOptions = {
      // Durability first: see the comment at the top.
      writeConcern: { w: 'majority', j: true },
      readConcern: { level: 'majority' },
      readPreference: 'primary',
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? SERVER_SELECTION_TIMEOUT_MS,
      connectTimeoutMS: options.serverSelectionTimeoutMS ?? SERVER_SELECTION_TIMEOUT_MS,
      // A server that stops answering without closing the connection (a network partition) must
      // not hold a call forever; no single operation of the engine takes this long.
      socketTimeoutMS: SOCKET_TIMEOUT_MS,
      appName: options.appName ?? 'mallard',
      // Bodies come back as Buffers, undefined fields are left out rather than stored as null.
      promoteBuffers: true,
      ignoreUndefined: true,
      // Command events for onCommand (cost measurements); emitted only to listeners there are.
      monitorCommands: true,
    };
    let client: MongoClient;
    try {
      client = new MongoClient(uri, clientOptions);
    } catch (error) {
      throw new StoreError('INVALID', `store.mongodb.uri: ${(error as Error).message}`);
    }
    const store = new MongoStore(client, databaseNameOf(uri), redact(uri));
    try {
      await client.connect();
      await ensureSchema(store.collections);
      await outbound.ensureOutboundIndexes(store.collections);
      store.textSearch = await probeTextSearch(store.collections);
      await spam.ensureSpamIndexes(store.collections);
      await sieve.ensureSieveIndexes(store.collections);
      await threadLinks.ensureThreadLinkIndexes(store.collections);
      await threadLinks.backfillThreadIds(store.collections);
      const retention = options.journalRetentionMs ?? journal.JOURNAL_RETENTION_MS;
      if (retention > 0) await journal.pruneJournal(store.collections, new Date(Date.now() - retention));
      store.startJanitor(options.recountEveryMs ?? RECOUNT_EVERY_MS);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw translateError(error);
    }
    return store;
  }

  /**
   * Starts the recount janitor: once a second, one query for marked mailboxes (none after a normal
   * day) and a recount of each (recount.ts). Failures (an outage) are left for the next round.
   */
  private startJanitor(everyMs: number): void {
    if (everyMs <= 0) return;
    this.janitor = setInterval(() => {
      if (this.janitorRound || this.closed) return;
      this.janitorRound = recount
        .runRecounts(this.collections, this.gaps)
        .catch(() => undefined)
        .finally(() => (this.janitorRound = null));
    }, everyMs);
    this.janitor.unref();
  }

  /**
   * Marks a mailbox's STATUS counters for a recount by the janitor (not in the contract: tests and
   * repair tools). The counters stay right meanwhile if they were; see recount.ts.
   */
  requestRecount(mailboxId: Id): Promise<void> {
    return this.call(async (c) => {
      const mailbox = await c.mailboxes.findOne({ _id: requireId(mailboxId, 'mailbox') });
      if (mailbox) await markForRecount(c, [mailbox]);
    });
  }

  /**
   * Runs one janitor round now (not in the contract: tests and repair tools); returns how many
   * marked mailboxes could not be recounted safely yet.
   */
  recountNow(): Promise<number> {
    return this.call((c) => recount.runRecounts(c, this.gaps));
  }

  /** How many mailboxes wait for a recount (tests, health). */
  pendingRecounts(): Promise<number> {
    return this.call((c) => c.recounts.countDocuments({}));
  }

  /** Runs one operation, translating driver failures into StoreErrors. */
  private async call<T>(fn: (c: Collections) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('UNAVAILABLE', 'the store is closed');
    try {
      return await fn(this.collections);
    } catch (error) {
      throw translateError(error);
    }
  }

  // --- users ---

  createUser(user: NewUser): Promise<User> {
    return this.call((c) => accounts.createUser(c, user));
  }

  getUser(id: Id): Promise<User | null> {
    const userId = parseId(id);
    return this.call(async (c) => (userId === null ? null : accounts.getUser(c, userId)));
  }

  getUserByUsername(username: string): Promise<User | null> {
    return this.call((c) => accounts.getUserByUsername(c, username));
  }

  listUsers(query?: UserQuery): Promise<{ users: User[]; total: number }> {
    return this.call((c) => accounts.listUsers(c, query));
  }

  updateUser(id: Id, patch: UserPatch): Promise<User> {
    return this.call((c) => accounts.updateUser(c, requireId(id, 'user'), patch));
  }

  setPasswordHash(id: Id, passwordHash: string): Promise<void> {
    return this.call((c) => accounts.setPasswordHash(c, requireId(id, 'user'), passwordHash));
  }

  deleteUser(id: Id): Promise<void> {
    return this.call((c) => accounts.deleteUser(c, requireId(id, 'user')));
  }

  getCredentials(username: string): Promise<Credentials | null> {
    return this.call((c) => accounts.getCredentials(c, username));
  }

  // --- addresses ---

  // --- domains ---

  listDomains(): Promise<Domain[]> {
    return this.call((c) => domains.listDomains(c));
  }

  getDomain(name: string): Promise<Domain | null> {
    return this.call((c) => domains.getDomain(c, name));
  }

  createDomain(domain: { name: string }): Promise<Domain> {
    return this.call((c) => domains.createDomain(c, domain));
  }

  updateDomain(name: string, patch: DomainPatch): Promise<Domain> {
    return this.call((c) => domains.updateDomain(c, name, patch));
  }

  domainUsage(name: string): Promise<DomainUsage> {
    return this.call((c) => domains.domainUsage(c, name));
  }

  deleteDomain(name: string): Promise<void> {
    return this.call((c) => domains.deleteDomain(c, name));
  }

  addAddress(userId: Id, address: string): Promise<Address> {
    return this.call((c) => accounts.addAddress(c, requireId(userId, 'user'), address));
  }

  removeAddress(address: string): Promise<void> {
    return this.call((c) => accounts.removeAddress(c, address));
  }

  listAddresses(userId: Id): Promise<Address[]> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? [] : accounts.listAddresses(c, id)));
  }

  resolveRecipient(address: string): Promise<User | null> {
    return this.call((c) => accounts.resolveRecipient(c, address));
  }

  // --- app passwords ---

  createAppPassword(userId: Id, label: string, hash: string): Promise<AppPassword> {
    return this.call((c) => accounts.createAppPassword(c, requireId(userId, 'user'), label, hash));
  }

  listAppPasswords(userId: Id): Promise<AppPassword[]> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? [] : accounts.listAppPasswords(c, id)));
  }

  deleteAppPassword(userId: Id, id: Id): Promise<void> {
    return this.call((c) =>
      accounts.deleteAppPassword(c, requireId(userId, 'user'), requireId(id, 'app password')),
    );
  }

  touchAppPassword(id: Id): Promise<void> {
    const passwordId = parseId(id);
    return this.call(async (c) => {
      if (passwordId !== null) await accounts.touchAppPassword(c, passwordId);
    });
  }

  // --- mailboxes ---

  listMailboxes(userId: Id): Promise<Mailbox[]> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? [] : mailboxes.listMailboxes(c, id)));
  }

  getMailbox(userId: Id, mailboxPath: string): Promise<Mailbox | null> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? null : mailboxes.getMailbox(c, id, mailboxPath)));
  }

  getMailboxById(mailboxId: Id): Promise<Mailbox | null> {
    const id = parseId(mailboxId);
    return this.call(async (c) => {
      const doc = id === null ? null : await c.mailboxes.findOne({ _id: id });
      return doc ? toMailbox(doc) : null;
    });
  }

  createMailbox(userId: Id, mailboxPath: string, specialUse?: SpecialUse | null): Promise<Mailbox> {
    return this.call((c) => mailboxes.createMailbox(c, requireId(userId, 'user'), mailboxPath, specialUse));
  }

  deleteMailbox(userId: Id, mailboxPath: string): Promise<void> {
    return this.call((c) => mailboxes.deleteMailbox(c, requireId(userId, 'user'), mailboxPath));
  }

  renameMailbox(userId: Id, from: string, to: string): Promise<void> {
    return this.call((c) => mailboxes.renameMailbox(c, requireId(userId, 'user'), from, to));
  }

  listSubscriptions(userId: Id): Promise<string[]> {
    const id = parseId(userId);
    return this.call((c) => (id === null ? Promise.resolve([]) : mailboxes.listSubscriptions(c, id)));
  }

  urlAuthKey(mailboxId: Id, create: boolean): Promise<Buffer | null> {
    return this.call((c) => urlauth.urlAuthKey(c, requireId(mailboxId, 'mailbox'), create));
  }

  resetUrlAuthKeys(userId: Id, mailboxId: Id | null): Promise<void> {
    return this.call((c) =>
      urlauth.resetUrlAuthKeys(
        c,
        requireId(userId, 'user'),
        mailboxId === null ? null : requireId(mailboxId, 'mailbox'),
      ),
    );
  }

  getMetadata(userId: Id, mailboxPath: string): Promise<MetadataEntry[]> {
    return this.call((c) => metadata.getMetadata(c, requireId(userId, 'user'), mailboxPath));
  }

  setMetadata(
    userId: Id,
    mailboxPath: string,
    changes: readonly MetadataChange[],
    maxEntries: number,
  ): Promise<void> {
    return this.call((c) =>
      metadata.setMetadata(c, requireId(userId, 'user'), mailboxPath, changes, maxEntries),
    );
  }

  setSubscribed(userId: Id, mailboxPath: string, subscribed: boolean): Promise<void> {
    return this.call((c) => mailboxes.setSubscribed(c, requireId(userId, 'user'), mailboxPath, subscribed));
  }

  mailboxCounts(mailboxId: Id): Promise<MailboxCounts> {
    return this.call((c) => mailboxes.mailboxCounts(c, requireId(mailboxId, 'mailbox')));
  }

  mailboxStatus(userId: Id, mailboxPath: string): Promise<MailboxStatus | null> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? null : mailboxes.mailboxStatus(c, id, mailboxPath)));
  }

  claimRecent(mailboxId: Id): Promise<{ previous: number; current: number }> {
    return this.call((c) => mailboxes.claimRecent(c, requireId(mailboxId, 'mailbox')));
  }

  // --- messages ---

  append(mailboxId: Id, raw: Buffer, options: AppendOptions = {}): Promise<AppendResult> {
    return this.settling(
      this.call((c) =>
        messages.appendMessage(c, requireId(mailboxId, 'mailbox'), appendInput(raw, options), this.unsettled),
      ),
    );
  }

  /**
   * Without transactions: the message must exist, the new one is appended, then the old one
   * removed; if someone else removed it first, the new one is taken back (NONEXISTENT).
   */
  replaceMessage(
    mailboxId: Id,
    uid: number,
    targetMailboxId: Id,
    raw: Buffer,
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    return this.settling(
      this.call(async (c) => {
        const source = requireId(mailboxId, 'mailbox');
        const target = requireId(targetMailboxId, 'mailbox');
        const input = appendInput(raw, options);
        if (!(await messages.getMessage(c, source, uid))) {
          throw new StoreError('NONEXISTENT', `no message ${uid} to replace`);
        }
        const appended = await messages.appendMessage(c, target, input, this.unsettled);
        if ((await messages.deleteMessages(c, source, [uid])).length === 0) {
          await messages.deleteMessages(c, target, [appended.uid]);
          throw new StoreError('NONEXISTENT', `no message ${uid} to replace`);
        }
        return appended;
      }),
    );
  }

  /** Without transactions, an import's record follows the messages (see AppendManyOptions). */
  appendMany(
    mailboxId: Id,
    items: readonly AppendItem[],
    options: AppendManyOptions = {},
  ): Promise<AppendResult[]> {
    return this.call(async (c) => {
      const id = requireId(mailboxId, 'mailbox');
      const record = options.importProgress ? checkImportProgress(options.importProgress) : null;
      const results = await messages.appendMessages(
        c,
        id,
        items.map((item) => appendInput(item.raw, item.options ?? {})),
      );
      if (record) await importProgress.saveImportProgress(c, (await requireMailbox(c, id)).user, record);
      return results;
    });
  }

  /**
   * Starts settling, once a second until done, the appends that failed while the database was
   * away and could not be withdrawn before their client was answered.
   */
  private settling<T>(operation: Promise<T>): Promise<T> {
    return operation.finally(() => {
      if (this.unsettled.size === 0 || this.settler || this.closed) return;
      this.settler = setInterval(() => void this.settle(), SETTLE_EVERY_MS);
      this.settler.unref();
    });
  }

  private async settle(): Promise<void> {
    for (const append of [...this.unsettled]) {
      if (await messages.withdrawAppend(append, 0)) this.unsettled.delete(append);
    }
    if (this.unsettled.size === 0 && this.settler) {
      clearInterval(this.settler);
      this.settler = null;
    }
  }

  /** Appends whose outcome is still unknown (tests, health). */
  get unsettledAppends(): number {
    return this.unsettled.size;
  }

  deliver(recipient: string, raw: Buffer, options: AppendOptions = {}): Promise<DeliveryResult> {
    return this.settling(
      this.call(async (c) => {
        const input = appendInput(raw, options);
        const user = await accounts.resolveRecipient(c, recipient);
        if (!user) throw new StoreError('NONEXISTENT', `no recipient ${recipient}`);
        if (user.disabled) throw new StoreError('CANNOT', `user ${user.username} is disabled`);
        const inbox = await mailboxes.mailboxByPath(c, Number(user.id), 'INBOX');
        if (!inbox) throw new StoreError('NONEXISTENT', `user ${user.username} has no INBOX`);
        const known = {
          mailbox: inbox,
          user: { username: user.username, quotaBytes: user.quotaBytes, usedBytes: user.usedBytes },
        };
        const result = await messages.appendMessage(c, inbox._id, input, this.unsettled, known);
        return { ...result, userId: user.id };
      }),
    );
  }

  listFlags(mailboxId: Id, uidBelow: number): Promise<FlagListing> {
    return this.call((c) => messages.listFlags(c, requireId(mailboxId, 'mailbox'), uidBelow));
  }

  listMessages(
    mailboxId: Id,
    filter?: { uids?: UidRange[]; changedSince?: number },
  ): Promise<MessageSummary[]> {
    return this.call((c) => messages.listMessages(c, requireId(mailboxId, 'mailbox'), filter));
  }

  getMessage(mailboxId: Id, uid: number): Promise<MessageSummary | null> {
    const id = parseId(mailboxId);
    return this.call(async (c) => (id === null ? null : messages.getMessage(c, id, uid)));
  }

  readBlob(blobId: string): Promise<Buffer> {
    return this.call((c) => blobs.readBlob(c, blobId));
  }

  readBlobs(blobIds: readonly string[]): Promise<Map<string, Buffer>> {
    return this.call((c) => blobs.readBlobs(c, blobIds));
  }

  readBlobHeads(heads: ReadonlyArray<{ blobId: string; bytes: number }>): Promise<Map<string, Buffer>> {
    return this.call((c) => blobs.readBlobHeads(c, heads));
  }

  readMimeIndex(blobId: string): Promise<MimeIndex> {
    return this.call((c) => blobs.readMimeIndex(c, blobId));
  }

  readPreviews(blobIds: readonly string[]): Promise<Map<string, string>> {
    return this.call((c) => blobs.readPreviews(c, blobIds));
  }

  readMimeIndexes(blobIds: readonly string[]): Promise<Map<string, MimeIndex>> {
    return this.call((c) => blobs.readMimeIndexes(c, blobIds));
  }

  textCandidates(needle: string): Promise<ReadonlySet<string> | null> {
    if (this.textSearch.mode !== 'index') return Promise.resolve(null);
    return this.call((c) => textCandidates(c, needle));
  }

  /** Whether SEARCH BODY/TEXT use the text index or read every body, and why (tests, health). */
  get textSearchSupport(): TextSearchSupport {
    return this.textSearch;
  }

  /**
   * Calls `listener` with the name of every command the driver sends from now on (its command
   * monitoring): round trips are the machine-independent cost measure of the tests and the bench.
   * Returns the function that stops listening.
   */
  onCommand(listener: (commandName: string) => void): () => void {
    const handler = (event: CommandStartedEvent) => listener(event.commandName);
    this.client.on('commandStarted', handler);
    return () => void this.client.off('commandStarted', handler);
  }

  /**
   * Calls `listener` with every command the driver sends from now on and its reply, once the reply
   * came (failed commands are left out): what a test needs to see which documents were read.
   * Returns the function that stops listening.
   */
  onCommandReply(listener: (command: Document, reply: Document) => void): () => void {
    const started = new Map<number, Document>();
    const onStarted = (event: CommandStartedEvent) => void started.set(event.requestId, event.command);
    const onSucceeded = (event: CommandSucceededEvent) => {
      const command = started.get(event.requestId);
      started.delete(event.requestId);
      if (command) listener(command, event.reply as Document);
    };
    const onFailed = (event: CommandFailedEvent) => void started.delete(event.requestId);
    this.client.on('commandStarted', onStarted);
    this.client.on('commandSucceeded', onSucceeded);
    this.client.on('commandFailed', onFailed);
    return () => {
      this.client.off('commandStarted', onStarted);
      this.client.off('commandSucceeded', onSucceeded);
      this.client.off('commandFailed', onFailed);
    };
  }

  storeFlags(
    mailboxId: Id,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    unchangedSince?: number,
  ): Promise<StoreFlagsResult> {
    return this.call((c) =>
      messages.storeFlags(
        c,
        requireId(mailboxId, 'mailbox'),
        uids,
        operation,
        normalizeFlags(flags),
        unchangedSince,
      ),
    );
  }

  copyMessages(mailboxId: Id, uids: number[], targetMailboxId: Id): Promise<CopyResult> {
    return this.call((c) =>
      messages.copyMessages(
        c,
        requireId(mailboxId, 'mailbox'),
        uids,
        requireId(targetMailboxId, 'mailbox'),
        false,
      ),
    );
  }

  moveMessages(mailboxId: Id, uids: number[], targetMailboxId: Id): Promise<CopyResult> {
    return this.call((c) =>
      messages.copyMessages(
        c,
        requireId(mailboxId, 'mailbox'),
        uids,
        requireId(targetMailboxId, 'mailbox'),
        true,
      ),
    );
  }

  expunge(mailboxId: Id, uids?: number[]): Promise<number[]> {
    return this.call((c) => messages.expunge(c, requireId(mailboxId, 'mailbox'), uids));
  }

  deleteMessages(mailboxId: Id, uids: number[]): Promise<number[]> {
    return this.call((c) => messages.deleteMessages(c, requireId(mailboxId, 'mailbox'), uids));
  }

  listKeywords(mailboxId: Id): Promise<string[]> {
    return this.call((c) => messages.listKeywords(c, requireId(mailboxId, 'mailbox')));
  }

  expungedSince(mailboxId: Id, modseq: number, uids?: UidRange[]): Promise<number[] | null> {
    return this.call((c) => messages.expungedSince(c, requireId(mailboxId, 'mailbox'), modseq, uids));
  }

  // --- migration ---

  importMailbox(userId: Id, mailbox: ImportedMailbox): Promise<Mailbox> {
    return this.call((c) => imports.importMailbox(c, requireId(userId, 'user'), mailbox));
  }

  importMessage(mailboxId: Id, message: ImportedMessage, raw: Buffer): Promise<'imported' | 'exists'> {
    return this.call((c) => imports.importMessage(c, requireId(mailboxId, 'mailbox'), message, raw));
  }

  /** A batch in a few commands whatever its size (imports.ts says how it stays safe against a crash). */
  importMessages(mailboxId: Id, items: readonly ImportItem[]): Promise<Array<'imported' | 'exists'>> {
    return this.call((c) => imports.importMessages(c, requireId(mailboxId, 'mailbox'), items));
  }

  // --- journal ---

  journalHead(userId: Id): Promise<number> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? 0 : journal.journalHead(c, this.gaps, id)));
  }

  readJournal(after: ReadonlyMap<Id, number>, limit?: number): Promise<JournalEntry[]> {
    return this.call((c) => journal.readJournal(c, this.gaps, after, limit));
  }

  /** Deletes journal entries older than `before` (not in the contract); returns how many. */
  pruneJournal(before: Date): Promise<number> {
    return this.call((c) => journal.pruneJournal(c, before));
  }

  // --- connection rules ---

  listRules(): Promise<ConnectionRule[]> {
    return this.call((c) => rules.listRules(c));
  }

  createRule(input: NewConnectionRule): Promise<ConnectionRule> {
    return this.call((c) => rules.createRule(c, input));
  }

  updateRule(id: Id, patch: ConnectionRulePatch): Promise<ConnectionRule> {
    return this.call((c) => rules.updateRule(c, requireId(id, 'rule'), patch));
  }

  deleteRule(id: Id): Promise<void> {
    return this.call((c) => rules.deleteRule(c, requireId(id, 'rule')));
  }

  moveRule(id: Id, position: number): Promise<ConnectionRule> {
    return this.call((c) => rules.moveRule(c, requireId(id, 'rule'), position));
  }

  seedRules(input: NewConnectionRule[]): Promise<boolean> {
    return this.call((c) => rules.seedRules(c, input));
  }

  rulesVersion(): Promise<number> {
    return this.call((c) => rules.rulesVersion(c));
  }

  // --- the outbound queue ---

  enqueueOutbound(message: NewOutboundMessage): Promise<OutboundMessage> {
    return this.call((c) => outbound.enqueueOutbound(c, message));
  }

  claimOutbound(
    holder: string,
    leaseMs: number,
    limit: number,
    now = new Date(),
  ): Promise<OutboundMessage[]> {
    return this.call((c) => outbound.claimOutbound(c, holder, leaseMs, limit, now));
  }

  recordOutbound(id: string, holder: string, address: string, result: OutboundResult): Promise<boolean> {
    return this.call((c) => outbound.recordOutbound(c, id, holder, address, result));
  }

  renewOutbound(id: string, holder: string, leaseMs: number): Promise<boolean> {
    return this.call((c) => outbound.renewOutbound(c, id, holder, leaseMs));
  }

  releaseOutbound(id: string, holder: string): Promise<void> {
    return this.call((c) => outbound.releaseOutbound(c, id, holder));
  }

  readOutboundRaw(id: string): Promise<Buffer> {
    return this.call((c) => outbound.readOutboundRaw(c, id));
  }

  getOutbound(id: string): Promise<OutboundMessage | null> {
    return this.call((c) => outbound.getOutbound(c, id));
  }

  listOutbound(): Promise<OutboundMessage[]> {
    return this.call((c) => outbound.listOutbound(c));
  }

  retryOutbound(id: string): Promise<OutboundMessage> {
    return this.call((c) => outbound.retryOutbound(c, id));
  }

  deleteOutbound(id: string): Promise<void> {
    return this.call((c) => outbound.deleteOutbound(c, id));
  }

  // --- the delivery history ---

  countDelivery(day: string, outcome: DeliveryOutcome, count = 1): Promise<void> {
    return this.call(async (c) => {
      checkDeliveryCount(outcome, count);
      await history.countDelivery(c, checkDay(day), outcome, count);
    });
  }

  deliveryHistory(first: string, last: string): Promise<DeliveryDay[]> {
    return this.call(async (c) => history.deliveryHistory(c, checkDay(first), checkDay(last)));
  }

  // --- where an import from another IMAP server stands ---

  saveImportProgress(userId: Id, progress: ImportProgress): Promise<void> {
    return this.call(async (c) => {
      const checked = checkImportProgress(progress);
      await importProgress.saveImportProgress(c, requireId(userId, 'user'), checked);
    });
  }

  listImportProgress(userId: Id, source?: string): Promise<ImportProgress[]> {
    const id = parseId(userId);
    return this.call(async (c) => {
      const checked = source === undefined ? null : checkImportSource(source);
      return id === null ? [] : importProgress.listImportProgress(c, id, checked);
    });
  }

  // --- the MTA-STS policy cache ---

  saveStsPolicy(domain: string, cached: CachedStsPolicy): Promise<void> {
    return this.call(async (c) => {
      checkStsPolicy(cached);
      await mtaSts.saveStsPolicy(c, stsDomainOf(domain), cached);
    });
  }

  getStsPolicy(domain: string): Promise<CachedStsPolicy | null> {
    return this.call(async (c) => mtaSts.getStsPolicy(c, stsDomainOf(domain)));
  }

  // --- the spam filter ---

  listSpamEntries(userId: Id): Promise<SpamListEntry[]> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? [] : spam.listSpamEntries(c, id)));
  }

  setSpamEntry(userId: Id, list: SpamListKind, pattern: string): Promise<SpamListEntry> {
    return this.call((c) => spam.setSpamEntry(c, requireId(userId, 'user'), checkSpamList(list), pattern));
  }

  removeSpamEntry(userId: Id, pattern: string): Promise<void> {
    return this.call((c) => spam.removeSpamEntry(c, requireId(userId, 'user'), pattern));
  }

  greylist(triplet: string, delayMs: number, expiryMs: number, now = new Date()): Promise<GreylistResult> {
    return this.call(async (c) => {
      checkGreylist(triplet, delayMs, expiryMs);
      return spam.greylist(c, triplet, delayMs, expiryMs, now);
    });
  }

  // --- Sieve scripts and memory ---

  listSieveScripts(userId: Id): Promise<SieveScriptRecord[]> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? [] : sieve.listSieveScripts(c, id)));
  }

  getSieveScript(userId: Id, name: string): Promise<SieveScriptRecord | null> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? null : sieve.getSieveScript(c, id, name)));
  }

  getActiveSieveScript(userId: Id): Promise<SieveScriptRecord | null> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? null : sieve.getActiveSieveScript(c, id)));
  }

  putSieveScript(userId: Id, name: string, content: string): Promise<SieveScriptRecord> {
    return this.call((c) =>
      sieve.putSieveScript(c, requireId(userId, 'user'), checkSieveName(name), checkSieveContent(content)),
    );
  }

  activateSieveScript(userId: Id, name: string | null): Promise<void> {
    return this.call((c) => sieve.activateSieveScript(c, requireId(userId, 'user'), name));
  }

  deleteSieveScript(userId: Id, name: string): Promise<void> {
    return this.call((c) => sieve.deleteSieveScript(c, requireId(userId, 'user'), name));
  }

  renameSieveScript(userId: Id, from: string, to: string): Promise<void> {
    return this.call((c) => sieve.renameSieveScript(c, requireId(userId, 'user'), from, checkSieveName(to)));
  }

  claimSieveMemory(userId: Id, key: string, expiresAt: Date, now = new Date()): Promise<boolean> {
    return this.call((c) =>
      sieve.claimSieveMemory(c, requireId(userId, 'user'), checkSieveMemoryKey(key), expiresAt, now),
    );
  }

  hasSieveMemory(userId: Id, key: string, now = new Date()): Promise<boolean> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? false : sieve.hasSieveMemory(c, id, key, now)));
  }

  listSieveMemory(userId: Id, now = new Date()): Promise<SieveMemoryEntry[]> {
    const id = parseId(userId);
    return this.call(async (c) => (id === null ? [] : sieve.listSieveMemory(c, id, now)));
  }

  // --- leases ---

  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.call(async (c) => {
      checkLease(key, holder, ttlMs);
      return leases.acquireLease(c, key, holder, ttlMs);
    });
  }

  releaseLease(key: string, holder: string): Promise<void> {
    return this.call(async (c) => {
      checkLease(key, holder);
      await leases.releaseLease(c, key, holder);
    });
  }

  // --- progress marks: documents of the meta collection named mark:NAME ---

  getProgressMark(name: string): Promise<number | null> {
    return this.call(
      async (c) => (await c.meta.findOne({ _id: `mark:${checkMarkName(name)}` }))?.version ?? null,
    );
  }

  setProgressMark(name: string, value: number | null): Promise<void> {
    return this.call(async (c) => {
      const _id = `mark:${checkMarkName(name)}`;
      if (checkMarkValue(value) === null) await c.meta.deleteOne({ _id });
      else await c.meta.updateOne({ _id }, { $set: { version: value! } }, { upsert: true });
    });
  }

  // --- quota, health, engine specifics ---

  getQuota(userId: Id): Promise<Quota> {
    return this.call(async (c) => {
      const user = await requireUser(c, requireId(userId, 'user'));
      return { usedBytes: user.usedBytes, limitBytes: user.quotaBytes };
    });
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.call((c) => c.db.command({ ping: 1 }));
      const text = this.textSearch.mode === 'index' ? 'text index' : 'reading bodies';
      return {
        ok: true,
        engine: this.engine,
        detail: `${this.location} (journal polled per user; SEARCH BODY/TEXT by ${text})`,
      };
    } catch (error) {
      return {
        ok: false,
        engine: this.engine,
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  }

  stats(): Promise<MongoStoreStats> {
    return this.call(async (c) => {
      const [blobBytes] = await c.blobs
        .aggregate<{ bytes: number }>([{ $group: { _id: null, bytes: { $sum: '$size' } } }])
        .toArray();
      return {
        users: await c.users.countDocuments({}),
        mailboxes: await c.mailboxes.countDocuments({}),
        messages: await c.messages.countDocuments({}),
        blobs: await c.blobs.countDocuments({}),
        blobBytes: blobBytes?.bytes ?? 0,
        chunks: await c.chunks.countDocuments({}),
        journalEntries: await c.journal.countDocuments({}),
      };
    });
  }

  /**
   * Cross-checks the redundant bookkeeping (blob reference counts, users' used bytes, UID and
   * MODSEQ counters); returns the problems found, none when consistent. Reads every message:
   * meant for tests and repair tools, not for the serving path.
   *
   * A process killed in the middle of a write can leave a count too high (bytes charged or a body
   * referenced for a message that was never inserted): space leaks, nothing is lost. `allowLeaks`
   * leaves those out and reports only what would be damage (a count too low, a missing body).
   */
  checkIntegrity(options: { allowLeaks?: boolean } = {}): Promise<string[]> {
    return this.call((c) => checkIntegrity(c, options.allowLeaks ?? false));
  }

  /** The connection settings durability and outage handling rely on (for tests and status pages). */
  settings(): { writeConcern: unknown; readConcern: unknown; serverSelectionTimeoutMS: number } {
    const options = this.client.options;
    return {
      writeConcern: { w: options.writeConcern?.w, j: options.writeConcern?.journal },
      readConcern: { level: options.readConcern?.level },
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS,
    };
  }

  /** The database this store uses (tests, the db commands). */
  get databaseName(): string {
    return this.collections.db.databaseName;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.settler) clearInterval(this.settler);
    if (this.janitor) clearInterval(this.janitor);
    await this.janitorRound;
    await this.client.close();
  }
}

export function openMongoStore(uri: string, options?: MongoStoreOptions): Promise<MongoStore> {
  return MongoStore.open(uri, options);
}

function appendInput(raw: Buffer, options: AppendOptions): messages.AppendInput {
  if (!Buffer.isBuffer(raw)) throw new StoreError('INVALID', 'message must be a Buffer');
  const internalDate = options.internalDate ?? new Date();
  if (!(internalDate instanceof Date) || Number.isNaN(internalDate.getTime())) {
    throw new StoreError('INVALID', 'invalid internal date');
  }
  // New mail is stored with CRLF line ends (mime/line-ends.ts); imports keep their bytes.
  const blob = blobs.prepareBlob(withCrlfLineEnds(raw));
  return { blob, flags: normalizeFlags(options.flags), internalDate };
}

/** The database named in the URI's path, or DEFAULT_DATABASE. */
export function databaseNameOf(uri: string): string {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(uri);
  const name = match?.[1] ? decodeURIComponent(match[1]) : '';
  return name === '' ? DEFAULT_DATABASE : name;
}

/** The URI without user name and password. */
export function redact(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/)[^@/]*@/, '$1');
}

async function checkIntegrity(c: Collections, allowLeaks: boolean): Promise<string[]> {
  const problems: string[] = [];
  const messageDocs = await c.messages
    .find({}, { projection: { _id: 0, mailbox: 1, uid: 1, modseq: 1, size: 1, blob: 1 } })
    .toArray();
  const refs = new Map<string, number>();
  for (const doc of messageDocs) refs.set(doc.blob, (refs.get(doc.blob) ?? 0) + 1);
  for (const blob of await c.blobs.find({}, { projection: { _id: 1, refs: 1 } }).toArray()) {
    const references = refs.get(blob._id) ?? 0;
    if (blob.refs < references || (blob.refs > references && !allowLeaks)) {
      problems.push(`blob ${blob._id}: refcount ${blob.refs}, references ${refs.get(blob._id) ?? 0}`);
    }
    refs.delete(blob._id);
  }
  for (const hash of refs.keys()) problems.push(`message references missing blob ${hash}`);
  const allMailboxes = await c.mailboxes.find({}).toArray();
  const owner = new Map(allMailboxes.map((mailbox) => [mailbox._id, mailbox]));
  const used = new Map<number, number>();
  const highest = new Map<number, { uid: number; modseq: number }>();
  for (const doc of messageDocs) {
    const mailbox = owner.get(doc.mailbox);
    if (!mailbox) {
      problems.push(`message ${doc.mailbox}/${doc.uid} in a missing mailbox`);
      continue;
    }
    used.set(mailbox.user, (used.get(mailbox.user) ?? 0) + doc.size);
    const top = highest.get(doc.mailbox) ?? { uid: 0, modseq: 0 };
    highest.set(doc.mailbox, { uid: Math.max(top.uid, doc.uid), modseq: Math.max(top.modseq, doc.modseq) });
  }
  for (const user of await c.users.find({}, { projection: { _id: 1, usedBytes: 1 } }).toArray()) {
    const actual = used.get(user._id) ?? 0;
    if (user.usedBytes < actual || (user.usedBytes > actual && !allowLeaks)) {
      problems.push(`user ${user._id}: usedBytes ${user.usedBytes}, messages ${used.get(user._id) ?? 0}`);
    }
  }
  const counted = new Map<number, { messages: number; unseen: number; bytes: number; deleted: number }>();
  for (const doc of await c.messages
    .find({}, { projection: { _id: 0, mailbox: 1, seen: 1, size: 1, deleted: 1 } })
    .toArray()) {
    const totals = counted.get(doc.mailbox) ?? { messages: 0, unseen: 0, bytes: 0, deleted: 0 };
    totals.messages++;
    if (!doc.seen) totals.unseen++;
    totals.bytes += doc.size;
    if (doc.deleted) totals.deleted++;
    counted.set(doc.mailbox, totals);
  }
  for (const mailbox of allMailboxes) {
    if (mailbox.messageCount === undefined) continue;
    const actual = counted.get(mailbox._id) ?? { messages: 0, unseen: 0, bytes: 0, deleted: 0 };
    const kept = {
      messages: mailbox.messageCount,
      unseen: mailbox.unseenCount,
      bytes: mailbox.byteCount,
      deleted: mailbox.deletedCount,
    };
    if (JSON.stringify(kept) !== JSON.stringify(actual)) {
      problems.push(
        `mailbox ${mailbox.path}: counters ${JSON.stringify(kept)}, messages ${JSON.stringify(actual)}`,
      );
    }
  }
  for (const [mailboxId, top] of highest) {
    const mailbox = owner.get(mailboxId)!;
    if (top.uid >= mailbox.uidNext) problems.push(`mailbox ${mailbox.path}: uid ${top.uid} >= uidNext`);
    if (top.modseq > mailbox.highestModseq) problems.push(`mailbox ${mailbox.path}: modseq above highest`);
  }
  return problems;
}
