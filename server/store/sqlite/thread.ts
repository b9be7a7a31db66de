/**
 * The embedded engine off the event loop: a Store on the main thread that forwards every call to
 * worker threads holding SqliteStores (thread-worker.ts, one connection each). better-sqlite3 is
 * synchronous, so on the event loop every statement, COMMIT and fsync stopped every session; here
 * they stop only a store thread, and the event loop keeps answering greetings, NOOPs and IDLE.
 *
 * Two threads: a writer for every call that may write, and a reader for the calls that only read.
 * In WAL mode readers never wait for the writer, so a write stuck in fsync (a frozen or slow disk)
 * holds up the writes queued behind it, not logins, SELECT, FETCH or the journal that drives NOOP
 * and IDLE. A reader sees every write already answered: its next statement starts a fresh snapshot.
 * The writer commits the writes that queue up during one COMMIT together (group commit, see
 * thread-worker.ts), so concurrent sessions share fsyncs instead of waiting for one each.
 *
 * Each call has a deadline (`callTimeoutMs`): a call not answered by then rejects with StoreError
 * UNAVAILABLE (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP], LMTP/SMTP 451 4.3.0), so one frozen
 * call (a stalled disk) answers "try again later" instead of hanging its session. What happens to
 * the call itself:
 * - not started by its deadline (queued behind the slow one): the thread skips it, so it never
 *   happens — the caller's "try again later" is the whole truth;
 * - started but not finished (the slow one itself): it may still complete. Its late answer is
 *   discarded (and reported to `onLateAnswer`); a write that commits is announced by the journal
 *   like any other change, so sessions see the message (EXISTS) though its APPEND answered NO. A
 *   client or MTA retrying such a write stores it twice: a duplicate, never a loss.
 * The busy timeout (waiting for another process's write lock) is kept below the deadline, so that
 * wait ends in a definite UNAVAILABLE (nothing written) rather than an unknown outcome.
 *
 * A mailbox's row and counters (getMailbox, mailboxStatus, ...) are the exception: single-row
 * lookups that the event loop reads itself through a read-only connection of its own
 * (inline-reads.ts), since the round trip to a thread cost far more than the lookup.
 *
 * Message bodies cross the boundary once: an appended body is copied (exactly its bytes) into a
 * buffer that is transferred, not cloned; bodies read back are transferred without a copy.
 */
import path from 'node:path';
import type { MimeIndex } from '../../mime/types.ts';
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
import { DATABASE_FILE, BUSY_TIMEOUT_MS } from './database.ts';
import type { NewOutboundMessage, OutboundMessage, OutboundResult } from '../outbound.ts';
import type { DeliveryDay, DeliveryOutcome } from '../history.ts';
import type { CachedStsPolicy } from '../mta-sts.ts';
import type { ImportProgress } from '../import-progress.ts';
import type { GreylistResult, SpamListEntry, SpamListKind } from '../spam.ts';
import type { SieveMemoryEntry, SieveScriptRecord } from '../sieve.ts';
import type { SqliteStoreOptions, SqliteStoreStats } from './store.ts';
import { InlineReads } from './inline-reads.ts';
import { StoreLane, type Args, type LaneEvents, type Result } from './thread-lane.ts';
import { isStoreError } from '../errors.ts';
import { transferable } from '../../transfer.ts';
import type { ForwardedMethod } from './thread-protocol.ts';

/** How long a call may take before its caller is answered UNAVAILABLE. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

export interface ThreadedSqliteStoreOptions extends SqliteStoreOptions, LaneEvents {
  callTimeoutMs?: number;
  /**
   * Stops the writer thread after this long without a write (0, the default: never); the next write
   * starts it again (tens of milliseconds, paid by that write). A server whose sessions only wait in
   * IDLE writes nothing for hours: its writer's heap and connection are memory kept for nothing. The
   * reader stays: the journal that drives IDLE is read through it.
   */
  writerIdleStopMs?: number;
}

