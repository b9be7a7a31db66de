/**
 * A quick negative test on the raw bytes, so that most messages of a BODY/TEXT/HEADER search are
 * ruled out without parsing their MIME index or decoding anything.
 *
 * It is exact, not a heuristic: it only answers "cannot match" when decoding provably cannot make
 * the needle appear. That holds when
 * - the needle is ASCII without whitespace or colon (unfolding only removes line breaks next to
 *   whitespace, and TEXT's `name: value` lines only add ": "), and
 * - the message is pure ASCII (so case folding is plain ASCII folding on both sides), with no
 *   encoded words (`=?`), no transfer encoding other than 7bit/8bit/binary, and only charsets in
 *   which ASCII bytes are ASCII text (so decoding maps the bytes to themselves).
 * Then the decoded header and body text is made of runs of the raw bytes, and a needle absent from
 * the case-folded raw bytes is absent from it too. In every other case the full decoding decides.
 */
import { isAscii } from 'node:buffer';

/** ASCII printable without space or colon. */
const FILTERABLE_NEEDLE = /^[\x21-\x39\x3b-\x7e]+$/;

const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);
/** Charsets that decode ASCII bytes to the same ASCII text (not UTF-7/16/32, ISO-2022, EBCDIC...). */
const ASCII_COMPATIBLE = /^(?:us-ascii|ascii|utf-?8|iso-8859-\d{1,2}|latin-?1|windows-125\d|cp125\d)$/;

/** Whether the raw filter can rule on this (already case-folded) needle. */
export function isFilterableNeedle(needle: string): boolean {
  return FILTERABLE_NEEDLE.test(needle);
}

const isBlank = (code: number) => code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;

function skipBlanks(text: string, from: number): number {
  let i = from;
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  return i;
}

/**
 * The token at `from` (after blanks and an optional quote), up to a blank, quote, ";" or "(". A
 * comment first gives "(", which no check accepts: what follows it is not worth guessing.
 */
function tokenAt(text: string, from: number): string {
  let start = skipBlanks(text, from);
  if (text.charCodeAt(start) === 0x28) return '(';
  if (text.charCodeAt(start) === 0x22) start++;
  let end = start;
  while (end < text.length && !isBlank(text.charCodeAt(end)) && !'";('.includes(text[end]!)) end++;
  return text.slice(start, end);
}

/**
 * Calls `check` with the value after each `name` [blanks] `separator` in the text; false as soon as
 * one check fails. indexOf scans are much cheaper than a regular expression over the whole message.
 */
function everyValue(
  text: string,
  name: string,
  separator: string,
  check: (value: string, at: number) => boolean,
): boolean {
  for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + name.length)) {
    const after = skipBlanks(text, at + name.length);
    if (!text.startsWith(separator, after)) continue;
    if (!check(tokenAt(text, after + separator.length), after)) return false;
  }
  return true;
}

function identityEncodings(text: string): boolean {
  return everyValue(text, 'content-transfer-encoding', ':', (value) => IDENTITY_ENCODINGS.has(value));
}

function asciiCharsets(text: string): boolean {
  // An RFC 2231 parameter (charset*=) may name anything once decoded.
  if (!everyValue(text, 'charset', '*', () => false)) return false;
  return everyValue(text, 'charset', '=', (value) => ASCII_COMPATIBLE.test(value));
}

/** Where the top-level header ends: at the first empty line (LF or CRLF), as the MIME parser reads it. */
function topHeaderEnd(text: string): number {
  if (text.startsWith('\n') || text.startsWith('\r\n')) return 0;
  const crlf = text.indexOf('\n\r\n');
  // An LF-only blank line can only come first if it is before the CRLF one: scan no further.
  const lf = (crlf < 0 ? text : text.slice(0, crlf + 1)).indexOf('\n\n');
  if (lf >= 0) return lf + 1;
  return crlf < 0 ? text.length : crlf + 1;
}

/** No top-level Content-Type that could give the message parts (multipart, message, or unreadable). */
function isSinglePart(header: string): boolean {
  return everyValue(
    header,
    'content-type',
    ':',
    (value) => value !== '(' && !value.startsWith('multipart') && !value.startsWith('message'),
  );
}

export class RawText {
  private folded: string | null | undefined;
  private plain: boolean | undefined;

  constructor(private readonly raw: Buffer) {}

  /** The message case-folded, or null when it is not pure ASCII. */
  private foldedText(): string | null {
    if (this.folded === undefined) {
      this.folded = isAscii(this.raw) ? this.raw.toString('latin1').toLowerCase() : null;
    }
    return this.folded;
  }

  /** Decoding maps the message's bytes to themselves (see the file comment). */
  private transparent(text: string): boolean {
    if (this.plain === undefined) {
      // A single-part message has one MIME header, the top one: only it needs checking. Elsewhere
      // part headers (whose encoded words TEXT decodes too) can be anywhere.
      const header = text.slice(0, topHeaderEnd(text));
      const scope = isSinglePart(header) ? header : text;
      this.plain = !scope.includes('=?') && identityEncodings(scope) && asciiCharsets(scope);
    }
    return this.plain;
  }

  /** True when `needle` (case-folded, filterable) certainly occurs nowhere in the decoded message. */
  excludes(needle: string): boolean {
    const text = this.foldedText();
    if (text === null || text.includes(needle)) return false;
    return this.transparent(text);
  }
}
