/**
 * The embedded engine on its own thread: a Store on the main thread that forwards every call to a
 * worker thread holding the SqliteStore (thread-worker.ts). better-sqlite3 is synchronous, so on the
 * event loop every statement, COMMIT and fsync stopped every session; here they stop only the store
 * thread, and the event loop keeps answering greetings, NOOPs and IDLE.
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
 * Message bodies cross the boundary once: an appended body is copied (exactly its bytes) into a
 * buffer that is transferred, not cloned; bodies read back are transferred without a copy.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { MimeIndex } from '../../mime/types.ts';
import { StoreError } from '../errors.ts';
import type {
  Address,
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
  JournalEntry,
  Mailbox,
  MailboxCounts,
  MessageSummary,
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
import { DATABASE_FILE, BUSY_TIMEOUT_MS } from './database.ts';
import type { SqliteStore, SqliteStoreOptions, SqliteStoreStats } from './store.ts';
import {
  asBuffer,
  fromErrorData,
  transferable,
  type ForwardedMethod,
  type Reply,
  type Request,
  type WorkerData,
} from './thread-protocol.ts';

/** How long a call may take before its caller is answered UNAVAILABLE. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

export interface ThreadedSqliteStoreOptions extends SqliteStoreOptions {
  callTimeoutMs?: number;
  /** Told about an answer that came after its deadline (e.g. a write that committed late). */
  onLateAnswer?: (method: string, outcome: 'result' | 'error', elapsedMs: number) => void;
  /** Told when the store thread stops unexpectedly (it is started again on the next call). */
  onThreadExit?: (detail: string) => void;
}

interface PendingCall {
  method: string;
  startedAt: number;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

type Args<M extends ForwardedMethod> = Parameters<SqliteStore[M]>;
type Result<M extends ForwardedMethod> = Awaited<ReturnType<SqliteStore[M]>>;

const ENTRY = new URL('./thread-entry.mjs', import.meta.url);

export class ThreadedSqliteStore implements Store {
  readonly engine = 'sqlite';
  readonly file: string;
  readonly callTimeoutMs: number;
  private readonly workerData: WorkerData;
  private worker: Worker | null = null;
  private readonly pending = new Map<number, PendingCall>();
  /** Ids of calls whose deadline passed, with their method and start, until their answer comes. */
  private readonly abandoned = new Map<number, { method: string; startedAt: number }>();
  private nextId = 1;
  private closing: Promise<void> | null = null;

  private constructor(
    dataDir: string,
    private readonly options: ThreadedSqliteStoreOptions,
  ) {
    this.file = path.join(dataDir, DATABASE_FILE);
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.workerData = {
      dataDir,
      journalRetentionMs: options.journalRetentionMs,
      // Half the deadline at most: a lock wait must fail (definitely, nothing written) before the
      // deadline makes the outcome unknown.
      busyTimeoutMs: options.busyTimeoutMs ?? Math.min(BUSY_TIMEOUT_MS, Math.floor(this.callTimeoutMs / 2)),
    };
  }

  /** Starts the store thread and waits until it has opened the database (its errors are ours). */
  static async open(dataDir: string, options: ThreadedSqliteStoreOptions = {}): Promise<ThreadedSqliteStore> {
    const store = new ThreadedSqliteStore(dataDir, options);
    await store.start();
    return store;
  }

