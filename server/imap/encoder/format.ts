/**
 * Small formatters: INTERNALDATE, sequence-set compression, atoms and quoted strings.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * An IMAP date-time without the quotes: `17-Jul-1996 02:44:25 -0700` (day zero-padded, which
 * is the `2DIGIT` form of date-day-fixed). `offsetMinutes` is the zone east of UTC; by default
 * the server's local zone at that instant.
 */
export function formatInternalDate(date: Date, offsetMinutes: number = -date.getTimezoneOffset()): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('formatInternalDate: invalid date');
  const offset = Math.trunc(offsetMinutes);
  const local = new Date(date.getTime() + offset * 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const year = String(local.getUTCFullYear()).padStart(4, '0');
  return (
    `${pad2(local.getUTCDate())}-${MONTHS[local.getUTCMonth()]!}-${year} ` +
    `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())} ` +
    `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`
  );
}

/**
 * A sequence set from numbers: [1, 2, 3, 5] → `1:3,5`. Sorted and deduplicated by default; with
 * `sort = false` the order is kept (only ascending runs are joined), as COPYUID needs to keep
 * source and destination sets in correspondence. Empty input gives ''.
 */
export function compressSequence(numbers: Iterable<number>, sort = true): string {
  let list = [...numbers];
  if (sort) list = [...new Set(list)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < list.length) {
    const start = list[i]!;
    let end = start;
    while (i + 1 < list.length && list[i + 1] === end + 1) end = list[++i]!;
    parts.push(start === end ? String(start) : `${String(start)}:${String(end)}`);
    i++;
  }
  return parts.join(',');
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ATOM_SPECIALS = /[\x00-\x20\x7f-\uffff(){%*"\\\]]/;

/** True when `text` is made of atom characters (NIL included). */
function isAtomChars(text: string): boolean {
  return text.length > 0 && !ATOM_SPECIALS.test(text);
}

/** True when `text` can be sent as an atom standing for a string (so not NIL). */
export function isAtomText(text: string): boolean {
  return isAtomChars(text) && text.toUpperCase() !== 'NIL';
}

/** True when `flag` is a flag we can send: `\Atom` or an atom keyword. */
export function isFlagText(flag: string): boolean {
  if (flag.startsWith('\\')) return flag === '\\*' || isAtomChars(flag.slice(1));
  // A keyword is any atom (RFC 3501 flag-keyword): `NIL` too, where a flag list is expected.
  return isAtomChars(flag);
}

/** A quoted string; the caller checks that `text` is quotable (no CR, LF, NUL). */
export function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}
