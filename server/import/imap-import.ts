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

/** Messages fetched per FETCH: bounds memory (bodies of one batch are held at once). */
const BATCH_MESSAGES = 50;
const BATCH_BYTES = 32 * 1_048_576;

interface Pending {
  uid: number;
  size: number;
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

/** UID sets of at most BATCH_MESSAGES messages and about BATCH_BYTES each. */
function batches(pending: readonly Pending[]): Pending[][] {
  const result: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const message of pending) {
    if (current.length >= BATCH_MESSAGES || (current.length > 0 && bytes + message.size > BATCH_BYTES)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += message.size;
  }
  if (current.length > 0) result.push(current);
  return result;
}

class FolderImport {
  private readonly known = new Set<string>();

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
      const uidValidity = Number(opened.uidValidity);
      const recorded = lastUidOf.get(plan.source);
      const resumeAfter = recorded?.uidValidity === uidValidity ? recorded.lastUid : 0;
      if (recorded && recorded.uidValidity !== uidValidity)
        options.print(`${plan.source}: UIDVALIDITY changed at the source, reading the folder again`);
      const pending = opened.exists > 0 ? await this.listPending(resumeAfter) : [];
      this.progress.expect(
        pending.length,
        pending.reduce((sum, message) => sum + message.size, 0),
      );
      for (const message of await store.listMessages(mailbox.id)) this.known.add(message.blobId);
      let lastUid = resumeAfter;
      for (const batch of batches(pending)) {
        lastUid = await this.importBatch(plan.source, mailbox.id, batch);
        await store.saveImportProgress(options.userId, {
          source: sourceName(options.source),
          folder: plan.source,
          uidValidity,
          lastUid,
        });
      }
      if (pending.length === 0 || !recorded)
        await store.saveImportProgress(options.userId, {
          source: sourceName(options.source),
          folder: plan.source,
          uidValidity,
          lastUid,
        });
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

  /** Fetches and appends one batch; returns its highest UID. */
  private async importBatch(folder: string, mailboxId: Id, batch: Pending[]): Promise<number> {
    const fetched = new Map<number, { raw: Buffer; flags: string[]; internalDate: Date }>();
    const uids = batch.map((message) => message.uid).join(',');
    for await (const message of this.client.fetch(
      uids,
      { uid: true, flags: true, internalDate: true, source: true },
      { uid: true },
    )) {
      if (!message.source) continue;
      const flags = [...(message.flags ?? [])].filter((flag) => flag.toLowerCase() !== '\\recent');
      const date =
        message.internalDate instanceof Date
          ? message.internalDate
          : new Date(message.internalDate ?? Date.now());
      fetched.set(message.uid, { raw: message.source, flags, internalDate: date });
    }
    for (const { uid, size } of batch) {
      this.options.signal?.throwIfAborted();
      const message = fetched.get(uid);
      if (!message) {
        // Expunged at the source between the listing and the fetch.
        this.progress.done(size, 'skipped');
        continue;
      }
      const outcome = await this.importMessage(folder, mailboxId, uid, message);
      this.progress.done(message.raw.length, outcome);
      await this.throttle.pass(message.raw.length);
    }
    return batch[batch.length - 1]!.uid;
  }

  private async importMessage(
    folder: string,
    mailboxId: Id,
    uid: number,
    message: { raw: Buffer; flags: string[]; internalDate: Date },
  ): Promise<'imported' | 'duplicate' | 'skipped'> {
    const { raw } = message;
    if (raw.length > this.options.maxMessageSize) {
      this.progress.skip({
        folder,
        uid,
        reason: `too big (${raw.length} > ${this.options.maxMessageSize} bytes)`,
      });
      return 'skipped';
    }
    const hash = createHash('sha256').update(raw).digest('hex');
    if (this.known.has(hash)) return 'duplicate';
    try {
      await this.store.append(mailboxId, raw, { flags: message.flags, internalDate: message.internalDate });
    } catch (error) {
      if (isStoreError(error, 'OVERQUOTA')) {
        this.progress.skip({ folder, uid, reason: `over quota (${raw.length} bytes)` });
        return 'skipped';
      }
      if (isStoreError(error, 'INVALID')) {
        this.progress.skip({ folder, uid, reason: (error as Error).message });
        return 'skipped';
      }
      throw error;
    }
    this.known.add(hash);
    return 'imported';
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
