/**
 * FETCH and UID FETCH (RFC 3501 6.4.5 and 6.4.8, RFC 3516 BINARY, RFC 7162 CONDSTORE).
 *
 * Messages are handled in batches: the batch's \Seen changes are stored, its summary rows listed in
 * one query, the bodies section data needs read together (a few statements per batch, bounded by
 * size), then each message's response is written and sent once enough bytes have gathered
 * (awaiting the socket, so a slow client holds back the reading, not the memory). The store is only
 * asked for what the items need: FLAGS, UID and MODSEQ come from the session's view.
 *
 * A message another session expunged after this one listed it may have lost its summary or body:
 * it is left out, and the command ends `OK [EXPUNGEISSUED]`, as Dovecot does.
 *
 * The PARTIAL modifier (RFC 9394 3.3) narrows the set to the messages at those positions, counted
 * in UID order over what the set and CHANGEDSINCE select: `UID FETCH 1:* (FLAGS) (PARTIAL -1:-50)`
 * is the newest fifty.
 *
 * Other sessions of the process are not kept waiting: the loop gives the event loop a turn every
 * few milliseconds (time-slice.ts), big responses are written chunk by chunk rather than joined, and
 * the transfer decoding of a big BINARY part runs on the parse pool (offload/).
 */
import { enableCondstore } from '../condstore.ts';
import { isStoreError } from '../../store/errors.ts';
import type { MimeIndex } from '../../mime/index.ts';
import type { MessageSummary, UidRange } from '../../store/types.ts';
import { requireView, type CommandHandler, type ImapContext } from '../context.ts';
import type { ResponseBuilder } from '../encoder/index.ts';
import { bad } from '../errors.ts';
import { binaryTarget } from '../fetch/binary.ts';
import { planFetch, type FetchPlan } from '../fetch/plan.ts';
import { renderFetch, type BinaryItem, type FetchMessage } from '../fetch/render.ts';
import { namesWholeView, resolveTargets, type Targets } from '../fetch/targets.ts';
import { partialSlice } from '../search/partial.ts';
import { fetchFromView, isViewOnly } from '../fetch/view-only.ts';
import type { MailboxView } from '../mailbox-view.ts';
import { asBuffer } from '../../transfer.ts';
import { OFFLOAD_BYTES, type ParsePool } from '../offload/pool.ts';
import { TimeSlice } from '../time-slice.ts';
import type { FetchCommand, PartialRange, SequenceSet } from '../parser/index.ts';
import { uidRangesOf, vanishedSince } from '../qresync.ts';
import { isUidOnly } from '../uidonly.ts';
import { announceKeywordsOf, sessionFlags } from '../updates.ts';

/** Messages per batch: bounds one \Seen transaction, one listing and the memory held for it. */
const BATCH = 256;
/** Responses are sent once this many bytes have gathered (a single large message is sent alone). */
const FLUSH_BYTES = 256 * 1024;

/** Largest UID gap bridged inside one listed range. */
const MAX_BRIDGED_GAP = 16;

const SEEN = '\\Seen';

/** Sets \Seen on the batch's unseen messages; returns the UIDs whose flags changed. */
async function markSeen(ctx: ImapContext, view: MailboxView, uids: readonly number[]): Promise<Set<number>> {
  const unseen = uids.filter((uid) => !view.flagsOf(uid).includes(SEEN));
  if (unseen.length === 0) return new Set();
  const result = await ctx.services.store.storeFlags(view.mailbox.id, unseen, 'add', [SEEN]);
  for (const update of result.updated) view.applyOwnFlags(update.uid, update.flags, update.modseq);
  return new Set(result.updated.map((update) => update.uid));
}

/**
 * Ascending UIDs as ranges for one listing. Small gaps are bridged (the extra rows are ignored), so
 * a scattered set such as a CHANGEDSINCE result does not become one range, one query, per message.
 */
function toUidRanges(uids: readonly number[]): UidRange[] {
  const ranges: UidRange[] = [];
  for (const uid of uids) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && uid - last.to <= MAX_BRIDGED_GAP) last.to = uid;
    else ranges.push({ from: uid, to: uid });
  }
  return ranges;
}