/**
 * Calls that only read go to the reader thread; everything else to the writer. readMimeIndex and
 * readPreviews may write (they rebuild a missing index or preview), which the reader's own connection can do like any other.
 */
const READS: ReadonlySet<ForwardedMethod> = new Set<ForwardedMethod>([
  'getUser',
  'getUserByUsername',
  'listUsers',
  'getCredentials',
  'listAddresses',
  'resolveRecipient',
  'listAppPasswords',
  'listMailboxes',
  'listSubscriptions',
  'getMetadata',
  'getMailbox',
  'getMailboxById',
  'mailboxCounts',
  'mailboxStatus',
  'unchangedRecentClaim',
  'listMessages',
  'listFlags',
  'getMessage',
  'readBlob',
  'readBlobs',
  'readBlobHeads',
  'readOutboundRaw',
  'getOutbound',
  'listOutbound',
  'listSpamEntries',
  'listSieveScripts',
  'getSieveScript',
  'getActiveSieveScript',
  'hasSieveMemory',
  'listSieveMemory',
  'getProgressMark',
  'deliveryHistory',
  'getStsPolicy',
  'listImportProgress',
  'readMimeIndex',
  'readMimeIndexes',
  'readSortFields',
  'listSortBasics',
  'readPreviews',
  'listKeywords',
  'expungedSince',
  'journalHead',
  'readJournal',
  'listRules',
  'rulesVersion',
  'getQuota',
  'stats',
  'settings',
  'checkIntegrity',
]);

export class ThreadedSqliteStore implements Store {
  readonly engine = 'sqlite';
  readonly file: string;
  readonly callTimeoutMs: number;
  private readonly writer: StoreLane;
  private readonly reader: StoreLane;
  /** A mailbox's row and counters, read on the event loop (inline-reads.ts); null until open. */
  private inline: InlineReads | null = null;

  private constructor(dataDir: string, options: ThreadedSqliteStoreOptions) {
    this.file = path.join(dataDir, DATABASE_FILE);
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    // Half the deadline at most: a wait for another process's write lock must end in a definite
    // UNAVAILABLE (nothing written) before the deadline makes the outcome unknown.
    const busyTimeoutMs =
      options.busyTimeoutMs ?? Math.min(BUSY_TIMEOUT_MS, Math.floor(this.callTimeoutMs / 2));
    const events = { onLateAnswer: options.onLateAnswer, onThreadExit: options.onThreadExit };
    this.writer = new StoreLane(
      { role: 'writer', dataDir, busyTimeoutMs, journalRetentionMs: options.journalRetentionMs },
      this.callTimeoutMs,
      { ...events, onIdleStop: options.onIdleStop },
      options.writerIdleStopMs ?? 0,
    );
    // Pruning the journal is a write: the writer does it.
    this.reader = new StoreLane(
      { role: 'reader', dataDir, busyTimeoutMs, journalRetentionMs: 0 },
      this.callTimeoutMs,
      events,
    );
  }

