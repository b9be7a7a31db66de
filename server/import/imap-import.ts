/**
 * Imports a user's mail from another IMAP server into the store, folder by folder. Each message
 * is appended through the store (flags, keywords and INTERNALDATE kept, bytes exact), so the
 * journal tells the running server's sessions of it as of any delivery. Per source folder the
 * store remembers its UIDVALIDITY and the highest UID imported: a re-run fetches only what is
 * above it, and a changed UIDVALIDITY re-reads the whole folder. Nothing arrives twice: a message
 * whose exact bytes (SHA-256, the store's blob key) the target mailbox already holds is skipped,
 * which also covers a run killed between an append and its progress record.
 */
import { createHash } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { isStoreError } from '../store/errors.ts';
import type { Id, Mailbox, SpecialUse, Store } from '../store/types.ts';
import { planFolders, type FolderPlan } from './folders.ts';
import { Progress } from './progress.ts';
import { connectSource, sourceName, type SourceAccount } from './source.ts';
import { Throttle, type Rates } from './throttle.ts';

export interface ImportOptions {
  source: SourceAccount;
  userId: Id;
  /** Only these source folders (as the source names them). */
  folders?: readonly string[];
  includeAllMail?: boolean;
  rates?: Rates;
  /** Larger messages are skipped (the server's limit on a message). */
  maxMessageSize: number;
  print: (line: string) => void;
  /** Stops the import between two messages (a job cancelled from the panel). */
  signal?: AbortSignal;
  /** Where the counts go, when the caller reads them while the import runs. */
  progress?: Progress;
}

/**
 * Messages appended per store call: one durable commit per batch instead of one per message. A
 * batch is held in memory while it is stored and the next one is read, so at most about twice
 * BATCH_BYTES of bodies are held at once.
 */
const BATCH_MESSAGES = 256;
const BATCH_BYTES = 16 * 1_048_576;
/**
 * A batch older than this is stored however small: a throttled import (--max-rate) still shows
 * its progress each second, and a cancel keeps what was read up to a second before.
 */
const BATCH_MS = 1000;

interface Pending {
  uid: number;
  size: number;
}

interface Fetched {
  uid: number;
  raw: Buffer;
  flags: string[];
  internalDate: Date;
  hash: string;
}

/** The target mailbox: ours of that special use, else the one of that path, created if missing. */
async function targetMailbox(
  store: Store,
  userId: Id,
  path: string,
  specialUse: SpecialUse | null,
): Promise<Mailbox> {
  if (specialUse) {
    const special = (await store.listMailboxes(userId)).find((mailbox) => mailbox.specialUse === specialUse);
    if (special) return special;
  }
  const existing = await store.getMailbox(userId, path);
  if (existing?.selectable) return existing;
  return store.createMailbox(userId, path, specialUse);
}

/** A UID set of ascending UIDs, runs written as ranges ("1:40,42,50:60"). */
export function uidSet(uids: readonly number[]): string {
  const parts: string[] = [];
  let index = 0;
  while (index < uids.length) {
    const first = uids[index]!;
    let last = first;
    while (index + 1 < uids.length && uids[index + 1] === last + 1) last = uids[++index]!;
    parts.push(first === last ? String(first) : `${first}:${last}`);
    index += 1;
  }
  return parts.join(',');
}

/** The messages of one store call and the highest source UID they settle (skipped ones included). */
class Batch {
  readonly messages: Fetched[] = [];
  bytes = 0;
  lastUid: number;

  /** `after`: the UID the batch before settled up to. */
  constructor(readonly after: number) {
    this.lastUid = after;
  }

  get empty(): boolean {
    return this.messages.length === 0 && this.lastUid === this.after;
  }

  private readonly started = Date.now();

  get full(): boolean {
    return (
      this.messages.length >= BATCH_MESSAGES ||
      this.bytes >= BATCH_BYTES ||
      (this.messages.length > 0 && Date.now() - this.started >= BATCH_MS)
    );
  }
}

class FolderImport {
  private readonly known = new Set<string>();
  private uidValidity = 0;

  constructor(
    private readonly store: Store,
    private readonly client: ImapFlow,
    private readonly options: ImportOptions,
    private readonly progress: Progress,
    private readonly throttle: Throttle,
  ) {}