async function listSummaries(
  ctx: ImapContext,
  view: MailboxView,
  uids: readonly number[],
): Promise<Map<number, MessageSummary>> {
  const summaries = await ctx.services.store.listMessages(view.mailbox.id, { uids: toUidRanges(uids) });
  return new Map(summaries.map((summary) => [summary.uid, summary]));
}

const NO_INDEX = { index: null };
const NO_FLAGS: readonly string[] = [];

/** The message's MIME index; null when another session expunged it. */
async function loadIndex(ctx: ImapContext, summary: MessageSummary): Promise<{ index: MimeIndex } | null> {
  try {
    return { index: await ctx.services.store.readMimeIndex(summary.blobId) };
  } catch (error) {
    // The last copy of the body went with the expunge.
    if (isStoreError(error, 'NONEXISTENT')) return null;
    throw error;
  }
}

/**
 * The bodies of a run of messages, read together (a few statements rather than one per message).
 * A body missing from the result went with another session's expunge.
 */
function loadBodies(ctx: ImapContext, summaries: readonly MessageSummary[]): Promise<Map<string, Buffer>> {
  return ctx.services.store.readBlobs(summaries.map((summary) => summary.blobId));
}

/** The stored previews of a batch (PREVIEW); a missing one went with another session's expunge. */
function loadPreviews(
  ctx: ImapContext,
  summaries: Map<number, MessageSummary>,
): Promise<Map<string, string>> {
  return ctx.services.store.readPreviews([...summaries.values()].map((summary) => summary.blobId));
}

/** Short responses (flags, dates) gathered between two size checks. */
const CHECK_EVERY = 64;
const EMPTY = Buffer.alloc(0);

/** Gathers responses and sends them in chunks of about FLUSH_BYTES, awaiting the socket. */
class FetchWriter {
  private builder: ResponseBuilder;
  private unchecked = 0;

  constructor(private readonly ctx: ImapContext) {
    this.builder = ctx.builder();
  }

  get current(): ResponseBuilder {
    return this.builder;
  }

  /**
   * After each message: whether enough has gathered to send. The builder's size is measured only
   * every CHECK_EVERY short responses (it walks the pending text), or after each message with body
   * data (literals go out as chunks). Synchronous, so a message that does not fill the chunk costs
   * no promise.
   */
  full(withData: boolean): boolean {
    if (!withData) {
      if (++this.unchecked < CHECK_EVERY) return false;
      this.unchecked = 0;
      // Turns the text gathered so far into a chunk, so that measuring it does not walk (and
      // flatten) an ever longer pending string at every check.
      this.builder.raw(EMPTY);
    }
    return this.builder.byteLength >= FLUSH_BYTES;
  }

  /** Sends what gathered once it is a chunk's worth (for callers that write large texts). */
  async flushIfFull(): Promise<void> {
    if (this.builder.byteLength >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.builder.byteLength === 0) return;
    const full = this.builder;
    this.builder = this.ctx.builder();
    await this.ctx.write(full);
  }
}

interface FetchRun {
  ctx: ImapContext;
  slice: TimeSlice;
  view: MailboxView;
  plan: FetchPlan;
  writer: FetchWriter;
  condstore: boolean;
  /** FLAGS is asked for. */
  flags: boolean;
  /** Some message could not be read any more (expunged by another session). */
  expunged: boolean;
}

/**
 * The BINARY items of a big message whose parts need decoding, decoded on the pool; the message
 * bytes travel to the worker and back, so `message.raw` (and the batch's copy in `bodies`) is
 * replaced by what comes back. Null when nothing was worth sending.
 */
