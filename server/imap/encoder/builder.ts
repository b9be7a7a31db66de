/**
 * Response serialisation: a builder that accumulates Buffer chunks, so message bytes in literals
 * are never converted to strings. Values that come from internal data (numbers, dates) are checked
 * and a RangeError is thrown on a programming error; client-influenced strings are always encoded
 * safely (quoted, or a literal when they cannot be quoted).
 */
import { isUtf8 } from 'node:buffer';
import type { NestedValue } from '../../mime/types.ts';
import type { ResponseCode } from './codes.ts';
import { compressSequence, formatInternalDate, isAtomText, isFlagText, quote } from './format.ts';
import { encodeModifiedUtf7 } from './utf7.ts';

export interface EncoderOptions {
  /** UTF8=ACCEPT is enabled (RFC 6855): 8-bit UTF-8 may be quoted; mailbox names are sent as UTF-8. */
  utf8?: boolean;
  /** Longest string (in bytes) sent as a quoted string; longer ones become literals. Default 1024. */
  maxQuotedLength?: number;
}

export type ResponseStatus = 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH';

export const DEFAULT_MAX_QUOTED_LENGTH = 1024;

/** How a string is sent: quoted (the text with quotes) or as a literal. */
export type StringEncoding = { kind: 'quoted'; text: string } | { kind: 'literal'; data: Buffer };

/**
 * Chooses quoted or literal form. Literal when the value contains NUL, CR or LF, is longer than
 * maxQuotedLength, or has 8-bit bytes (unless utf8 is on and the bytes are valid UTF-8).
 */
export function encodeString(value: string | Buffer, options: EncoderOptions = {}): StringEncoding {
  const max = options.maxQuotedLength ?? DEFAULT_MAX_QUOTED_LENGTH;
  const utf8 = options.utf8 ?? false;
  if (typeof value === 'string') {
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    const ascii = !/[^\x00-\x7f]/.test(value);
    const length = ascii ? value.length : Buffer.byteLength(value, 'utf8');
    if (length <= max && !/[\0\r\n]/.test(value) && (ascii || utf8)) {
      return { kind: 'quoted', text: quote(value) };
    }
    return { kind: 'literal', data: Buffer.from(value, 'utf8') };
  }
  if (value.length <= max) {
    let ascii = true;
    let quotable = true;
    for (let i = 0; i < value.length; i++) {
      const b = value[i]!;
      if (b === 0 || b === 0x0d || b === 0x0a) {
        quotable = false;
        break;
      }
      if (b >= 0x80) ascii = false;
    }
    if (quotable && (ascii || (utf8 && isUtf8(value)))) {
      return { kind: 'quoted', text: quote(value.toString(ascii ? 'latin1' : 'utf8')) };
    }
  }
  return { kind: 'literal', data: value };
}

/** What sanitizeText may have to replace: one test, and most texts (plain ASCII) are done. */
const NEEDS_CLEANING = /[\0\r\n\u0080-\uffff]/;

function sanitizeText(text: string, utf8: boolean): string {
  if (!NEEDS_CLEANING.test(text)) return text;
  let clean = text.replace(/[\0\r\n]/g, ' ');
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (!utf8) clean = clean.replace(/[^\x00-\x7f]/g, '?');
  return clean;
}