  private start(): Promise<void> {
    const worker = new Worker(ENTRY, { workerData: this.workerData });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      worker.on('message', (reply: Reply) => {
        if (reply.type === 'opened') {
          opened = true;
          this.updateRef(); // held until now: an awaited open must keep the process alive
          resolve();
        } else if (reply.type === 'open-failed') {
          reject(fromErrorData(reply.error));
        } else {
          this.settle(reply);
        }
      });
      worker.on('error', (error) => {
        if (!opened) reject(error);
        this.options.onThreadExit?.(`store thread failed: ${error.message}`);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = null;
        if (!opened) reject(new StoreError('UNAVAILABLE', `the store thread stopped (exit ${code})`));
        this.failPending(`the store thread stopped (exit ${code})`);
        if (this.closing === null) this.options.onThreadExit?.(`store thread exited with code ${code}`);
      });
    });
  }

  /** Forwards one call; rejects UNAVAILABLE when the thread has not answered by the deadline. */
  private call<M extends ForwardedMethod>(
    method: M,
    args: Args<M>,
    transfer: ArrayBuffer[] = [],
  ): Promise<Result<M>> {
    if (this.closing) return Promise.reject(new StoreError('UNAVAILABLE', 'the store is closed'));
    if (!this.worker) void this.start().catch(() => undefined); // thread died: start a new one
    const worker = this.worker!;
    const id = this.nextId++;
    const startedAt = Date.now();
    return new Promise<Result<M>>((resolve, reject) => {
      const timer = setTimeout(() => this.expire(id), this.callTimeoutMs);
      timer.unref();
      this.pending.set(id, {
        method,
        startedAt,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
      });
      const request: Request = {
        type: 'call',
        id,
        method,
        args: args as unknown[],
        deadline: startedAt + this.callTimeoutMs,
      };
      try {
        worker.postMessage(request, transfer);
      } catch (error) {
        // Something that cannot be cloned (a function, a symbol): a bad argument, not an outage.
        this.pending.delete(id);
        clearTimeout(timer);
        reject(
          new StoreError('INVALID', `cannot pass the arguments of ${method}: ${(error as Error).message}`),
        );
      }
      this.updateRef();
    });
  }

  private expire(id: number): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    this.abandoned.set(id, { method: call.method, startedAt: call.startedAt });
    this.updateRef();
    call.reject(
      new StoreError(
        'UNAVAILABLE',
        `the store did not answer ${call.method} within ${this.callTimeoutMs} ms`,
      ),
    );
  }

  private settle(reply: Extract<Reply, { id: number }>): void {
    const call = this.pending.get(reply.id);
    if (!call) {
      // An answer after the deadline: its caller has moved on. Drop it, but say so: a late write
      // result means the write did happen.
      const late = this.abandoned.get(reply.id);
      this.abandoned.delete(reply.id);
      if (late) this.options.onLateAnswer?.(late.method, reply.type, Date.now() - late.startedAt);
      return;
    }
    this.pending.delete(reply.id);
    clearTimeout(call.timer);
    this.updateRef();
    if (reply.type === 'result') call.resolve(unpackResult(call.method, reply.value));
    else call.reject(fromErrorData(reply.error));
  }

  private failPending(reason: string): void {
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(new StoreError('UNAVAILABLE', reason));
    }
    this.pending.clear();
    this.abandoned.clear();
  }

  /**
   * The thread keeps the process alive only while a call waits for it: a CLI command awaiting a
   * result must not exit early, and an idle store must not keep a finished process running.
   */
  private updateRef(): void {
    if (this.pending.size > 0 || this.closing) this.worker?.ref();
    else this.worker?.unref();
  }

  /** Appended bodies go over in a buffer of their own, transferred (the caller keeps its Buffer). */
  private withBody<M extends 'append' | 'deliver' | 'importMessage'>(method: M, args: Args<M>, at: number) {
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

  getMailbox(userId: Id, mailboxPath: string): Promise<Mailbox | null> {
    return this.call('getMailbox', [userId, mailboxPath]);
  }

  getMailboxById(mailboxId: Id): Promise<Mailbox | null> {
    return this.call('getMailboxById', [mailboxId]);
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

  mailboxCounts(mailboxId: Id): Promise<MailboxCounts> {
    return this.call('mailboxCounts', [mailboxId]);
  }

  claimRecent(mailboxId: Id): Promise<{ previous: number; current: number }> {
    return this.call('claimRecent', [mailboxId]);
  }

  // --- messages ---

  append(mailboxId: Id, raw: Buffer, options?: AppendOptions): Promise<AppendResult> {
    return this.withBody('append', [mailboxId, raw, options], 1);
  }

  deliver(recipient: string, raw: Buffer, options?: AppendOptions): Promise<DeliveryResult> {
    return this.withBody('deliver', [recipient, raw, options], 1);
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

  readMimeIndex(blobId: string): Promise<MimeIndex> {
    return this.call('readMimeIndex', [blobId]);
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

  // --- migration ---

  importMailbox(userId: Id, mailbox: ImportedMailbox): Promise<Mailbox> {
    return this.call('importMailbox', [userId, mailbox]);
  }

  importMessage(mailboxId: Id, message: ImportedMessage, raw: Buffer): Promise<'imported' | 'exists'> {
    return this.withBody('importMessage', [mailboxId, message, raw], 2);
  }

  // --- journal ---

  journalHead(): Promise<number> {
    return this.call('journalHead', []);
  }

  readJournal(afterId: number, limit?: number): Promise<JournalEntry[]> {
    return this.call('readJournal', [afterId, limit]);
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

  // --- quota, health, engine specifics ---

  getQuota(userId: Id): Promise<Quota> {
    return this.call('getQuota', [userId]);
  }

  async health(): Promise<StoreHealth> {
    try {
      const head = await this.journalHead();
      return { ok: true, engine: this.engine, detail: `${this.file} (journal at ${head}, own thread)` };
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

  /**
   * Closes the database on its thread once the calls before have run, then lets the thread end.
   * A thread that does not answer within the deadline (stuck in a frozen fsync) is terminated.
   */
  close(): Promise<void> {
    this.closing ??= this.closeThread();
    return this.closing;
  }

  private async closeThread(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.updateRef();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close', id: this.nextId++ } satisfies Request);
    const timer = setTimeout(() => void worker.terminate(), this.callTimeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

export function openThreadedSqliteStore(
  dataDir: string,
  options?: ThreadedSqliteStoreOptions,
): Promise<ThreadedSqliteStore> {
  return ThreadedSqliteStore.open(dataDir, options);
}

/** Bodies arrive as Uint8Arrays over transferred memory: make them Buffers again, without copying. */
function unpackResult(method: string, value: unknown): unknown {
  if (method === 'readBlob' && value instanceof Uint8Array) return asBuffer(value);
  if (method === 'readBlobs' && value instanceof Map) {
    const blobs = new Map<string, Buffer>();
    for (const [key, bytes] of value as Map<string, Uint8Array>) blobs.set(key, asBuffer(bytes));
    return blobs;
  }
  return value;
}
