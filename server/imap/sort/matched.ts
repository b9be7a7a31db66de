/**
 * The messages SORT and THREAD work on: the search (as SEARCH runs it, search/run.ts), then the
 * sort data of the matches (load.ts).
 */
import { enableCondstore } from '../condstore.ts';
import type { ImapContext } from '../context.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { SearchKey } from '../parser/index.ts';
import { compileSearch } from '../search/compile.ts';
import { runSearch, type SearchResult } from '../search/run.ts';
import type { SortMessage } from './keys.ts';
import { loadSortMessages } from './load.ts';

export interface Matched {
  messages: SortMessage[];
  /** Some messages could not be read any more (expunged by another session). */
  lost: boolean;
}

export async function matchedMessages(
  ctx: ImapContext,
  view: MailboxView,
  criteria: SearchKey,
  withIndex = true,
): Promise<Matched> {
  const result = await searchMatches(ctx, view, criteria);
  const messages = await loadSortMessages(ctx.services.store, view, result.seqs, result.uids, withIndex);
  return { messages, lost: result.lost };
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
