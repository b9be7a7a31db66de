/**
 * ManageSieve responses (RFC 5804 4): `OK`/`NO`/`BYE` with an optional response code in
 * parentheses and an optional human-readable string; strings go out quoted when they can (short,
 * no CR, LF, NUL) and as literals `{n}` otherwise. Pure.
 */
import type { ManageSieveCode } from './errors.ts';

/** Longest string sent quoted (RFC 5804 4: quoted strings are for short text). */
const MAX_QUOTED = 1024;

/** A string as ManageSieve sends it: quoted, or a literal when it cannot be. */
export function encodeString(value: string): string {
  if (Buffer.byteLength(value) <= MAX_QUOTED && !/[\r\n\0]/.test(value)) {
    return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
  }
  return `{${Buffer.byteLength(value)}}\r\n${value}`;
}

export interface ResponseCode {
  code: ManageSieveCode | 'TAG' | 'SASL';
  /** The code's argument (TAG's string, SASL's data). */
  value?: string;
}

/** One `OK`, `NO` or `BYE` line with its CRLF. */
export function responseLine(
  kind: 'OK' | 'NO' | 'BYE',
  text: string | null,
  code: ResponseCode | null = null,
): string {
  let line = kind;
  if (code) line += ` (${code.code}${code.value === undefined ? '' : ` ${encodeString(code.value)}`})`;
  if (text !== null) line += ` ${encodeString(text)}`;
  return `${line}\r\n`;
}

/** A capability line: `"NAME"` or `"NAME" "value"`. */
export function capabilityLine(name: string, value?: string): string {
  return value === undefined
    ? `${encodeString(name)}\r\n`
    : `${encodeString(name)} ${encodeString(value)}\r\n`;
}