async function decodeOnPool(
  pool: ParsePool,
  plan: FetchPlan,
  message: FetchMessage,
  bodies: Map<string, Buffer>,
): Promise<Map<BinaryItem, Buffer | null> | null> {
  let decoded: Map<BinaryItem, Buffer | null> | null = null;
  for (const item of plan.items) {
    if (item.kind !== 'binary' && item.kind !== 'binary-size') continue;
    const target = binaryTarget(message.raw!, message.index, item.part);
    if (target.kind !== 'decode' || target.end - target.start < OFFLOAD_BYTES) continue;
    const result = await pool.run({ ...target, raw: message.raw! });
    message.raw = asBuffer(result.raw);
    bodies.set(message.summary!.blobId, message.raw);
    decoded ??= new Map();
    decoded.set(item, asBuffer(result.decoded));
  }
  return decoded;
}

/** Bodies read together are bounded by their total size (a single larger body is read alone). */
const BODY_BYTES = 4 * 1024 * 1024;

async function fetchBatch(run: FetchRun, seqs: readonly number[], uids: readonly number[]): Promise<void> {
  const { ctx, view, plan } = run;
  const changed = plan.setsSeen && !view.readOnly ? await markSeen(ctx, view, uids) : null;
  const summaries = plan.needsSummary ? await listSummaries(ctx, view, uids) : null;
  const previews = plan.needsPreview ? await loadPreviews(ctx, summaries!) : null;
  let start = 0;
  while (start < uids.length) {
    let end = uids.length;
    let bodies: Map<string, Buffer> | null = null;
    if (plan.needsRaw) {
      // Section data: the bodies of a run of messages (up to BODY_BYTES) are read at once.
      const group: MessageSummary[] = [];
      let bytes = 0;
      for (end = start; end < uids.length; end++) {
        const summary = summaries!.get(uids[end]!);
        if (summary === undefined) continue;
        if (group.length > 0 && bytes + summary.size > BODY_BYTES) break;
        group.push(summary);
        bytes += summary.size;
      }
      bodies = group.length > 0 ? await loadBodies(ctx, group) : new Map<string, Buffer>();
    }
    for (let i = start; i < end; i++) {
      const uid = uids[i]!;
      const summary = summaries === null ? null : (summaries.get(uid) ?? null);
      const raw = bodies === null || summary === null ? null : (bodies.get(summary.blobId) ?? null);
      const preview = previews === null || summary === null ? null : (previews.get(summary.blobId) ?? null);
      if (
        (summaries !== null && summary === null) ||
        (bodies !== null && raw === null) ||
        (previews !== null && preview === null)
      ) {
        run.expunged = true;
        continue;
      }
      // Only awaited when the plan needs the index, so a message costs no promise otherwise.
      const loaded = plan.needsIndex && summary !== null ? await loadIndex(ctx, summary) : NO_INDEX;
      if (loaded === null) {
        run.expunged = true;
        continue;
      }
      const flagsChanged = changed !== null && changed.has(uid);
      const message: FetchMessage = {
        seq: seqs[i]!,
        uid,
        // Looked up only when answered: FLAGS (or MODSEQ) asked for, or reported after \Seen was set.
        flags: run.flags || flagsChanged ? sessionFlags(view, uid) : NO_FLAGS,
        modseq: plan.modseq || (flagsChanged && run.condstore) ? view.modseqOf(uid) : 0,
        summary,
        index: loaded.index,
        raw,
        preview,
        flagsChanged,
      };
      const pool = ctx.services.parsePool;
      const binaries =
        pool && plan.needsRaw && raw !== null && raw.length >= OFFLOAD_BYTES && bodies !== null
          ? await decodeOnPool(pool, plan, message, bodies)
          : null;
      if (message.flags.length > 0) announceKeywordsOf(run.writer.current, view, message.flags);
      renderFetch(run.writer.current, plan.items, message, {
        condstore: run.condstore,
        uidOnly: isUidOnly(ctx.session),
        ...(binaries ? { binaries } : {}),
      });
      if (run.writer.full(plan.needsRaw)) await run.writer.flush();
      await run.slice.yield();
    }
    start = end;
  }
}

