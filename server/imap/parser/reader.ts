/**
 * A cursor over a framed command (text segments with literals between them) and the IMAP lexical
 * primitives of RFC 3501 section 9: atoms, quoted strings, literals, astrings, nstrings, numbers,
 * sequence sets, flags. Every primitive throws ParseFailure with a human-readable message.
 */
import { fail } from './errors.ts';
import type { FramedCommand, FramedLiteral } from './framer.ts';
import { MAX_SEQ_NUMBER, type SeqNumber, type SeqRange, type SequenceSet } from './sequence.ts';

export const MAX_UINT32 = 4294967295;
/** Largest MODSEQ of the protocol (RFC 7162: 63-bit). */
export const MAX_MODSEQ = 9223372036854775807n;

export const SP = 0x20;
export const DQUOTE = 0x22;
export const LPAREN = 0x28;
export const RPAREN = 0x29;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const BACKSLASH = 0x5c;
export const TILDE = 0x7e;
export const LT = 0x3c;
export const GT = 0x3e;
export const DOT = 0x2e;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const STAR = 0x2a;
export const PERCENT = 0x25;
export const DOLLAR = 0x24;
export const PLUS = 0x2b;

const ATOM = 1;
const ASTRING = 2;
const TAG = 4;
const LIST = 8;

const CHAR_CLASS = new Uint8Array(256);
for (let b = 0x21; b < 0x7f; b++) {
  const special = b === LPAREN || b === RPAREN || b === LBRACE || b === PERCENT || b === STAR;
  const quoted = b === DQUOTE || b === BACKSLASH;
  let cls = 0;
  if (!special && !quoted && b !== RBRACKET) cls |= ATOM | ASTRING | LIST;
  if (b === RBRACKET) cls |= ASTRING | LIST;
  if (b === PERCENT || b === STAR) cls |= LIST;
  if (cls & ASTRING && b !== PLUS) cls |= TAG;
  CHAR_CLASS[b] = cls;
}

