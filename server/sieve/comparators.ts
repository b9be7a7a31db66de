/**
 * Comparators (RFC 4790 as used by RFC 5228 section 2.7.3): i;octet compares code points exactly,
 * i;ascii-casemap folds ASCII letters only, and i;ascii-numeric (RFC 4790 section 9.1) compares the
 * leading decimal digits as numbers, a string without one being greater than every number.
 */
export type ComparatorName = 'i;octet' | 'i;ascii-casemap' | 'i;ascii-numeric';

export const COMPARATORS: ComparatorName[] = ['i;octet', 'i;ascii-casemap', 'i;ascii-numeric'];

export function foldAscii(value: string): string {
  return value.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** The numeric value i;ascii-numeric gives a string: Infinity when it does not start with a digit. */
export function numericValue(value: string): number {
  const digits = /^[0-9]+/.exec(value);
  return digits === null ? Infinity : Number(digits[0].replace(/^0+(?=.)/, ''));
}

/** Negative, zero or positive as a sorts before, equal to or after b under the comparator. */
export function compare(comparator: ComparatorName, a: string, b: string): number {
  if (comparator === 'i;ascii-numeric') {
    const x = numericValue(a);
    const y = numericValue(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  const left = comparator === 'i;ascii-casemap' ? foldAscii(a) : a;
  const right = comparator === 'i;ascii-casemap' ? foldAscii(b) : b;
  const x = Buffer.from(left, 'utf8');
  const y = Buffer.from(right, 'utf8');
  return Buffer.compare(x, y);
}

/** The text a substring or pattern match looks at: folded for i;ascii-casemap. */
export function normalizeFor(comparator: ComparatorName, value: string): string {
  return comparator === 'i;ascii-casemap' ? foldAscii(value) : value;
}
