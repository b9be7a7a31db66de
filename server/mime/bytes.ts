/**
 * Byte-level helpers over the raw message. Everything structural works on bytes (offsets must be exact
 * on the stored message, whatever its line endings), and header text is carried as "binary" strings
 * (one char per byte, latin1) so that no byte is lost before we decide how to present it.
 */
import { isUtf8 } from 'node:buffer';

export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const TAB = 0x09;
export const DASH = 0x2d;

/** Offset just after the LF that ends the line starting at `pos`, or `limit` when there is none. */
export function lineEnd(raw: Buffer, pos: number, limit: number = raw.length): number {
  const nl = raw.indexOf(LF, pos);
  return nl < 0 || nl >= limit ? limit : nl + 1;
}

/** Offset of the line's content end: before its CRLF or LF (or `end` when the line has no LF). */
export function contentEnd(raw: Buffer, lineStart: number, end: number): number {
  let e = end;
  if (e > lineStart && raw[e - 1] === LF) {
    e--;
    if (e > lineStart && raw[e - 1] === CR) e--;
  }
  return e;
}

/** Length of the line break that ends just before `pos` (2 for CRLF, 1 for LF, 0 when none), never reaching below `floor`. */
export function lineBreakBefore(raw: Buffer, pos: number, floor: number): number {
  if (pos - 1 < floor || raw[pos - 1] !== LF) return 0;
  return pos - 2 >= floor && raw[pos - 2] === CR ? 2 : 1;
}

/** True when the line starting at `pos` is empty (just CRLF or LF): the end of a header. */
export function isBlankLine(raw: Buffer, pos: number): boolean {
  const c = raw[pos];
  return c === LF || (c === CR && raw[pos + 1] === LF);
}

/** Number of LF bytes in [start, end): the line count IMAP reports (as Dovecot counts it). */
export function countLines(raw: Buffer, start: number, end: number): number {
  let count = 0;
  let pos = raw.indexOf(LF, start);
  while (pos >= 0 && pos < end) {
    count++;
    pos = raw.indexOf(LF, pos + 1);
  }
  return count;
}

/** One char per byte; the inverse of `Buffer.from(s, 'latin1')`. */
export function binaryString(raw: Buffer, start = 0, end = raw.length): string {
  return raw.toString('latin1', start, end);
}

/**
 * Turns a binary string into text to hand out: UTF-8 when the bytes are valid UTF-8 (the common case
 * for 8-bit headers today), latin1 otherwise. NULs become U+FFFD and stray CR/LF are dropped (as
 * Dovecot does), since an IMAP quoted string may carry neither.
 */
export function displayString(binary: string): string {
  let text = binary;
  if (/[\x80-\xff]/.test(binary)) {
    const bytes = Buffer.from(binary, 'latin1');
    if (isUtf8(bytes)) text = bytes.toString('utf8');
  }
  return /[\0\r\n]/.test(text) ? text.replace(/\0/g, '\ufffd').replace(/[\r\n]/g, '') : text;
}