  async run(
    plan: Extract<FolderPlan, { action: 'import' }>,
    lastUidOf: Map<string, { uidValidity: number; lastUid: number }>,
  ) {
    const { store, client, options } = this;
    const mailbox = await targetMailbox(store, options.userId, plan.target, plan.specialUse);
    const lock = await client.getMailboxLock(plan.source, { readOnly: true });
    try {
      const opened = client.mailbox;
      if (!opened) throw new Error(`cannot open ${plan.source} at the source`);
      this.uidValidity = Number(opened.uidValidity);
      const recorded = lastUidOf.get(plan.source);
      const resumeAfter = recorded?.uidValidity === this.uidValidity ? recorded.lastUid : 0;
      if (recorded && recorded.uidValidity !== this.uidValidity)
        options.print(`${plan.source}: UIDVALIDITY changed at the source, reading the folder again`);
      const pending = opened.exists > 0 ? await this.listPending(resumeAfter) : [];
      this.progress.expect(
        pending.length,
        pending.reduce((sum, message) => sum + message.size, 0),
      );
      for (const message of await store.listMessages(mailbox.id)) this.known.add(message.blobId);
      await this.importPending(plan.source, mailbox.id, pending, resumeAfter);
      // The batches recorded what they settled; an empty folder still records its UIDVALIDITY.
      if (pending.length === 0) await this.record(plan.source, resumeAfter);
    } finally {
      lock.release();
    }
  }

  /** UIDs and sizes above `after` (a `N:*` range also returns the last message when none is above). */
  private async listPending(after: number): Promise<Pending[]> {
    const pending: Pending[] = [];
    for await (const message of this.client.fetch(
      `${after + 1}:*`,
      { uid: true, size: true },
      { uid: true },
    )) {
      if (message.uid > after) pending.push({ uid: message.uid, size: message.size ?? 0 });
    }
    return pending.sort((a, b) => a.uid - b.uid);
  }

  private record(folder: string, lastUid: number): Promise<void> {
    return this.store.saveImportProgress(this.options.userId, {
      source: sourceName(this.options.source),
      folder,
      uidValidity: this.uidValidity,
      lastUid,
    });
  }

  /**
   * Reads the pending messages in one FETCH, streamed (imapflow reads the next message once this
   * one is taken), and stores them a batch at a time: while a batch is being stored the source
   * keeps sending, and the next batch fills. Too big messages are not fetched at all.
   */
  private async importPending(folder: string, mailboxId: Id, pending: Pending[], after: number) {
    const { maxMessageSize } = this.options;
    const wanted = pending.filter((message) => message.size <= maxMessageSize);
    const sizes = new Map(wanted.map((message) => [message.uid, message.size]));
    for (const message of pending) {
      if (message.size <= maxMessageSize) continue;
      this.progress.skip({
        folder,
        uid: message.uid,
        reason: `too big (${message.size} > ${maxMessageSize} bytes)`,
      });
      this.progress.done(message.size, 'skipped');
    }
    let batch = new Batch(after);
    let storing: Promise<void> | null = null;
    const flush = async () => {
      const full = batch;
      batch = new Batch(full.lastUid);
      if (storing) await storing;
      storing = this.storeBatch(folder, mailboxId, full);
      storing.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    };
    try {
      if (wanted.length > 0) {
        for await (const message of this.client.fetch(
          uidSet(wanted.map((entry) => entry.uid)),
          { uid: true, flags: true, internalDate: true, source: true },
          { uid: true },
        )) {
          this.options.signal?.throwIfAborted();
          if (!message.source || !sizes.delete(message.uid)) continue;
          batch.lastUid = Math.max(batch.lastUid, message.uid);
          this.take(folder, batch, message.uid, message);
          await this.throttle.pass(message.source.length);
          if (batch.full) await flush();
        }
      }
      // Those listed but not fetched were expunged at the source in between.
      for (const size of sizes.values()) this.progress.done(size, 'skipped');
      batch.lastUid = Math.max(batch.lastUid, pending.at(-1)?.uid ?? after);
      if (!batch.empty) await flush();
      await storing;
    } finally {
      await (storing as Promise<void> | null)?.catch(() => {});
    }
  }

