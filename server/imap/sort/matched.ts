/**
 * The messages SORT and THREAD work on: the search (as SEARCH runs it, search/run.ts), then the
 * sort data of the matches (load.ts), and for SORT their order by the mailbox's rankings (order.ts).
 */
import { enableCondstore } from '../condstore.ts';
import type { ImapContext } from '../context.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { SearchKey } from '../parser/index.ts';
import { compileSearch } from '../search/compile.ts';
import { runSearch, type SearchResult } from '../search/run.ts';
import type { SortCriterion, SortEntry } from './keys.ts';
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

export async function matchedEntries(
  ctx: ImapContext,
  view: MailboxView,
  criteria: SearchKey,
  withIndex = true,
): Promise<MatchedEntries> {
  const result = await searchMatches(ctx, view, criteria);
  const entries = await loadSortEntries(ctx.services.store, view, result.uids, withIndex);
  return { entries, seqs: result.seqs, lost: result.lost };
}

/** The search alone: sequence numbers and UIDs of the matches (THREAD may need no more). */
export async function searchMatches(
  ctx: ImapContext,
  view: MailboxView,
  criteria: SearchKey,
): Promise<SearchResult> {
  const uids = view.allUids();
  const compiled = compileSearch(criteria, {
    exists: uids.length,
    maxUid: uids[uids.length - 1] ?? 0,
    now: Date.now(),
  });
  if (compiled.hasModseq) await enableCondstore(ctx);
  return runSearch(ctx.services.store, view, compiled, ctx.services.parsePool ?? null);
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