export function isAtomChar(b: number): boolean {
  return b >= 0 && (CHAR_CLASS[b]! & ATOM) !== 0;
}
export function isAstringChar(b: number): boolean {
  return b >= 0 && (CHAR_CLASS[b]! & ASTRING) !== 0;
}
export function isListChar(b: number): boolean {
  return b >= 0 && (CHAR_CLASS[b]! & LIST) !== 0;
}
export function isTagChar(b: number): boolean {
  return b >= 0 && (CHAR_CLASS[b]! & TAG) !== 0;
}
export function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** Describes a byte for an error message. */
export function describeByte(b: number): string {
  if (b < 0) return 'end of command';
  if (b === 0) return 'NUL byte';
  if (b === SP) return 'space';
  if (b < 0x20 || b === 0x7f) return `control character 0x${b.toString(16).padStart(2, '0')}`;
  if (b >= 0x80) return `8-bit byte 0x${b.toString(16)}`;
  return `"${String.fromCharCode(b)}"`;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isAscii(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

/** Decodes UTF-8 strictly; ParseFailure on invalid sequences or NUL. */
export function decodeUtf8(buf: Buffer, what: string): string {
  if (buf.includes(0)) fail(`NUL byte in ${what}`);
  if (isAscii(buf)) return buf.toString('latin1');
  try {
    return utf8Decoder.decode(buf);
  } catch {
    return fail(`Invalid UTF-8 in ${what}`);
  }
}

export interface LiteralValue {
  data: Buffer;
  binary: boolean;
}

const SYSTEM_FLAGS = new Map(
  ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent'].map((f) => [f.toUpperCase(), f]),
);

/** Canonical case for system flags (`\seen` → `\Seen`); other flags as given. */
export function normalizeFlag(flag: string): string {
  return SYSTEM_FLAGS.get(flag.toUpperCase()) ?? flag;
}

export class Reader {
  private seg = 0;
  pos = 0;
  private readonly segments: readonly Buffer[];
  private readonly literals: readonly FramedLiteral[];

  constructor(input: FramedCommand) {
    if (input.segments.length !== input.literals.length + 1) {
      fail('Malformed framed command');
    }
    this.segments = input.segments;
    this.literals = input.literals;
  }

  private get cur(): Buffer {
    return this.segments[this.seg]!;
  }

  /** The current byte, or -1 at the end of a segment (end of input or before a literal). */
  peek(): number {
    const buf = this.cur;
    return this.pos < buf.length ? buf[this.pos]! : -1;
  }

  peekAt(k: number): number {
    const buf = this.cur;
    const i = this.pos + k;
    return i < buf.length ? buf[i]! : -1;
  }

  atEnd(): boolean {
    return this.seg === this.segments.length - 1 && this.pos >= this.cur.length;
  }

  /** Fails unless the whole command has been read. */
  end(): void {
    if (!this.atEnd()) {
      const b = this.peek();
      fail(
        b === SP
          ? 'Unexpected extra arguments'
          : `Unexpected ${describeByte(b)} where the command should end`,
      );
    }
  }

  /** Fails with "Expected <what>, found <current byte>". */
  unexpected(what: string): never {
    const b = this.peek();
    if (b < 0 && this.atEnd()) return fail(`Missing ${what}`);
    if (b >= 0x80) return fail(`Expected ${what}, found an 8-bit byte (use a quoted string or literal)`);
    return fail(`Expected ${what}, found ${describeByte(b)}`);
  }

  expect(byte: number, what: string): void {
    if (this.peek() !== byte) this.unexpected(what);
    this.pos++;
  }

  /** A single space before the next argument. */
  sp(next: string): void {
    if (this.peek() !== SP) {
      if (this.atEnd()) fail(`Missing ${next}`);
      this.unexpected(`a space before ${next}`);
    }
    this.pos++;
  }

  trySp(): boolean {
    if (this.peek() === SP) {
      this.pos++;
      return true;
    }
    return false;
  }

  tryByte(byte: number): boolean {
    if (this.peek() === byte) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Reads bytes while `pred` holds; may be empty. Only ASCII predicates are used. */
  readWhile(pred: (b: number) => boolean): string {
    const start = this.pos;
    const buf = this.cur;
    while (this.pos < buf.length && pred(buf[this.pos]!)) this.pos++;
    return buf.toString('latin1', start, this.pos);
  }

  /** Reads a non-empty run of bytes of the given class. */
  readChars(pred: (b: number) => boolean, what: string): string {
    const s = this.readWhile(pred);
    if (s.length === 0) this.unexpected(what);
    return s;
  }

  readAtom(what = 'atom'): string {
    return this.readChars(isAtomChar, what);
  }

  /** The next atom upper-cased, without consuming it, or null. */
  peekAtomUpper(): string | null {
    const buf = this.cur;
    let i = this.pos;
    while (i < buf.length && isAtomChar(buf[i]!)) i++;
    return i > this.pos ? buf.toString('latin1', this.pos, i).toUpperCase() : null;
  }

  /** True (and consumed) when the next token is exactly the atom `word` (case-insensitive). */
  tryWord(word: string): boolean {
    const buf = this.cur;
    const end = this.pos + word.length;
    if (end > buf.length) return false;
    if (buf.toString('latin1', this.pos, end).toUpperCase() !== word) return false;
    if (end < buf.length && isAtomChar(buf[end]!)) return false;
    this.pos = end;
    return true;
  }

  readTag(): string {
    return this.readChars(isTagChar, 'tag');
  }

  /** A decimal number 0..max (max ≤ Number.MAX_SAFE_INTEGER). */
  readNumber(what: string, max: number = MAX_UINT32, min = 0): number {
    const digits = this.readWhile(isDigit);
    if (digits.length === 0) this.unexpected(what);
    if (digits.length > 16 || Number(digits) > max) fail(`${capitalize(what)} out of range`);
    const n = Number(digits);
    if (n < min) fail(`${capitalize(what)} must be at least ${String(min)}`);
    return n;
  }

  readNzNumber(what: string, max: number = MAX_UINT32): number {
    return this.readNumber(what, max, 1);
  }

  /**
   * A MODSEQ value, 0 (when allowed) up to 2^63-1 as the protocol allows, returned as a number
   * clamped to Number.MAX_SAFE_INTEGER. Our MODSEQs never get that high, so the clamp keeps the
   * meaning of every comparison (CHANGEDSINCE, UNCHANGEDSINCE, SEARCH MODSEQ, QRESYNC).
   */
  readModSeq(what = 'mod-sequence value', allowZero = true): number {
    const digits = this.readWhile(isDigit);
    if (digits.length === 0) this.unexpected(what);
    if (digits.length > 19 || BigInt(digits) > MAX_MODSEQ) fail(`${capitalize(what)} out of range`);
    const n = Math.min(Number(digits), Number.MAX_SAFE_INTEGER);
    if (n < (allowZero ? 0 : 1)) fail(`${capitalize(what)} must be at least 1`);
    return n;
  }

  readQuotedBytes(): Buffer {
    this.expect(DQUOTE, 'quoted string');
    const buf = this.cur;
    let runStart = this.pos;
    const chunks: Buffer[] = [];
    for (;;) {
      if (this.pos >= buf.length) fail('Unterminated quoted string');
      const b = buf[this.pos]!;
      if (b === DQUOTE) {
        chunks.push(buf.subarray(runStart, this.pos));
        this.pos++;
        break;
      }
      if (b === BACKSLASH) {
        const next = this.pos + 1 < buf.length ? buf[this.pos + 1]! : -1;
        if (next !== DQUOTE && next !== BACKSLASH) {
          fail('Invalid escape in quoted string (only \\" and \\\\ are allowed)');
        }
        chunks.push(buf.subarray(runStart, this.pos), Buffer.from([next]));
        this.pos += 2;
        runStart = this.pos;
        continue;
      }
      if (b === 0 || b === 0x0d || b === 0x0a) fail(`${capitalize(describeByte(b))} in quoted string`);
      this.pos++;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  /** True when the next token starts a literal (`{` or `~{`). */
  atLiteral(): boolean {
    const b = this.peek();
    return b === LBRACE || (b === TILDE && this.peekAt(1) === LBRACE);
  }

  readLiteral(allowBinary: boolean): LiteralValue {
    let binary = false;
    if (this.peek() === TILDE) {
      if (!allowBinary) fail('A literal8 (~{n}) is not allowed here');
      binary = true;
      this.pos++;
    }
    this.expect(LBRACE, 'literal');
    const digits = this.readWhile(isDigit);
    if (digits.length === 0) this.unexpected('literal size');
    this.tryByte(PLUS);
    this.expect(RBRACE, '"}" ending the literal size');
    if (this.pos !== this.cur.length || this.seg >= this.literals.length) {
      fail('A literal size must be followed by CRLF and the literal');
    }
    const lit = this.literals[this.seg]!;
    if (digits.length > 16 || lit.data.length !== Number(digits)) fail('Literal size mismatch');
    this.seg++;
    this.pos = 0;
    return { data: lit.data, binary };
  }

  /** A string (quoted or literal) as bytes. */
  readStringBytes(what: string): Buffer {
    const b = this.peek();
    if (b === DQUOTE) return this.readQuotedBytes();
    if (this.atLiteral()) return this.readLiteral(false).data;
    return this.unexpected(what);
  }

  readString(what: string): string {
    return decodeUtf8(this.readStringBytes(what), what);
  }

  readAstringBytes(what: string): Buffer {
    const b = this.peek();
    if (b === DQUOTE) return this.readQuotedBytes();
    if (this.atLiteral()) return this.readLiteral(false).data;
    const s = this.readChars(isAstringChar, what);
    return Buffer.from(s, 'latin1');
  }

  readAstring(what: string): string {
    return decodeUtf8(this.readAstringBytes(what), what);
  }

  /** True (and consumed) at the atom NIL. */
  tryNil(): boolean {
    return this.tryWord('NIL');
  }

  readNstring(what: string): string | null {
    if (this.tryNil()) return null;
    return this.readString(what);
  }

  /** A mailbox name as sent (astring); `INBOX` in any case becomes `INBOX`. */
  readMailbox(what = 'mailbox name'): string {
    const name = this.readAstring(what);
    return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
  }

  /** A LIST pattern: 1*list-char (atom chars, `%`, `*`, `]`) or a string. */
  readListMailbox(what = 'mailbox pattern'): string {
    const b = this.peek();
    if (b === DQUOTE || this.atLiteral()) return this.readString(what);
    return this.readChars(isListChar, what);
  }

  private readSeqNumber(): SeqNumber {
    if (this.tryByte(STAR)) return '*';
    const digits = this.readWhile(isDigit);
    if (digits.length === 0) this.unexpected('sequence number');
    const n = Number(digits);
    if (n === 0) fail('Invalid sequence set: numbers start at 1');
    if (digits.length > 10 || n > MAX_SEQ_NUMBER) fail('Invalid sequence set: number out of range');
    return n;
  }

  readSequenceSet(): SequenceSet {
    if (this.peek() === DOLLAR) {
      this.pos++;
      return { ranges: [], saved: true };
    }
    const ranges: SeqRange[] = [];
    for (;;) {
      const start = this.readSeqNumber();
      const end = this.tryByte(COLON) ? this.readSeqNumber() : start;
      ranges.push({ start, end });
      if (!this.tryByte(COMMA)) break;
    }
    const b = this.peek();
    if (b >= 0 && b !== SP && b !== RPAREN) fail(`Invalid sequence set: unexpected ${describeByte(b)}`);
    return { ranges, saved: false };
  }

  /** A flag: `\Word` (system or extension flag) or a keyword atom. `\*` is refused. */
  readFlag(): string {
    if (this.tryByte(BACKSLASH)) {
      if (this.peek() === STAR) fail('\\* is not a flag');
      return normalizeFlag('\\' + this.readAtom('flag name'));
    }
    return this.readAtom('flag');
  }

  /** `(` [flag *(SP flag)] `)` */
  readFlagList(): string[] {
    this.expect(LPAREN, 'flag list');
    const flags: string[] = [];
    if (this.tryByte(RPAREN)) return flags;
    for (;;) {
      flags.push(this.readFlag());
      if (this.tryByte(RPAREN)) return flags;
      this.sp('flag');
    }
  }

  /** `(` item *(SP item) `)` with a reader for each item. */
  readList<T>(what: string, item: () => T, allowEmpty = false): T[] {
    this.expect(LPAREN, what);
    const out: T[] = [];
    if (this.peek() === RPAREN) {
      if (!allowEmpty) fail(`Empty ${what}`);
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(item());
      if (this.tryByte(RPAREN)) return out;
      if (this.peek() !== SP) this.unexpected(`space or ")" in ${what}`);
      this.pos++;
    }
  }
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