  /** Adds a fetched message to the batch, unless the target already holds its bytes. */
  private take(
    folder: string,
    batch: Batch,
    uid: number,
    message: { source?: Buffer; flags?: Set<string>; internalDate?: Date | string },
  ): void {
    const raw = message.source!;
    if (raw.length > this.options.maxMessageSize) {
      // Grown since the listing (or the source told a wrong size).
      this.progress.skip({
        folder,
        uid,
        reason: `too big (${raw.length} > ${this.options.maxMessageSize} bytes)`,
      });
      this.progress.done(raw.length, 'skipped');
      return;
    }
    const hash = createHash('sha256').update(raw).digest('hex');
    if (this.known.has(hash)) {
      this.progress.done(raw.length, 'duplicate');
      return;
    }
    this.known.add(hash);
    const flags = [...(message.flags ?? [])].filter((flag) => flag.toLowerCase() !== '\\recent');
    const internalDate =
      message.internalDate instanceof Date
        ? message.internalDate
        : new Date(message.internalDate ?? Date.now());
    batch.messages.push({ uid, raw, flags, internalDate, hash });
    batch.bytes += raw.length;
  }

  /**
   * Stores a batch with its progress record in one store call. When the store refuses the batch
   * for one message (over quota, invalid), it goes again one message at a time, so only those
   * are skipped, and the record follows.
   */
  private async storeBatch(folder: string, mailboxId: Id, batch: Batch): Promise<void> {
    const record = {
      source: sourceName(this.options.source),
      folder,
      uidValidity: this.uidValidity,
      lastUid: batch.lastUid,
    };
    const items = batch.messages.map((message) => ({
      raw: message.raw,
      options: { flags: message.flags, internalDate: message.internalDate },
    }));
    try {
      await this.store.appendMany(mailboxId, items, { importProgress: record });
    } catch (error) {
      if (!isStoreError(error, 'OVERQUOTA') && !isStoreError(error, 'INVALID')) throw error;
      for (const message of batch.messages) {
        this.progress.done(message.raw.length, await this.appendOne(folder, mailboxId, message));
      }
      await this.record(folder, batch.lastUid);
      return;
    }
    for (const message of batch.messages) this.progress.done(message.raw.length, 'imported');
  }

  private async appendOne(folder: string, mailboxId: Id, message: Fetched): Promise<'imported' | 'skipped'> {
    try {
      await this.store.append(mailboxId, message.raw, {
        flags: message.flags,
        internalDate: message.internalDate,
      });
      return 'imported';
    } catch (error) {
      const quota = isStoreError(error, 'OVERQUOTA');
      if (!quota && !isStoreError(error, 'INVALID')) throw error;
      this.known.delete(message.hash);
      const reason = quota ? `over quota (${message.raw.length} bytes)` : (error as Error).message;
      this.progress.skip({ folder, uid: message.uid, reason });
      return 'skipped';
    }
  }
}

/** Runs the import; returns the progress (its report lists what was skipped). */
export async function importFromImap(store: Store, options: ImportOptions): Promise<Progress> {
  const progress = options.progress ?? new Progress(options.print);
  const throttle = new Throttle(options.rates ?? {});
  const client = await connectSource(options.source);
  try {
    const listed = await client.list();
    const plans = planFolders(
      listed.map((folder) => ({
        path: folder.path,
        delimiter: folder.delimiter,
        flags: folder.flags,
        specialUse: folder.specialUse,
      })),
      { only: options.folders, includeAllMail: options.includeAllMail },
    );
    const records = await store.listImportProgress(options.userId, sourceName(options.source));
    const lastUidOf = new Map(records.map((record) => [record.folder, record]));
    for (const plan of plans) {
      options.signal?.throwIfAborted();
      if (plan.action === 'skip') {
        if (!plan.quiet) progress.skip({ folder: plan.source, uid: null, reason: plan.reason });
        continue;
      }
      options.print(`${plan.source} -> ${plan.target}`);
      await new FolderImport(store, client, options, progress, throttle).run(plan, lastUidOf);
    }
    progress.printLine();
    return progress;
  } finally {
    await client.logout().catch(() => client.close());
  }
}
