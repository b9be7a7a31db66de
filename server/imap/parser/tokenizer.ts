/**
 * A generic IMAP tokenizer: a command or response line (with literals) into a token tree, without
 * knowing the grammar of any command. Used for extension arguments and in tests (encoder round
 * trips). The typed command parser does not depend on it.
 */
import { ParseError, ParseFailure, fail } from './errors.ts';
import type { FramedCommand } from './framer.ts';
import { DQUOTE, GT, LBRACKET, LPAREN, LT, RBRACKET, RPAREN, Reader, SP, describeByte } from './reader.ts';

export type ImapToken =
  /** An atom (also numbers, `*`, `\Flag`, `+`); `section`/`partial` for `BODY[...]<...>`. */
  | { type: 'atom'; value: string; section?: ImapToken[]; partial?: string }
  | { type: 'string'; value: Buffer; literal: boolean }
  | { type: 'nil' }
  /** `(...)`, or `[...]` standing alone (a response code) with `bracket`. */
  | { type: 'list'; items: ImapToken[]; bracket?: boolean };

export const DEFAULT_MAX_TOKEN_DEPTH = 100;

const isGenericAtomChar = (b: number): boolean =>
  b > 0x20 &&
  b !== 0x7f &&
  b !== LPAREN &&
  b !== RPAREN &&
  b !== LBRACKET &&
  b !== RBRACKET &&
  b !== DQUOTE &&
  b !== 0x7b;

function readTokens(r: Reader, close: number, depth: number, maxDepth: number): ImapToken[] {
  if (depth > maxDepth) fail('Lists nested too deeply');
  const out: ImapToken[] = [];
  for (;;) {
    const b = r.peek();
    if (close < 0 ? r.atEnd() : b === close) {
      if (close >= 0) r.pos++;
      return out;
    }
    // Adjacent lists may touch, as in IMAP's address lists and multipart bodies: `(...)(...)`.
    const touching = b === LPAREN && out[out.length - 1]?.type === 'list';
    if (out.length > 0 && !touching) {
      if (b !== SP) r.unexpected(close < 0 ? 'space' : `space or "${String.fromCharCode(close)}"`);
      r.pos++;
    }
    out.push(readToken(r, depth, maxDepth));
  }
}

function readToken(r: Reader, depth: number, maxDepth: number): ImapToken {
  const b = r.peek();
  if (b === LPAREN) {
    r.pos++;
    return { type: 'list', items: readTokens(r, RPAREN, depth + 1, maxDepth) };
  }
  if (b === LBRACKET) {
    r.pos++;
    return { type: 'list', items: readTokens(r, RBRACKET, depth + 1, maxDepth), bracket: true };
  }
  if (b === DQUOTE) return { type: 'string', value: r.readQuotedBytes(), literal: false };
  if (r.atLiteral()) return { type: 'string', value: r.readLiteral(true).data, literal: true };
  if (!isGenericAtomChar(b)) return fail(`Unexpected ${describeByte(b)}`);
  const value = r.readWhile((c) => isGenericAtomChar(c) && c !== LT);
  if (value === '' && r.peek() === LT) return fail('Unexpected "<"');
  if (value.toUpperCase() === 'NIL' && r.peek() !== LBRACKET) return { type: 'nil' };
  const token: ImapToken = { type: 'atom', value };
  if (r.peek() === LBRACKET) {
    r.pos++;
    token.section = readTokens(r, RBRACKET, depth + 1, maxDepth);
  }
  if (r.peek() === LT) {
    r.pos++;
    token.partial = r.readWhile((c) => c !== GT && c > 0x20 && c < 0x7f);
    r.expect(GT, '">"');
  }
  return token;
}

/** Tokenizes a whole line (string, Buffer or framed command with literals). */
export function tokenize(
  input: FramedCommand | string | Buffer,
  maxDepth = DEFAULT_MAX_TOKEN_DEPTH,
): ImapToken[] | ParseError {
  try {
    const framed: FramedCommand =
      typeof input === 'string' || Buffer.isBuffer(input)
        ? { segments: [Buffer.from(input)], literals: [], size: input.length }
        : input;
    return readTokens(new Reader(framed), -1, 0, maxDepth);
  } catch (error) {
    if (error instanceof ParseFailure) return new ParseError(error.kind, null, null, error.message);
    throw error;
  }
}