function checkNumber(n: number | bigint): string {
  if (typeof n === 'bigint') {
    if (n < 0n) throw new RangeError(`Negative number in response: ${String(n)}`);
    return String(n);
  }
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Invalid number in response: ${String(n)}`);
  return String(n);
}

export class ResponseBuilder {
  readonly options: Readonly<Required<EncoderOptions>>;
  private chunks: Buffer[] = [];
  private pending = '';
  private length = 0;

  constructor(options: EncoderOptions = {}) {
    this.options = {
      utf8: options.utf8 ?? false,
      maxQuotedLength: options.maxQuotedLength ?? DEFAULT_MAX_QUOTED_LENGTH,
    };
  }

  private flush(): void {
    if (this.pending) {
      const buf = Buffer.from(this.pending, 'utf8');
      this.chunks.push(buf);
      this.length += buf.length;
      this.pending = '';
    }
  }

  /** Appends text verbatim (UTF-8). The caller is responsible for its syntax. */
  text(text: string): this {
    this.pending += text;
    return this;
  }

  /** Appends bytes verbatim. */
  raw(data: Buffer): this {
    this.flush();
    if (data.length > 0) {
      this.chunks.push(data);
      this.length += data.length;
    }
    return this;
  }

  sp(): this {
    return this.text(' ');
  }

  crlf(): this {
    return this.text('\r\n');
  }

  /** `* ` starting an untagged response. */
  untagged(): this {
    return this.text('* ');
  }

  /** An atom, checked (RangeError when `text` is not atom-safe). */
  atom(text: string): this {
    if (!isAtomText(text)) throw new RangeError(`Not an atom: ${JSON.stringify(text)}`);
    return this.text(text);
  }

  number(n: number | bigint): this {
    return this.text(checkNumber(n));
  }

  nil(): this {
    return this.text('NIL');
  }

  /** A string, quoted or as a literal (see encodeString). */
  string(value: string | Buffer): this {
    const enc = encodeString(value, this.options);
    return enc.kind === 'quoted' ? this.text(enc.text) : this.literal(enc.data);
  }

  nstring(value: string | Buffer | null | undefined): this {
    return value === null || value === undefined ? this.nil() : this.string(value);
  }

  /** An atom when possible (never `NIL`), else a string. */
  astring(value: string): this {
    return isAtomText(value) ? this.text(value) : this.string(value);
  }

  /** `{n}\r\n` and the bytes; `~{n}` (literal8, RFC 3516) when `binary`. */
  literal(data: Buffer | string, binary = false): this {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.text(`${binary ? '~' : ''}{${String(buf.length)}}\r\n`);
    return this.raw(buf);
  }

  /** A nested value (ENVELOPE, BODYSTRUCTURE): strings as strings, null as NIL, arrays as lists. */
  /**
   * A nested value: NIL, a number, a string, or a parenthesised list. A list that starts with lists
   * writes that leading run without spaces: in IMAP's grammar these are an address list
   * (`env-from = "(" 1*address ")"`) and the bodies of a multipart (`body-type-mpart = 1*body SP
   * media-subtype`), which RFC 3501 and RFC 9051 write `)(`; elsewhere (ENVELOPE's fields, a body's
   * fields) items are separated by SP.
   */
  value(value: NestedValue, depth = 0): this {
    if (depth > 100) throw new RangeError('Nested value too deep');
    if (value === null) return this.nil();
    if (typeof value === 'number') return this.number(value);
    if (typeof value === 'string') return this.string(value);
    this.text('(');
    let adjacent = Array.isArray(value[0]);
    value.forEach((item, i) => {
      adjacent &&= Array.isArray(item);
      if (i > 0 && !adjacent) this.sp();
      this.value(item, depth + 1);
    });
    return this.text(')');
  }

  list(items: readonly NestedValue[]): this {
    return this.value(items as NestedValue[]);
  }

  /** `(\Seen $Forwarded)`; flags that cannot be sent as atoms are left out. */
  flags(flags: Iterable<string>): this {
    return this.text(`(${[...flags].filter(isFlagText).join(' ')})`);
  }

  /** A quoted INTERNALDATE: `"17-Jul-1996 02:44:25 -0700"`. */
  date(date: Date, offsetMinutes?: number): this {
    return this.text(`"${formatInternalDate(date, offsetMinutes)}"`);
  }

  /** A compressed sequence set (`1:3,5`); see compressSequence. */
  sequence(numbers: Iterable<number>, sort = true): this {
    const text = compressSequence(numbers, sort);
    if (!text) throw new RangeError('Empty sequence set');
    return this.text(text);
  }

  /**
   * A mailbox name (decoded, as stored): modified UTF-7 unless UTF8=ACCEPT is on, then sent as a
   * string (`INBOX` as an atom).
   */
  mailbox(name: string): this {
    if (name === 'INBOX') return this.text('INBOX');
    return this.string(this.options.utf8 ? name : encodeModifiedUtf7(name));
  }

  /** `[CODE args]` (no leading space). */
  code(code: ResponseCode): this {
    return this.text(`[${code.replace(/[\0\r\n\]]/g, ' ')}]`);
  }

  /**
   * A whole status response line: `TAG OK [CODE] text\r\n` (`*` for untagged). The text is made
   * safe (no CR/LF/NUL; 8-bit only with utf8) and never empty.
   */
  status(tag: string, status: ResponseStatus, text: string, code?: ResponseCode | null): this {
    this.text(`${tag} ${status} `);
    if (code) this.code(code).sp();
    const clean = sanitizeText(text, this.options.utf8);
    return this.text(clean.trim() ? clean : 'Completed').crlf();
  }

  /** A continuation request line: `+ text\r\n`. */
  continuation(text = 'Ready'): this {
    return this.text(`+ ${sanitizeText(text, this.options.utf8)}`).crlf();
  }

  get byteLength(): number {
    return this.length + Buffer.byteLength(this.pending, 'utf8');
  }

  /** The accumulated chunks (for writev / cork). */
  toChunks(): Buffer[] {
    this.flush();
    return [...this.chunks];
  }

  toBuffer(): Buffer {
    this.flush();
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
  }

  /** Clears everything, for reuse. */
  reset(): this {
    this.chunks = [];
    this.pending = '';
    this.length = 0;
    return this;
  }
}

/** One status line as a Buffer. */
export function statusLine(
  tag: string,
  status: ResponseStatus,
  text: string,
  code?: ResponseCode | null,
  options?: EncoderOptions,
): Buffer {
  return new ResponseBuilder(options).status(tag, status, text, code).toBuffer();
}

/** A nested value as a Buffer. */
export function encodeValue(value: NestedValue, options?: EncoderOptions): Buffer {
  return new ResponseBuilder(options).value(value).toBuffer();
}
