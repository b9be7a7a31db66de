/**
 * RETURN (PARTIAL first:last): the part of a result at those positions (RFC 5267 4.4), 1-based in
 * result order (ascending for SEARCH, the sort order for SORT); negative positions count from the
 * end, -1 being the last message (RFC 9394 3.1). Positions past the end give fewer (or no) messages.
 */
import type { PartialRange } from '../parser/index.ts';

export function partialSlice<T>(items: readonly T[], range: PartialRange): T[] {
  if (range.first > 0) return items.slice(range.first - 1, range.last);
  // -1:-100 is the last hundred: from length-100 up to and including the last.
  const start = Math.max(0, items.length + range.last);
  const end = items.length + range.first + 1;
  return end <= 0 ? [] : items.slice(start, end);
}

/** `first:last` as the client wrote it (in magnitude order), for the ESEARCH answer. */
export function formatPartialRange(range: PartialRange): string {
  return `${range.first}:${range.last}`;
}