/** The targets at the PARTIAL positions, among those changed since `changedSince` when given. */
function partialTargets(
  view: MailboxView,
  targets: Targets,
  changedSince: number | undefined,
  range: PartialRange,
): Targets {
  const positions: number[] = [];
  for (let i = 0; i < targets.uids.length; i++) {
    if (changedSince === undefined || view.modseqOf(targets.uids[i]!) > changedSince) positions.push(i);
  }
  const chosen = partialSlice(positions, range);
  return { seqs: chosen.map((i) => targets.seqs[i]!), uids: chosen.map((i) => targets.uids[i]!) };
}

/** UID FETCH (CHANGEDSINCE n VANISHED): the UIDs of the set expunged since n, first (RFC 7162 3.2.6). */
async function writeVanished(
  ctx: ImapContext,
  view: MailboxView,
  set: SequenceSet,
  since: number,
): Promise<void> {
  const vanished = await vanishedSince(ctx, view, since, uidRangesOf(view, set));
  if (vanished !== '')
    await ctx.write(ctx.builder().untagged().text(`VANISHED (EARLIER) ${vanished}`).crlf());
}

const NO_TARGETS: Targets = { seqs: [], uids: [] };

export const fetch: CommandHandler<FetchCommand> = {
  states: ['selected'],
  // FETCH by sequence number must not see sequence numbers shift (RFC 3501 7.4.1).
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = requireView(ctx);
    if (command.modifiers.vanished && !ctx.session.enabled.has('QRESYNC')) {
      throw bad('VANISHED needs QRESYNC: ENABLE QRESYNC first');
    }
    const plan = planFetch(command);
    // `1:*` of FLAGS/UID/MODSEQ over a view showing the shared state as it is: no lists, the state
    // is walked in place (fetch/view-only.ts).
    const whole =
      isViewOnly(plan) && !command.modifiers.partial && namesWholeView(view, command.sequence, command.uid);
    const targets = whole ? NO_TARGETS : resolveTargets(view, command.sequence, command.uid);
    const { seqs, uids } = command.modifiers.partial
      ? partialTargets(view, targets, command.modifiers.changedSince, command.modifiers.partial)
      : targets;
    if (plan.modseq) await enableCondstore(ctx);
    if (command.modifiers.vanished)
      await writeVanished(ctx, view, command.sequence, command.modifiers.changedSince!);
    const run: FetchRun = {
      ctx,
      slice: new TimeSlice(),
      view,
      plan,
      writer: new FetchWriter(ctx),
      condstore: ctx.session.enabled.has('CONDSTORE'),
      flags: plan.items.some((item) => item.kind === 'attribute' && item.name === 'FLAGS'),
      expunged: false,
    };
    const changedSince = command.modifiers.changedSince;
    if (isViewOnly(plan)) {
      // FLAGS, UID, MODSEQ: written from the shared state, no store call and no per-message objects.
      try {
        await fetchFromView(
          {
            view,
            items: plan.items,
            changedSince,
            slice: run.slice,
            builder: () => run.writer.current,
            uidOnly: isUidOnly(ctx.session),
            flushIfFull: () => run.writer.flushIfFull(),
          },
          whole ? null : { seqs, uids },
        );
      } finally {
        await run.writer.flush();
      }
      return undefined;
    }
    let batchSeqs: number[] = [];
    let batchUids: number[] = [];
    try {
      for (let i = 0; i < uids.length; i++) {
        const uid = uids[i]!;
        if (changedSince !== undefined && view.modseqOf(uid) <= changedSince) {
          // A CHANGEDSINCE over a big mailbox may skip a lot of messages before one is sent.
          if ((i & 4095) === 0) await run.slice.yield();
          continue;
        }
        batchSeqs.push(seqs[i]!);
        batchUids.push(uid);
        if (batchUids.length < BATCH) continue;
        await fetchBatch(run, batchSeqs, batchUids);
        batchSeqs = [];
        batchUids = [];
      }
      if (batchUids.length > 0) await fetchBatch(run, batchSeqs, batchUids);
    } finally {
      // What was answered before a failure (an undecodable BINARY part) still goes out.
      await run.writer.flush();
    }
    if (run.expunged) return { code: 'EXPUNGEISSUED', text: 'Some messages were already expunged' };
    return undefined;
  },
};
