/**
 * QRESYNC (RFC 7162 3.2): the VANISHED (EARLIER) answer of SELECT/EXAMINE (QRESYNC ...) and of
 * UID FETCH (CHANGEDSINCE n VANISHED), and the changed flags a reselect reports.
 *
 * Expunged UIDs come from the store (`expungedSince`). Where it no longer remembers every expunge
 * since the client's MODSEQ (a mailbox older than the record, or imported), the answer is every
 * UID of the asked range that is not in the mailbox, which RFC 7162 3.2.5.2 allows ("a larger
 * set"); the sequence match data then narrows it to the UIDs above the last sequence number whose
 * UID the client still has right.
 */
import type { UidRange } from '../store/types.ts';
import type { ImapContext } from './context.ts';
import type { ResponseBuilder } from './encoder/index.ts';
import type { MailboxView } from './mailbox-view.ts';
import { resolveRanges, type QresyncParams, type SequenceSet } from './parser/index.ts';
import { sessionFlags } from './updates.ts';

type Ranges = Array<[number, number]>;

/** The highest UID this client could know of: `*` of a UID set, and the end of 1:*. */
function highestUid(view: MailboxView): number {
  return Math.max(0, view.mailbox.uidNext - 1, view.uidAt(view.exists) ?? 0);
}

/** `[low, high]` pairs as a sequence set (`1:3,7`); '' when empty. */
function formatRanges(ranges: Ranges): string {
  return ranges.map(([low, high]) => (low === high ? String(low) : `${low}:${high}`)).join(',');
}

/** The UIDs within `ranges` (sorted, merged) that are not in `present` (ascending), as ranges. */
export function missingRanges(ranges: Ranges, present: readonly number[]): Ranges {
  const missing: Ranges = [];
  let next = 0;
  for (const [low, high] of ranges) {
    let from = low;
    while (next < present.length && present[next]! < low) next++;
    while (next < present.length && present[next]! <= high) {
      const uid = present[next++]!;
      if (uid > from) missing.push([from, uid - 1]);
      from = uid + 1;
    }
    if (from <= high) missing.push([from, high]);
  }
  return missing;
}

/** Numbers of a set in the order given (`*` = max), lazily: a client's set may be 1:4294967295. */
function* numbersOf(set: SequenceSet, max: number): Generator<number> {
  for (const range of set.ranges) {
    const start = range.start === '*' ? max : range.start;
    const end = range.end === '*' ? max : range.end;
    const step = start <= end ? 1 : -1;
    for (let n = start; ; n += step) {
      yield n;
      if (n === end) break;
    }
  }
}

/**
 * The highest UID up to which the client's sequence match data agrees with the view (RFC 7162
 * 3.2.5.2): pairs are read in order until the first that no longer matches. 0 when none does.
 */
function matchedUid(view: MailboxView, seqMatch: NonNullable<QresyncParams['seqMatch']>): number {
  const uids = numbersOf(seqMatch.uids, highestUid(view));
  let matched = 0;
  for (const seq of numbersOf(seqMatch.sequences, view.exists)) {
    const uid = uids.next();
    if (uid.done || seq < 1 || seq > view.exists || view.uidAt(seq) !== uid.value) break;
    matched = uid.value;
  }
  return matched;
}

/**
 * The UIDs of `ranges` expunged since `modseq` that the client should be told of with VANISHED
 * (EARLIER), as a sequence set ('' for none). UIDs the view still shows are left out: their
 * unsolicited VANISHED follows, after which the client no longer counts them.
 */
export async function vanishedSince(
  ctx: ImapContext,
  view: MailboxView,
  modseq: number,
  ranges: Ranges,
  seqMatch: QresyncParams['seqMatch'] = null,
): Promise<string> {
  if (ranges.length === 0) return '';
  const uidRanges: UidRange[] = ranges.map(([from, to]) => ({ from, to }));
  const expunged = await ctx.services.store.expungedSince(view.mailbox.id, modseq, uidRanges);
  if (expunged !== null) {
    const gone = expunged.filter((uid) => view.seqOf(uid) === 0);
    return formatRanges(toRanges(gone));
  }
  // Past what the store remembers: every UID of the range not in the mailbox.
  const floor = seqMatch ? matchedUid(view, seqMatch) : 0;
  const above = ranges
    .filter(([, high]) => high > floor)
    .map(([low, high]): [number, number] => [Math.max(low, floor + 1), high]);
  const capped = above
    .map(([low, high]): [number, number] => [low, Math.min(high, highestUid(view))])
    .filter(([low, high]) => low <= high);
  return formatRanges(missingRanges(capped, view.allUids()));
}

/** Ascending numbers as merged ranges. */
function toRanges(sorted: readonly number[]): Ranges {
  const ranges: Ranges = [];
  for (const n of sorted) {
    const last = ranges.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else ranges.push([n, n]);
  }
  return ranges;
}

/** The UID ranges a QRESYNC parameter or UID FETCH set names (`*` = the highest UID). */
export function uidRangesOf(view: MailboxView, set: SequenceSet | null): Ranges {
  const highest = highestUid(view);
  if (set === null) return highest > 0 ? [[1, highest]] : [];
  return resolveRanges(set, highest);
}

/** FETCH (UID FLAGS MODSEQ) of every message of the view changed since `modseq`. */
export function appendChangedSince(
  builder: ResponseBuilder,
  view: MailboxView,
  modseq: number,
  uidOnly = false,
): void {
  for (let seq = 1; seq <= view.exists; seq++) {
    const uid = view.uidAt(seq)!;
    const changed = view.modseqOf(uid);
    if (changed <= modseq) continue;
    builder.untagged().text(`${uidOnly ? `${uid} UIDFETCH` : `${seq} FETCH`} (UID ${uid} FLAGS `);
    builder.flags(sessionFlags(view, uid));
    builder.text(` MODSEQ (${changed}))`).crlf();
  }
}

/** SELECT/EXAMINE (QRESYNC ...): VANISHED (EARLIER), then the changed flags (RFC 7162 3.2.5). */
export async function writeQresyncSelect(
  ctx: ImapContext,
  view: MailboxView,
  params: QresyncParams,
): Promise<void> {
  // Another UIDVALIDITY: the client's cache is void, the SELECT is a plain one (RFC 7162 3.2.5).
  if (params.uidValidity !== view.mailbox.uidValidity) return;
  const vanished = await vanishedSince(
    ctx,
    view,
    params.modSeq,
    uidRangesOf(view, params.knownUids),
    params.seqMatch,
  );
  const builder = ctx.builder();
  if (vanished !== '') builder.untagged().text(`VANISHED (EARLIER) ${vanished}`).crlf();
  appendChangedSince(builder, view, params.modSeq, ctx.session.enabled.has('UIDONLY'));
  if (builder.byteLength > 0) await ctx.write(builder);
}
