/**
 * Sequence sets (`1,3:5,7:*`) as sent by the client, with `*` kept symbolic, and helpers to
 * resolve them against a mailbox. The same type serves message sequence numbers and UIDs.
 */

/** A number of a sequence set: 1..4294967295, or `*` (the largest number in use). */
export type SeqNumber = number | '*';

/** One element of a sequence set as sent: `start:end` (either order) or a single number (start === end). */
export interface SeqRange {
  start: SeqNumber;
  end: SeqNumber;
}

/**
 * A parsed sequence set. `saved` is the SEARCHRES `$` (RFC 5182): the result of the last
 * `SEARCH RETURN (SAVE)`; `ranges` is then empty.
 */
export interface SequenceSet {
  ranges: SeqRange[];
  saved: boolean;
}

export const MAX_SEQ_NUMBER = 4294967295;

function value(n: SeqNumber, max: number): number {
  return n === '*' ? max : n;
}

/**
 * The set as sorted, merged, inclusive intervals `[low, high]` with `*` replaced by `max` (the
 * message count, or the highest UID). Numbers are not clamped to `max`: `5:*` with max 3 is
 * `[3, 5]` (RFC 3501). For `$`, `saved` (the saved numbers) is used, or nothing.
 */
export function resolveRanges(
  set: SequenceSet,
  max: number,
  saved: readonly number[] = [],
): Array<[number, number]> {
  const raw: Array<[number, number]> = set.saved
    ? saved.map((n) => [n, n])
    : set.ranges.map((r) => {
        const a = value(r.start, max);
        const b = value(r.end, max);
        return a <= b ? [a, b] : [b, a];
      });
  raw.sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [low0, high] of raw) {
    const low = Math.max(1, low0);
    if (high < low) continue;
    const last = out[out.length - 1];
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else out.push([low, high]);
  }
  return out;
}

/**
 * The numbers of the set within 1..max, ascending, without duplicates. Bounded by `max`, so safe
 * for `1:4294967295`. For UIDs use `resolveRanges`/`sequenceSetContains` against the UIDs in use.
 */
export function resolveSequenceSet(set: SequenceSet, max: number, saved: readonly number[] = []): number[] {
  const out: number[] = [];
  for (const [low, high] of resolveRanges(set, max, saved)) {
    const top = Math.min(high, max);
    for (let n = low; n <= top; n++) out.push(n);
  }
  return out;
}

/** Whether `n` is in the set (`*` = max). */
export function sequenceSetContains(
  set: SequenceSet,
  n: number,
  max: number,
  saved: readonly number[] = [],
): boolean {
  if (set.saved) return saved.includes(n);
  for (const r of set.ranges) {
    const a = value(r.start, max);
    const b = value(r.end, max);
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/**
 * True when the set names a number above `max` explicitly (message sequence numbers beyond the
 * mailbox: RFC 3501 asks for BAD). `*` never exceeds.
 */
export function sequenceSetExceeds(set: SequenceSet, max: number): boolean {
  return set.ranges.some((r) => (r.start !== '*' && r.start > max) || (r.end !== '*' && r.end > max));
}

/** The set in IMAP syntax, as sent (`$` for the saved result). */
export function formatSequenceSet(set: SequenceSet): string {
  if (set.saved) return '$';
  return set.ranges
    .map((r) => (r.start === r.end ? String(r.start) : `${String(r.start)}:${String(r.end)}`))
    .join(',');
}
