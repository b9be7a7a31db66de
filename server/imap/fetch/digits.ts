/**
 * Non-negative integers (UIDs, sequence numbers, MODSEQs: below 2^53) written as decimal digits
 * straight into a Buffer, two digits per division: FETCH and SEARCH answers over a big mailbox
 * write a hundred thousand of them, where a string per number would cost an allocation each.
 */

/** "00" to "99": the two digits of each number below 100. */
const PAIRS = Buffer.from(
  Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0')).join(''),
  'latin1',
);

/** How many digits `value` has. */
export function digitCount(value: number): number {
  if (value < 100_000) return value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10_000 ? 4 : 5;
  let digits = 6;
  for (let rest = Math.floor(value / 1_000_000); rest > 0; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** Writes `value` at `at` (room for 16 digits is the caller's); returns the position after it. */
export function writeDigits(buffer: Uint8Array, at: number, value: number): number {
  const end = at + digitCount(value);
  let position = end;
  let rest = value;
  while (rest >= 100) {
    const next = Math.floor(rest / 100);
    const pair = (rest - next * 100) * 2;
    buffer[--position] = PAIRS[pair + 1]!;
    buffer[--position] = PAIRS[pair]!;
    rest = next;
  }
  if (rest >= 10) {
    buffer[--position] = PAIRS[rest * 2 + 1]!;
    buffer[--position] = PAIRS[rest * 2]!;
  } else buffer[--position] = 48 + rest;
  return end;
}
