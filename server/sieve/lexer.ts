/**
 * Tokens of a Sieve script (RFC 5228 section 8.1): identifiers, :tags, numbers with K/M/G
 * quantifiers, "quoted strings" (with \" and \\ escapes), text: multi-line strings (a line holding
 * a single "." ends them, and a leading ".." stands for "."), the punctuation ; , [ ] ( ) { }, and
 * comments (# to the end of the line, and bracketed ones) which are skipped. Every token carries the
 * line and column where it starts, so that errors point at the place.
 */
import { SieveCompileError, type SourcePosition } from './errors.ts';

export type Token =
  | { kind: 'identifier'; value: string; position: SourcePosition }
  | { kind: 'tag'; value: string; position: SourcePosition }
  | { kind: 'number'; value: number; position: SourcePosition }
  | { kind: 'string'; value: string; position: SourcePosition }
  | { kind: 'punct'; value: string; position: SourcePosition }
  | { kind: 'end'; value: ''; position: SourcePosition };

const QUANTIFIERS: Record<string, number> = { k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 };
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /([0-9]+)([KkMmGg]?)/y;

export function tokenize(source: string): Token[] {
  return new Lexer(source).all();
}

class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly text: string) {}

  all(): Token[] {
    const tokens: Token[] = [];
    for (;;) {
      this.skipWhiteSpaceAndComments();
      const token = this.next();
      tokens.push(token);
      if (token.kind === 'end') return tokens;
    }
  }

  private here(): SourcePosition {
    return { line: this.line, column: this.pos - this.lineStart + 1 };
  }

  private fail(message: string, position = this.here()): never {
    throw new SieveCompileError(message, position);
  }

  /** Moves past [pos, to), counting line breaks. */
  private advanceTo(to: number): void {
    for (let i = this.pos; i < to; i++) {
      if (this.text[i] === '\n') {
        this.line++;
        this.lineStart = i + 1;
      }
    }
    this.pos = to;
  }

  private skipWhiteSpaceAndComments(): void {
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
        this.advanceTo(this.pos + 1);
      } else if (ch === '#') {
        const end = this.text.indexOf('\n', this.pos);
        this.advanceTo(end === -1 ? this.text.length : end + 1);
      } else if (ch === '/' && this.text[this.pos + 1] === '*') {
        const start = this.here();
        const end = this.text.indexOf('*/', this.pos + 2);
        if (end === -1) this.fail('unterminated comment', start);
        this.advanceTo(end + 2);
      } else {
        return;
      }
    }
  }

  private next(): Token {
    const position = this.here();
    const ch = this.text[this.pos];
    if (ch === undefined) return { kind: 'end', value: '', position };
    if (';,[](){}'.includes(ch)) {
      this.advanceTo(this.pos + 1);
      return { kind: 'punct', value: ch, position };
    }
    if (ch === '"') return { kind: 'string', value: this.quoted(), position };
    if (ch === ':') {
      IDENTIFIER.lastIndex = this.pos + 1;
      const match = IDENTIFIER.exec(this.text);
      if (match === null) this.fail('expected a tag name after ":"');
      this.advanceTo(IDENTIFIER.lastIndex);
      return { kind: 'tag', value: match[0].toLowerCase(), position };
    }
    NUMBER.lastIndex = this.pos;
    const number = NUMBER.exec(this.text);
    if (number !== null) {
      this.advanceTo(NUMBER.lastIndex);
      const value = Number(number[1]) * (QUANTIFIERS[(number[2] ?? '').toLowerCase()] ?? 1);
      if (!Number.isSafeInteger(value) || value > 2 ** 53) this.fail('number too large', position);
      return { kind: 'number', value, position };
    }
    IDENTIFIER.lastIndex = this.pos;
    const word = IDENTIFIER.exec(this.text);
    if (word !== null) {
      this.advanceTo(IDENTIFIER.lastIndex);
      if (word[0].toLowerCase() === 'text' && this.text[this.pos] === ':') {
        return { kind: 'string', value: this.multiLine(position), position };
      }
      return { kind: 'identifier', value: word[0].toLowerCase(), position };
    }
    return this.fail(`unexpected character ${JSON.stringify(ch)}`);
  }

  private quoted(): string {
    const start = this.here();
    let out = '';
    let i = this.pos + 1;
    for (;;) {
      const ch = this.text[i];
      if (ch === undefined) this.fail('unterminated string', start);
      if (ch === '"') break;
      if (ch === '\\') {
        const escaped = this.text[i + 1];
        if (escaped === undefined) this.fail('unterminated string', start);
        out += escaped;
        i += 2;
      } else {
        out += ch;
        i++;
      }
    }
    this.advanceTo(i + 1);
    return out;
  }

  /** After "text:": optional white space or a # comment, a line break, then lines up to ".". */
  private multiLine(start: SourcePosition): string {
    this.advanceTo(this.pos + 1);
    const rest = /[ \t]*(#[^\n]*)?\r?\n/y;
    rest.lastIndex = this.pos;
    if (rest.exec(this.text) === null) this.fail('expected a line break after "text:"');
    this.advanceTo(rest.lastIndex);
    const lines: string[] = [];
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated multi-line string', start);
      const newline = this.text.indexOf('\n', this.pos);
      const end = newline === -1 ? this.text.length : newline + 1;
      const line = this.text.slice(this.pos, end).replace(/\r?\n$/, '');
      this.advanceTo(end);
      if (line === '.') break;
      lines.push(line.startsWith('..') ? line.slice(1) : line);
      if (newline === -1) this.fail('unterminated multi-line string', start);
    }
    return lines.map((line) => `${line}\r\n`).join('');
  }
}