  /** Starts both threads and waits until they have opened the database (their errors are ours). */
  static async open(dataDir: string, options: ThreadedSqliteStoreOptions = {}): Promise<ThreadedSqliteStore> {
    const store = new ThreadedSqliteStore(dataDir, options);
    // The writer first: on a new database it switches the file to WAL and migrates the schema, and
    // a second connection doing the same at that moment can get SQLITE_BUSY at once (the journal
    // mode change does not wait out the busy timeout). The reader then opens a database in WAL.
    try {
      await store.writer.start();
      await store.reader.start();
      store.inline = InlineReads.open(dataDir);
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  private call<M extends ForwardedMethod>(
    method: M,
    args: Args<M>,
    transfer?: ArrayBuffer[],
  ): Promise<Result<M>> {
    return (READS.has(method) ? this.reader : this.writer).call(method, args, transfer);
  }

  /** Appended bodies go over in a buffer of their own, transferred (the caller keeps its Buffer). */
  private withBody<M extends 'append' | 'deliver' | 'importMessage' | 'replaceMessage'>(
    method: M,
    args: Args<M>,
    at: number,
  ) {
    const raw = args[at];
    if (!(raw instanceof Uint8Array)) return this.call(method, args); // the thread refuses it (INVALID)
    const packed = transferable(raw, false);
    const sent = [...args] as Args<M>;
    (sent as unknown[])[at] = packed.view;
    return this.call(method, sent, [packed.buffer]);
  }

  // --- users ---

  createUser(user: NewUser): Promise<User> {
    return this.call('createUser', [user]);
  }

  getUser(id: Id): Promise<User | null> {
    return this.call('getUser', [id]);
  }

  getUserByUsername(username: string): Promise<User | null> {
    return this.call('getUserByUsername', [username]);
  }

  listUsers(query?: UserQuery): Promise<{ users: User[]; total: number }> {
    return this.call('listUsers', [query]);
  }

  updateUser(id: Id, patch: UserPatch): Promise<User> {
    return this.call('updateUser', [id, patch]);
  }

  setPasswordHash(id: Id, passwordHash: string): Promise<void> {
    return this.call('setPasswordHash', [id, passwordHash]);
  }

  deleteUser(id: Id): Promise<void> {
    return this.call('deleteUser', [id]);
  }

  getCredentials(username: string): Promise<Credentials | null> {
    return this.call('getCredentials', [username]);
  }

  // --- domains ---

  listDomains(): Promise<Domain[]> {
    return this.call('listDomains', []);
  }

  getDomain(name: string): Promise<Domain | null> {
    return this.call('getDomain', [name]);
  }

  createDomain(domain: { name: string }): Promise<Domain> {
    return this.call('createDomain', [domain]);
  }

  updateDomain(name: string, patch: DomainPatch): Promise<Domain> {
    return this.call('updateDomain', [name, patch]);
  }

  domainUsage(name: string): Promise<DomainUsage> {
    return this.call('domainUsage', [name]);
  }

  deleteDomain(name: string): Promise<void> {
    return this.call('deleteDomain', [name]);
  }

  // --- addresses ---

  addAddress(userId: Id, address: string): Promise<Address> {
    return this.call('addAddress', [userId, address]);
  }

  removeAddress(address: string): Promise<void> {
    return this.call('removeAddress', [address]);
  }

  listAddresses(userId: Id): Promise<Address[]> {
    return this.call('listAddresses', [userId]);
  }

  resolveRecipient(address: string): Promise<User | null> {
    return this.call('resolveRecipient', [address]);
  }

  // --- app passwords ---

  createAppPassword(userId: Id, label: string, hash: string): Promise<AppPassword> {
    return this.call('createAppPassword', [userId, label, hash]);
  }

  listAppPasswords(userId: Id): Promise<AppPassword[]> {
    return this.call('listAppPasswords', [userId]);
  }

  deleteAppPassword(userId: Id, id: Id): Promise<void> {
    return this.call('deleteAppPassword', [userId, id]);
  }

  touchAppPassword(id: Id): Promise<void> {
    return this.call('touchAppPassword', [id]);
  }

  // --- mailboxes ---

  listMailboxes(userId: Id): Promise<Mailbox[]> {
    return this.call('listMailboxes', [userId]);
  }

  /**
   * A read the event loop answers itself (inline-reads.ts); the reader thread when that connection
   * is busy for a moment (UNAVAILABLE) or the store is not open.
   */
  private async readInline<M extends 'getMailbox' | 'getMailboxById' | 'mailboxCounts' | 'mailboxStatus'>(
    method: M,
    args: Args<M>,
  ): Promise<Result<M>> {
    const inline = this.inline;
    if (inline === null) return this.call(method, args);
    try {
      return await (inline[method] as (...a: Args<M>) => Promise<Result<M>>).apply(inline, args);
    } catch (error) {
      if (!isStoreError(error, 'UNAVAILABLE') || this.inline === null) throw error;
      return this.call(method, args);
    }
  }

  getMailbox(userId: Id, mailboxPath: string): Promise<Mailbox | null> {
    return this.readInline('getMailbox', [userId, mailboxPath]);
  }

  getMailboxById(mailboxId: Id): Promise<Mailbox | null> {
    return this.readInline('getMailboxById', [mailboxId]);
  }

  createMailbox(userId: Id, mailboxPath: string, specialUse?: SpecialUse | null): Promise<Mailbox> {
    return this.call('createMailbox', [userId, mailboxPath, specialUse]);
  }

  deleteMailbox(userId: Id, mailboxPath: string): Promise<void> {
    return this.call('deleteMailbox', [userId, mailboxPath]);
  }

  renameMailbox(userId: Id, from: string, to: string): Promise<void> {
    return this.call('renameMailbox', [userId, from, to]);
  }

  setSubscribed(userId: Id, mailboxPath: string, subscribed: boolean): Promise<void> {
    return this.call('setSubscribed', [userId, mailboxPath, subscribed]);
  }

  listSubscriptions(userId: Id): Promise<string[]> {
    return this.call('listSubscriptions', [userId]);
  }

  getMetadata(userId: Id, mailboxPath: string): Promise<MetadataEntry[]> {
    return this.call('getMetadata', [userId, mailboxPath]);
  }

  setMetadata(
    userId: Id,
    mailboxPath: string,
    changes: readonly MetadataChange[],
    maxEntries: number,
  ): Promise<void> {
    return this.call('setMetadata', [userId, mailboxPath, changes, maxEntries]);
  }

  async urlAuthKey(mailboxId: Id, create: boolean): Promise<Buffer | null> {
    const key = await this.call('urlAuthKey', [mailboxId, create]);
    return key === null ? null : Buffer.from(key);
  }

  resetUrlAuthKeys(userId: Id, mailboxId: Id | null): Promise<void> {
    return this.call('resetUrlAuthKeys', [userId, mailboxId]);
  }

  mailboxCounts(mailboxId: Id): Promise<MailboxCounts> {
    return this.readInline('mailboxCounts', [mailboxId]);
  }

  mailboxStatus(userId: Id, mailboxPath: string): Promise<MailboxStatus | null> {
    return this.readInline('mailboxStatus', [userId, mailboxPath]);
  }

  /**
   * Asks the reader first: when nothing arrived since the last claim (most SELECTs), the answer
   * needs no write, so SELECT costs no fsync and still works while the writer is stuck.
   */
  async claimRecent(mailboxId: Id): Promise<{ previous: number; current: number }> {
    const unchanged = await this.call('unchangedRecentClaim', [mailboxId]);
    return unchanged ?? this.call('claimRecent', [mailboxId]);
  }

  // --- messages ---

  append(mailboxId: Id, raw: Buffer, options?: AppendOptions): Promise<AppendResult> {
    return this.withBody('append', [mailboxId, raw, options], 1);
  }

  /** Each body goes over in a buffer of its own, transferred, as for append. */
  appendMany(
    mailboxId: Id,
    items: readonly AppendItem[],
    options?: AppendManyOptions,
  ): Promise<AppendResult[]> {
    const transfer: ArrayBuffer[] = [];
    const sent = items.map((item) => {
      if (!(item.raw instanceof Uint8Array)) return item; // the thread refuses it (INVALID)
      const packed = transferable(item.raw, false);
      transfer.push(packed.buffer);
      return { ...item, raw: packed.view as Buffer };
    });
    if (options === undefined) return this.call('appendMany', [mailboxId, sent], transfer);
    return this.call('appendMany', [mailboxId, sent, options], transfer);
  }

  replaceMessage(
    mailboxId: Id,
    uid: number,
    targetMailboxId: Id,
    raw: Buffer,
    options?: AppendOptions,
  ): Promise<AppendResult> {
    return this.withBody('replaceMessage', [mailboxId, uid, targetMailboxId, raw, options], 3);
  }

  deliver(recipient: string, raw: Buffer, options?: AppendOptions): Promise<DeliveryResult> {
    return this.withBody('deliver', [recipient, raw, options], 1);
  }

  listFlags(mailboxId: Id, uidBelow: number): Promise<FlagListing> {
    return this.call('listFlags', [mailboxId, uidBelow]);
  }

  listMessages(
    mailboxId: Id,
    filter?: { uids?: UidRange[]; changedSince?: number },
  ): Promise<MessageSummary[]> {
    return this.call('listMessages', [mailboxId, filter]);
  }

  getMessage(mailboxId: Id, uid: number): Promise<MessageSummary | null> {
    return this.call('getMessage', [mailboxId, uid]);
  }

  readBlob(blobId: string): Promise<Buffer> {
    return this.call('readBlob', [blobId]);
  }

  readBlobs(blobIds: readonly string[]): Promise<Map<string, Buffer>> {
    return this.call('readBlobs', [blobIds]);
  }

  // --- the delivery history ---

  countDelivery(day: string, outcome: DeliveryOutcome, count?: number): Promise<void> {
    return this.call('countDelivery', [day, outcome, count]);
  }

  deliveryHistory(first: string, last: string): Promise<DeliveryDay[]> {
    return this.call('deliveryHistory', [first, last]);
  }

  // --- where an import from another IMAP server stands ---

  saveImportProgress(userId: Id, progress: ImportProgress): Promise<void> {
    return this.call('saveImportProgress', [userId, progress]);
  }

  listImportProgress(userId: Id, source?: string): Promise<ImportProgress[]> {
    return this.call('listImportProgress', source === undefined ? [userId] : [userId, source]);
  }

  // --- the MTA-STS policy cache ---

  saveStsPolicy(domain: string, cached: CachedStsPolicy): Promise<void> {
    return this.call('saveStsPolicy', [domain, cached]);
  }

  getStsPolicy(domain: string): Promise<CachedStsPolicy | null> {
    return this.call('getStsPolicy', [domain]);
  }

  // --- the spam filter ---

  listSpamEntries(userId: Id): Promise<SpamListEntry[]> {
    return this.call('listSpamEntries', [userId]);
  }

  setSpamEntry(userId: Id, list: SpamListKind, pattern: string): Promise<SpamListEntry> {
    return this.call('setSpamEntry', [userId, list, pattern]);
  }

  removeSpamEntry(userId: Id, pattern: string): Promise<void> {
    return this.call('removeSpamEntry', [userId, pattern]);
  }

  greylist(triplet: string, delayMs: number, expiryMs: number, now?: Date): Promise<GreylistResult> {
    return this.call('greylist', [triplet, delayMs, expiryMs, now]);
  }

  // --- Sieve scripts and memory ---

  listSieveScripts(userId: Id): Promise<SieveScriptRecord[]> {
    return this.call('listSieveScripts', [userId]);
  }

  getSieveScript(userId: Id, name: string): Promise<SieveScriptRecord | null> {
    return this.call('getSieveScript', [userId, name]);
  }

  getActiveSieveScript(userId: Id): Promise<SieveScriptRecord | null> {
    return this.call('getActiveSieveScript', [userId]);
  }

  putSieveScript(userId: Id, name: string, content: string): Promise<SieveScriptRecord> {
    return this.call('putSieveScript', [userId, name, content]);
  }

  activateSieveScript(userId: Id, name: string | null): Promise<void> {
    return this.call('activateSieveScript', [userId, name]);
  }

  deleteSieveScript(userId: Id, name: string): Promise<void> {
    return this.call('deleteSieveScript', [userId, name]);
  }

  renameSieveScript(userId: Id, from: string, to: string): Promise<void> {
    return this.call('renameSieveScript', [userId, from, to]);
  }

  claimSieveMemory(userId: Id, key: string, expiresAt: Date, now?: Date): Promise<boolean> {
    return this.call('claimSieveMemory', [userId, key, expiresAt, now]);
  }

  hasSieveMemory(userId: Id, key: string, now?: Date): Promise<boolean> {
    return this.call('hasSieveMemory', [userId, key, now]);
  }

  listSieveMemory(userId: Id, now?: Date): Promise<SieveMemoryEntry[]> {
    return this.call('listSieveMemory', [userId, now]);
  }

  // --- the outbound queue ---

  enqueueOutbound(message: NewOutboundMessage): Promise<OutboundMessage> {
    return this.call('enqueueOutbound', [message]);
  }

  claimOutbound(holder: string, leaseMs: number, limit: number, now?: Date): Promise<OutboundMessage[]> {
    return this.call('claimOutbound', [holder, leaseMs, limit, now]);
  }

  recordOutbound(id: string, holder: string, address: string, result: OutboundResult): Promise<boolean> {
    return this.call('recordOutbound', [id, holder, address, result]);
  }

  renewOutbound(id: string, holder: string, leaseMs: number): Promise<boolean> {
    return this.call('renewOutbound', [id, holder, leaseMs]);
  }

  releaseOutbound(id: string, holder: string): Promise<void> {
    return this.call('releaseOutbound', [id, holder]);
  }

  readOutboundRaw(id: string): Promise<Buffer> {
    return this.call('readOutboundRaw', [id]);
  }

  getOutbound(id: string): Promise<OutboundMessage | null> {
    return this.call('getOutbound', [id]);
  }

  listOutbound(): Promise<OutboundMessage[]> {
    return this.call('listOutbound', []);
  }

  retryOutbound(id: string): Promise<OutboundMessage> {
    return this.call('retryOutbound', [id]);
  }

  deleteOutbound(id: string): Promise<void> {
    return this.call('deleteOutbound', [id]);
  }

  readBlobHeads(heads: ReadonlyArray<{ blobId: string; bytes: number }>): Promise<Map<string, Buffer>> {
    return this.call('readBlobHeads', [heads]);
  }

  readPreviews(blobIds: readonly string[]): Promise<Map<string, string>> {
    return this.call('readPreviews', [blobIds]);
  }

  readMimeIndex(blobId: string): Promise<MimeIndex> {
    return this.call('readMimeIndex', [blobId]);
  }

  readMimeIndexes(blobIds: readonly string[]): Promise<Map<string, MimeIndex>> {
    return this.call('readMimeIndexes', [blobIds]);
  }

  readSortFields(blobIds: readonly string[]): Promise<Map<string, SortFields>> {
    return this.call('readSortFields', [blobIds]);
  }

  listSortBasics(mailboxId: Id): Promise<SortBasics> {
    return this.call('listSortBasics', [mailboxId]);
  }

  storeFlags(
    mailboxId: Id,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    unchangedSince?: number,
  ): Promise<StoreFlagsResult> {
    return this.call('storeFlags', [mailboxId, uids, operation, flags, unchangedSince]);
  }

  copyMessages(mailboxId: Id, uids: number[], targetMailboxId: Id): Promise<CopyResult> {
    return this.call('copyMessages', [mailboxId, uids, targetMailboxId]);
  }

  moveMessages(mailboxId: Id, uids: number[], targetMailboxId: Id): Promise<CopyResult> {
    return this.call('moveMessages', [mailboxId, uids, targetMailboxId]);
  }

  expunge(mailboxId: Id, uids?: number[]): Promise<number[]> {
    return this.call('expunge', [mailboxId, uids]);
  }

  deleteMessages(mailboxId: Id, uids: number[]): Promise<number[]> {
    return this.call('deleteMessages', [mailboxId, uids]);
  }

  listKeywords(mailboxId: Id): Promise<string[]> {
    return this.call('listKeywords', [mailboxId]);
  }

  expungedSince(mailboxId: Id, modseq: number, uids?: UidRange[]): Promise<number[] | null> {
    return this.call('expungedSince', uids === undefined ? [mailboxId, modseq] : [mailboxId, modseq, uids]);
  }

  // --- migration ---

  importMailbox(userId: Id, mailbox: ImportedMailbox): Promise<Mailbox> {
    return this.call('importMailbox', [userId, mailbox]);
  }

  importMessage(mailboxId: Id, message: ImportedMessage, raw: Buffer): Promise<'imported' | 'exists'> {
    return this.withBody('importMessage', [mailboxId, message, raw], 2);
  }

  /** Each body goes over in a buffer of its own, transferred, as for appendMany. */
  importMessages(mailboxId: Id, items: readonly ImportItem[]): Promise<Array<'imported' | 'exists'>> {
    if (!Array.isArray(items)) return this.call('importMessages', [mailboxId, items]); // refused there
    const transfer: ArrayBuffer[] = [];
    const sent = items.map((item) => {
      if (!(item?.raw instanceof Uint8Array)) return item; // the thread refuses it (INVALID)
      const packed = transferable(item.raw, false);
      transfer.push(packed.buffer);
      return { ...item, raw: packed.view as Buffer };
    });
    return this.call('importMessages', [mailboxId, sent], transfer);
  }

  // --- journal ---

  journalHead(userId?: Id): Promise<number> {
    return this.call('journalHead', [userId]);
  }

  readJournal(after: ReadonlyMap<Id, number>, limit?: number): Promise<JournalEntry[]> {
    return this.call('readJournal', [after, limit]);
  }

  pruneJournal(before: Date): Promise<number> {
    return this.call('pruneJournal', [before]);
  }

  // --- connection rules ---

  listRules(): Promise<ConnectionRule[]> {
    return this.call('listRules', []);
  }

  createRule(input: NewConnectionRule): Promise<ConnectionRule> {
    return this.call('createRule', [input]);
  }

  updateRule(id: Id, patch: ConnectionRulePatch): Promise<ConnectionRule> {
    return this.call('updateRule', [id, patch]);
  }

  deleteRule(id: Id): Promise<void> {
    return this.call('deleteRule', [id]);
  }

  moveRule(id: Id, position: number): Promise<ConnectionRule> {
    return this.call('moveRule', [id, position]);
  }

  seedRules(rules: NewConnectionRule[]): Promise<boolean> {
    return this.call('seedRules', [rules]);
  }

  rulesVersion(): Promise<number> {
    return this.call('rulesVersion', []);
  }

  // --- leases ---

  acquireLease(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.call('acquireLease', [key, holder, ttlMs]);
  }

  releaseLease(key: string, holder: string): Promise<void> {
    return this.call('releaseLease', [key, holder]);
  }

  getProgressMark(name: string): Promise<number | null> {
    return this.call('getProgressMark', [name]);
  }

  setProgressMark(name: string, value: number | null): Promise<void> {
    return this.call('setProgressMark', [name, value]);
  }

  // --- quota, health, engine specifics ---

  getQuota(userId: Id): Promise<Quota> {
    return this.call('getQuota', [userId]);
  }

  /** Asks both threads: a writer stuck in fsync shows here, though reads still work. */
  async health(): Promise<StoreHealth> {
    try {
      const [head] = await Promise.all([
        this.reader.call('journalHead', []),
        this.writer.call('journalHead', []),
      ]);
      return {
        ok: true,
        engine: this.engine,
        detail: `${this.file} (journal at ${head}, reader and writer threads)`,
      };
    } catch (error) {
      return {
        ok: false,
        engine: this.engine,
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  }

  stats(): Promise<SqliteStoreStats> {
    return this.call('stats', []);
  }

  settings(): Promise<Result<'settings'>> {
    return this.call('settings', []);
  }

  checkIntegrity(): Promise<string[]> {
    return this.call('checkIntegrity', []);
  }

  /** Closes both threads, each after the calls sent to it before. */
  async close(): Promise<void> {
    this.inline?.close();
    this.inline = null;
    await Promise.all([this.writer.close(), this.reader.close()]);
  }
}

export function openThreadedSqliteStore(
  dataDir: string,
  options?: ThreadedSqliteStoreOptions,
): Promise<ThreadedSqliteStore> {
  return ThreadedSqliteStore.open(dataDir, options);
}
