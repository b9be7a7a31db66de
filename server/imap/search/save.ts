/**
 * SEARCHRES (RFC 5182): what SEARCH RETURN (SAVE) keeps as `$`. With MIN and/or MAX but neither
 * ALL nor COUNT only those messages are saved (2.4); otherwise the whole result. A search asked to
 * save that fails empties `$` (2.1), so a pipelined command using `$` does not act on an old result.
 */
import type { MailboxView } from '../mailbox-view.ts';
import type { PartialRange, SearchReturnOption } from '../parser/index.ts';
import { partialSlice } from './partial.ts';

/**
 * With PARTIAL (and neither ALL nor COUNT) the messages of the returned part are saved (RFC 9394
 * 3.2), with those of MIN and MAX. `uids` are in result order (sort order for SORT).
 */
export function savedPart(
  options: readonly SearchReturnOption[],
  uids: readonly number[],
  partial: PartialRange | null = null,
): number[] {
  const wants = (option: SearchReturnOption) => options.includes(option);
  const parted = wants('PARTIAL') && partial !== null;
  if (wants('ALL') || wants('COUNT') || !(wants('MIN') || wants('MAX') || parted)) return [...uids];
  const part: number[] = parted ? partialSlice(uids, partial) : [];
  if (wants('MIN') && uids.length > 0) part.push(uids[0]!);
  if (wants('MAX') && uids.length > 0) part.push(uids[uids.length - 1]!);
  return [...new Set(part)];
}

/** Runs a search; when it was asked to save and fails, `$` is emptied before the error goes on. */
export async function withSave<T>(view: MailboxView, saving: boolean, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (saving) view.saveSearchResult([]);
    throw error;
  }
}
