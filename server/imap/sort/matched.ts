/**
 * The messages SORT and THREAD work on: the search (as SEARCH runs it, search/run.ts), then the
 * sort data of the matches (load.ts), and for SORT their order by the mailbox's rankings (order.ts).
 */
import { enableCondstore } from '../condstore.ts';
import type { ImapContext } from '../context.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { SearchKey } from '../parser/index.ts';
import { compileSearch } from '../search/compile.ts';
import { runSearch } from '../search/run.ts';
import type { SortCriterion, SortEntry, SortMessage } from './keys.ts';
import { loadSortEntries } from './load.ts';
import { sortOrder } from './order.ts';
import { ranksOf } from './ranks.ts';

export interface MatchedEntries {
  /** The cache's entries of the matches, in sequence order, and their sequence numbers. */
  entries: SortEntry[];
  seqs: number[];
  /** Some messages could not be read any more (expunged by another session). */
  lost: boolean;
}

export interface Matched {
  messages: SortMessage[];
  /** Some messages could not be read any more (expunged by another session). */
  lost: boolean;
}

export async function matchedEntries(
  ctx: ImapContext,
  view: MailboxView,
  criteria: SearchKey,
  withIndex = true,
): Promise<MatchedEntries> {
  const uids = view.allUids();
  const compiled = compileSearch(criteria, {
    exists: uids.length,
    maxUid: uids[uids.length - 1] ?? 0,
    now: Date.now(),
  });
  if (compiled.hasModseq) await enableCondstore(ctx);
  const store = ctx.services.store;
  const result = await runSearch(store, view, compiled, ctx.services.parsePool ?? null);
  const entries = await loadSortEntries(store, view, result.uids, withIndex);
  return { entries, seqs: result.seqs, lost: result.lost };
}

/** The matches as messages of their own, each with its sequence number (what THREAD works on). */
export async function matchedMessages(
  ctx: ImapContext,
  view: MailboxView,
  criteria: SearchKey,
  withIndex = true,
): Promise<Matched> {
  const { entries, seqs, lost } = await matchedEntries(ctx, view, criteria, withIndex);
  return { messages: entries.map((entry, i) => ({ ...entry, seq: seqs[i]! })), lost };
}

/** The positions of the matches in sort order, ranked with the mailbox's kept rankings. */
export function sortedPositions(
  view: MailboxView,
  matched: MatchedEntries,
  criteria: readonly SortCriterion[],
): Uint32Array {
  const cache = view.state.sortCache;
  const mailboxSize = Math.max(cache.size, matched.entries.length);
  return sortOrder(matched.entries, matched.seqs, criteria, ranksOf(cache), mailboxSize);
}

/** Whether a sort program needs the MIME index: ARRIVAL and SIZE alone are in the summaries. */
export function needsIndex(criteria: readonly SortCriterion[]): boolean {
  return criteria.some(({ key }) => key !== 'ARRIVAL' && key !== 'SIZE');
}

/** The UIDs (or, with `seqs`, the sequence numbers) of the matches at these positions. */
export function numbersAt(matched: MatchedEntries, order: Uint32Array, uid: boolean): number[] {
  const numbers = new Array<number>(order.length);
  const { entries, seqs } = matched;
  if (uid) for (let i = 0; i < order.length; i++) numbers[i] = entries[order[i]!]!.uid;
  else for (let i = 0; i < order.length; i++) numbers[i] = seqs[order[i]!]!;
  return numbers;
}
