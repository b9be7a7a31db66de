/**
 * FETCH and UID FETCH (RFC 3501 6.4.5 and 6.4.8, RFC 3516 BINARY, RFC 7162 CONDSTORE).
 *
 * Messages are handled in batches: the batch's \Seen changes are stored, its summary rows listed in
 * one query, then each message's response is written and sent once enough bytes have gathered
 * (awaiting the socket, so a slow client holds back the reading, not the memory). The store is only
 * asked for what the items need: FLAGS, UID and MODSEQ come from the session's view.
 *
 * A message another session expunged after this one listed it may have lost its summary or body:
 * it is left out, and the command ends `OK [EXPUNGEISSUED]`, as Dovecot does.
 */
import { isStoreError } from '../../store/errors.ts';
import type { MimeIndex } from '../../mime/index.ts';
import type { MessageSummary, UidRange } from '../../store/types.ts';
import type { CommandHandler, ImapContext } from '../context.ts';
import type { ResponseBuilder } from '../encoder/index.ts';
import { bad } from '../errors.ts';
import { planFetch, type FetchPlan } from '../fetch/plan.ts';
import { renderFetch, type FetchMessage } from '../fetch/render.ts';
import { resolveTargets } from '../fetch/targets.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { FetchCommand } from '../parser/index.ts';
import { sessionFlags } from '../updates.ts';

/** Messages per batch: bounds one \Seen transaction, one listing and the memory held for it. */
const BATCH = 256;
/** Responses are sent once this many bytes have gathered (a single large message is sent alone). */
const FLUSH_BYTES = 64 * 1024;

/** Largest UID gap bridged inside one listed range. */
const MAX_BRIDGED_GAP = 16;

const SEEN = '\\Seen';

function requireView(ctx: ImapContext): MailboxView {
  const view = ctx.session.view;
  if (view === null) throw bad('No mailbox selected');
  return view;
}

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

/** The message's body and index as the plan needs them; null when another session expunged it. */
async function loadContent(
  ctx: ImapContext,
  plan: FetchPlan,
  summary: MessageSummary,
): Promise<{ index: MimeIndex | null; raw: Buffer | null } | null> {
  const { store } = ctx.services;
  try {
    const index = plan.needsIndex ? await store.readMimeIndex(summary.blobId) : null;
    const raw = plan.needsRaw ? await store.readBlob(summary.blobId) : null;
    return { index, raw };
  } catch (error) {
    // The last copy of the body went with the expunge.
    if (isStoreError(error, 'NONEXISTENT')) return null;
    throw error;
  }
}

/** Short responses (flags, dates) gathered between two size checks. */
const CHECK_EVERY = 64;

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
   * After each message. The builder's size is measured only every CHECK_EVERY short responses (it
   * walks the pending text), or after each message with body data (literals go out as chunks).
   */
  async messageDone(withData: boolean): Promise<void> {
    if (!withData && ++this.unchecked < CHECK_EVERY) return;
    this.unchecked = 0;
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
  view: MailboxView;
  plan: FetchPlan;
  writer: FetchWriter;
  condstore: boolean;
  /** Some message could not be read any more (expunged by another session). */
  expunged: boolean;
}

async function fetchBatch(run: FetchRun, seqs: readonly number[], uids: readonly number[]): Promise<void> {
  const { ctx, view, plan } = run;
  const changed = plan.setsSeen && !view.readOnly ? await markSeen(ctx, view, uids) : new Set<number>();
  const summaries = plan.needsSummary ? await listSummaries(ctx, view, uids) : null;
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i]!;
    const summary = summaries?.get(uid) ?? null;
    if (summaries !== null && summary === null) {
      run.expunged = true;
      continue;
    }
    const content = summary === null ? { index: null, raw: null } : await loadContent(ctx, plan, summary);
    if (content === null) {
      run.expunged = true;
      continue;
    }
    const message: FetchMessage = {
      seq: seqs[i]!,
      uid,
      flags: sessionFlags(view, uid),
      modseq: view.modseqOf(uid),
      summary,
      index: content.index,
      raw: content.raw,
      flagsChanged: changed.has(uid),
    };
    renderFetch(run.writer.current, plan.items, message, { condstore: run.condstore });
    await run.writer.messageDone(plan.needsRaw);
  }
}

export const fetch: CommandHandler<FetchCommand> = {
  states: ['selected'],
  // FETCH by sequence number must not see sequence numbers shift (RFC 3501 7.4.1).
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = requireView(ctx);
    if (command.modifiers.vanished) throw bad('VANISHED needs QRESYNC, which is not enabled');
    const plan = planFetch(command);
    const { seqs, uids } = resolveTargets(view, command.sequence, command.uid);
    if (plan.modseq) ctx.session.enabled.add('CONDSTORE');
    const run: FetchRun = {
      ctx,
      view,
      plan,
      writer: new FetchWriter(ctx),
      condstore: ctx.session.enabled.has('CONDSTORE'),
      expunged: false,
    };
    const changedSince = command.modifiers.changedSince;
    let batchSeqs: number[] = [];
    let batchUids: number[] = [];
    try {
      for (let i = 0; i < uids.length; i++) {
        const uid = uids[i]!;
        if (changedSince !== undefined && view.modseqOf(uid) <= changedSince) continue;
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
