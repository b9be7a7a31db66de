/**
 * The i;unicode-casemap collation (RFC 5051) that SORT and THREAD compare strings with: each
 * character is mapped to its titlecase form (the simple, one-character mappings of UnicodeData),
 * the result is decomposed (NFKD), and the keys are compared as UTF-8 octets. Combining marks are
 * kept, as RFC 5051 says ("é" sorts after "e", as in Dovecot). JavaScript has no titlecase mapping;
 * the uppercase mapping equals it except for the four Latin digraphs handled below, and where the
 * uppercase is more than one character (ß → SS) the character is kept, as a simple mapping would.
 */

/** The digraphs whose titlecase (Dž) differs from their uppercase (DŽ). */
const TITLECASE: ReadonlyMap<string, string> = new Map([
  ['\u01c4', '\u01c5'],
  ['\u01c5', '\u01c5'],
  ['\u01c8', '\u01c8'],
  ['\u01cb', '\u01cb'],
  ['\u01f2', '\u01f2'],
  ['\u01c6', '\u01c5'],
  ['\u01c7', '\u01c8'],
  ['\u01c9', '\u01c8'],
  ['\u01ca', '\u01cb'],
  ['\u01cc', '\u01cb'],
  ['\u01f1', '\u01f2'],
  ['\u01f3', '\u01f2'],
]);

function titlecase(char: string): string {
  const special = TITLECASE.get(char);
  if (special !== undefined) return special;
  const upper = char.toUpperCase();
  // A one-character mapping only (simple case mapping): ß stays ß, not SS.
  return [...upper].length === 1 ? upper : char;
}

/** The collation key of a string: titlecased, then NFKD-decomposed. */
export function casemapKey(text: string): string {
  // ASCII fast path: the common case of sorting addresses and English subjects.
  if (!/[^\p{ASCII}]/u.test(text)) return text.toUpperCase();
  let mapped = '';
  for (const char of text) mapped += titlecase(char);
  return mapped.normalize('NFKD');
}

/**
 * Compares two collation keys as their UTF-8 octets would compare. UTF-16 code unit order differs
 * from it only for characters above U+FFFF against U+E000..U+FFFF, so code points are compared there.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      const cx = a.codePointAt(i)!;
      const cy = b.codePointAt(i)!;
      return cx < cy ? -1 : cx > cy ? 1 : 0;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
