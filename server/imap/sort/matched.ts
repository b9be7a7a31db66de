/**
 * The messages SORT and THREAD work on: the search (as SEARCH runs it, search/run.ts), then the
 * sort data of the matches (load.ts).
 */
import { enableCondstore } from '../condstore.ts';
import type { ImapContext } from '../context.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { SearchKey } from '../parser/index.ts';
import { compileSearch } from '../search/compile.ts';
import { runSearch } from '../search/run.ts';
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
  const uids = view.allUids();
  const compiled = compileSearch(criteria, {
    exists: uids.length,
    maxUid: uids[uids.length - 1] ?? 0,
    now: Date.now(),
  });
  if (compiled.hasModseq) await enableCondstore(ctx);
  const store = ctx.services.store;
  const result = await runSearch(store, view, compiled, ctx.services.parsePool ?? null);
  const messages = await loadSortMessages(store, view, result.seqs, result.uids, withIndex);
  return { messages, lost: result.lost };
}
