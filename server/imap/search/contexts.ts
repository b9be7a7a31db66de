/**
 * Updating searches (CONTEXT=SEARCH and CONTEXT=SORT, RFC 5267 4): a UID SEARCH or UID SORT with
 * RETURN (UPDATE) keeps its result, and when messages arrive, leave or change flags the server
 * tells the client how the result changed, unasked:
 *
 *     * ESEARCH (TAG "B01") UID REMOVEFROM (0 5)      (SEARCH: no order, position 0)
 *     * ESEARCH (TAG "S01") UID ADDTO (1 9 4 12)       (SORT: 9 now first, 12 fourth)
 *
 * For SORT, REMOVEFROM pairs come last position first, each position as it is before that removal,
 * and ADDTO pairs first position first, each position as it is once that message is in: applied in
 * the order given, the client's list becomes the new sorted result. A message's sort keys never
 * change, so the messages that stay keep their relative order.
 *
 * The result is recomputed by running the search again over the mailbox the client sees, when
 * there were changes; so each updating search costs one search per batch of changes, and a
 * session may keep MAX_UPDATING_SEARCHES of them (beyond that the search is answered but not kept:
 * `* NO [NOUPDATE "tag"]`). A search by sequence number is not kept either: its numbers would move
 * under every expunge. The contexts live as long as the selection (a view).
 */
import { quote, type ResponseBuilder } from '../encoder/index.ts';
import type { SearchKey, SortCriterion } from '../parser/index.ts';

/** Updating searches one session may keep at once. */
export const MAX_UPDATING_SEARCHES = 5;

export interface SearchContext {
  /** The tag of the command that started it (CANCELUPDATE names it). */
  tag: string;
  criteria: SearchKey;
  /** SORT criteria; null for a SEARCH. */
  sort: SortCriterion[] | null;
  /** The result as the client knows it: UIDs, ascending for SEARCH, in sort order for SORT. */
  uids: number[];
}

export class SearchContexts {
  /** Made with the first updating search: most sessions never have one. */
  private contexts: Map<string, SearchContext> | null = null;
  /** Something changed that may change a result (set by the view, cleared by a refresh). */
  stale = false;

  get size(): number {
    return this.contexts?.size ?? 0;
  }

  /** Keeps a search; false when the session has as many as it may. A tag in use is replaced. */
  add(context: SearchContext): boolean {
    const contexts = (this.contexts ??= new Map());
    if (!contexts.has(context.tag) && contexts.size >= MAX_UPDATING_SEARCHES) return false;
    contexts.set(context.tag, context);
    return true;
  }

  has(tag: string): boolean {
    return this.contexts?.has(tag) ?? false;
  }

  /** Stops updating a search; false when no search of that tag is updating. */
  cancel(tag: string): boolean {
    return this.contexts?.delete(tag) ?? false;
  }

  all(): SearchContext[] {
    return this.contexts ? [...this.contexts.values()] : [];
  }
}

/** `ADDTO`/`REMOVEFROM` pairs: `(pos uid pos uid ...)`. */
function writePairs(builder: ResponseBuilder, word: string, pairs: ReadonlyArray<[number, number]>): void {
  builder.text(` ${word} (${pairs.map(([position, uid]) => `${position} ${uid}`).join(' ')})`);
}

/** Writes the ESEARCH updates that turn `before` into `after` for one search; true when any. */
export function writeContextChange(
  builder: ResponseBuilder,
  context: SearchContext,
  after: readonly number[],
): boolean {
  const before = context.uids;
  const kept = new Set(after);
  const removed = before.filter((uid) => !kept.has(uid));
  const known = new Set(before);
  const added = after.filter((uid) => !known.has(uid));
  if (removed.length === 0 && added.length === 0) return false;
  const head = () => builder.untagged().text(`ESEARCH (TAG ${quote(context.tag)}) UID`);
  if (context.sort === null) {
    // SEARCH results have no order: position 0, and the UIDs as one set.
    if (removed.length > 0) head().text(' REMOVEFROM (0 ').sequence(removed).text(')').crlf();
    if (added.length > 0) head().text(' ADDTO (0 ').sequence(added).text(')').crlf();
  } else {
    if (removed.length > 0) {
      const positions = new Map(before.map((uid, index) => [uid, index + 1]));
      const pairs = removed.map((uid): [number, number] => [positions.get(uid)!, uid]).reverse();
      head();
      writePairs(builder, 'REMOVEFROM', pairs);
      builder.crlf();
    }
    if (added.length > 0) {
      const pairs: Array<[number, number]> = [];
      after.forEach((uid, index) => {
        if (!known.has(uid)) pairs.push([index + 1, uid]);
      });
      head();
      writePairs(builder, 'ADDTO', pairs);
      builder.crlf();
    }
  }
  context.uids = [...after];
  return true;
}

/**
 * RETURN (UPDATE): keeps the search updating, or says why not with `* NO [NOUPDATE "tag"]` (the
 * search itself is answered all the same).
 */
export function keepUpdating(
  builder: ResponseBuilder,
  contexts: SearchContexts,
  byUid: boolean,
  context: SearchContext,
): void {
  let refusal: string | null = null;
  if (!byUid) refusal = 'Only UID SEARCH and UID SORT results are updated';
  else if (!contexts.add(context))
    refusal = `At most ${MAX_UPDATING_SEARCHES} searches are updated at once: CANCELUPDATE one first`;
  if (refusal !== null) builder.status('*', 'NO', refusal, `NOUPDATE ${quote(context.tag)}`);
}
