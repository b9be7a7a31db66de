/**
 * Brings the session's updating searches (contexts.ts) up to date with the mailbox it sees: each
 * search runs again, and the differences go out as ESEARCH ADDTO/REMOVEFROM. Called with the other
 * unsolicited updates, after they have been applied to the view.
 */
import type { ImapContext } from '../context.ts';
import type { ResponseBuilder } from '../encoder/index.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { SearchKey, SortCriterion } from '../parser/index.ts';
import { matchedEntries, needsIndex, numbersAt, sortedPositions } from '../sort/matched.ts';
import { compileSearch } from './compile.ts';
import { writeContextChange } from './contexts.ts';
import { runSearch } from './run.ts';

/** The UIDs a SEARCH matches now, ascending. */
async function searchUids(ctx: ImapContext, view: MailboxView, criteria: SearchKey): Promise<number[]> {
  const uids = view.allUids();
  const compiled = compileSearch(criteria, {
    exists: uids.length,
    maxUid: uids[uids.length - 1] ?? 0,
    now: Date.now(),
    saved: view.searchResult(),
  });
  const result = await runSearch(ctx.services.store, view, compiled, ctx.services.parsePool ?? null);
  return result.uids;
}

/** The UIDs a SORT matches now, in sort order. */
export async function sortedUids(
  ctx: ImapContext,
  view: MailboxView,
  criteria: SearchKey,
  sort: readonly SortCriterion[],
): Promise<number[]> {
  const matched = await matchedEntries(ctx, view, criteria, needsIndex(sort));
  return numbersAt(matched, sortedPositions(view, matched, sort), true);
}

/** Appends the ADDTO/REMOVEFROM updates of every updating search whose result changed. */
export async function refreshSearchContexts(
  ctx: ImapContext,
  view: MailboxView,
  builder: ResponseBuilder,
): Promise<void> {
  const contexts = view.searchContexts;
  if (!contexts.stale) return;
  contexts.stale = false;
  for (const context of contexts.all()) {
    const after =
      context.sort === null
        ? await searchUids(ctx, view, context.criteria)
        : await sortedUids(ctx, view, context.criteria, context.sort);
    writeContextChange(builder, context, after);
  }
}
