import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands.ts';
import { ParseError } from './errors.ts';
import { frameAll, isFramerError } from './framer.ts';
import { tokenize } from './tokenizer.ts';

const bin = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

/** Parses one line without framing (so CR and NUL stay inside it). */
const line = (input: string | Buffer) =>
  parseCommand(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);

/** [description, input line, expected kind, expected tag, message substring] */
const HOSTILE: Array<[string, string | Buffer, ParseError['kind'], string | null, string]> = [
  ['NUL in tag', bin('a', [0], 'b NOOP'), 'syntax', null, 'NUL'],
  ['NUL after tag', bin('a ', [0], 'NOOP'), 'syntax', 'a', 'NUL'],
  ['NUL in command name', bin('a NO', [0], 'OP'), 'syntax', 'a', 'NUL'],
  ['NUL in atom', bin('a LOGIN al', [0], 'ice x'), 'syntax', 'a', 'NUL'],
  ['NUL in quoted string', bin('a LOGIN "al', [0], 'ice" x'), 'syntax', 'a', 'NUL'],
  ['NUL at end', bin('a NOOP', [0]), 'syntax', 'a', 'NUL'],
  ['CR inside the line', 'a NO\rOP', 'syntax', 'a', 'control character 0x0d'],
  ['CR in quoted string', 'a LOGIN "a\rb" x', 'syntax', 'a', 'quoted string'],
  ['control character', 'a NOOP\x01', 'syntax', 'a', 'control character 0x01'],
  ['DEL', 'a LOGIN a\x7fb c', 'syntax', 'a', 'control character 0x7f'],
  ['8-bit byte in atom', bin('a LOGIN j', [0xc3, 0xb6], 'rg x'), 'syntax', 'a', '8-bit'],
  ['8-bit byte in tag', bin([0xff], ' NOOP'), 'syntax', null, '8-bit'],
  ['8-bit byte in command', bin('a N', [0xd6], 'OP'), 'syntax', 'a', '8-bit'],
  ['invalid UTF-8 in quoted string', bin('a LOGIN "', [0xff, 0xfe], '" x'), 'syntax', 'a', 'Invalid UTF-8'],
  ['overlong UTF-8 in quoted string', bin('a LOGIN "', [0xc0, 0xaf], '" x'), 'syntax', 'a', 'Invalid UTF-8'],
  ['UTF-16 surrogate as UTF-8', bin('a SELECT "', [0xed, 0xa0, 0x80], '"'), 'syntax', 'a', 'Invalid UTF-8'],
  ['unbalanced: open fetch list', 'a FETCH 1 (FLAGS UID', 'syntax', 'a', 'fetch attribute list'],
  ['unbalanced: extra close', 'a FETCH 1 (FLAGS))', 'syntax', 'a', 'should end'],
  ['unbalanced: search', 'a SEARCH ((SEEN)', 'syntax', 'a', 'search key list'],
  ['unbalanced: search close', 'a SEARCH SEEN))', 'syntax', 'a', 'should end'],
  ['unbalanced: flags', 'a STORE 1 FLAGS (a (b))', 'syntax', 'a', 'flag'],
  ['unbalanced: section', 'a FETCH 1 BODY[HEADER.FIELDS (A B]', 'syntax', 'a', 'header field list'],
  ['unbalanced: quote', 'a LOGIN "a b', 'syntax', 'a', 'Unterminated'],
  [
    'deep search nesting',
    `a SEARCH ${'('.repeat(100_000)}SEEN${')'.repeat(100_000)}`,
    'syntax',
    'a',
    'nested too deeply',
  ],
  ['deep NOT chain', `a SEARCH ${'NOT '.repeat(100_000)}SEEN`, 'syntax', 'a', 'nested too deeply'],
  ['deep OR chain', `a SEARCH ${'OR SEEN '.repeat(100_000)}SEEN`, 'syntax', 'a', 'nested too deeply'],
  ['nesting inside FETCH', `a FETCH 1 ${'('.repeat(1000)}FLAGS`, 'syntax', 'a', 'fetch attribute'],
  ['huge sequence number', 'a FETCH 99999999999999999999999999 FLAGS', 'syntax', 'a', 'out of range'],
  ['sequence number 2^32', 'a FETCH 4294967296 FLAGS', 'syntax', 'a', 'out of range'],
  ['UID 2^32', 'a UID FETCH 1:4294967296 FLAGS', 'syntax', 'a', 'out of range'],
  ['sequence number 0', 'a FETCH 0 FLAGS', 'syntax', 'a', 'start at 1'],
  ['negative sequence number', 'a FETCH -1 FLAGS', 'syntax', 'a', 'sequence number'],
  ['huge part number', 'a FETCH 1 BODY[99999999999]', 'syntax', 'a', 'out of range'],
  ['huge partial', 'a FETCH 1 BODY[]<0.99999999999999>', 'syntax', 'a', 'out of range'],
  ['huge CHANGEDSINCE', 'a FETCH 1 FLAGS (CHANGEDSINCE 99999999999999999999)', 'syntax', 'a', 'out of range'],
  ['MODSEQ 2^63', 'a SEARCH MODSEQ 9223372036854775808', 'syntax', 'a', 'out of range'],
  ['huge LARGER', 'a SEARCH LARGER 9007199254740992', 'syntax', 'a', 'out of range'],
  ['huge UIDVALIDITY', 'a SELECT x (QRESYNC (4294967296 1))', 'syntax', 'a', 'out of range'],
  ['huge literal size in a plain line', 'a LOGIN {99999999999999999999} x', 'syntax', 'a', 'literal'],
  ['literal marker mid-line', 'a LOGIN {3} x', 'syntax', 'a', 'literal'],
  ['prototype name as command', 'a __proto__', 'unknown-command', 'a', 'Unknown command'],
  ['constructor as command', 'a constructor', 'unknown-command', 'a', 'Unknown command'],
  ['hasOwnProperty as UID command', 'a UID hasOwnProperty', 'unknown-command', 'a', 'Unknown command'],
  ['only spaces', '   ', 'syntax', null, 'tag'],
  ['tab separator', 'a\tNOOP', 'syntax', null, 'tag'],
  ['star tag', '* OK hello', 'syntax', null, 'tag'],
  ['continuation as command', '+ hello', 'syntax', null, 'tag'],
  ['quoted tag', '"a" NOOP', 'syntax', null, 'tag'],
  ['escape of other char', 'a LOGIN "\\n" x', 'syntax', 'a', 'Invalid escape'],
  ['backslash at end of quoted', 'a LOGIN "abc\\', 'syntax', 'a', 'Invalid escape'],
  ['very long message is truncated', `a ${'X'.repeat(5000)}`, 'unknown-command', 'a', '...'],
];

describe('hostile input', () => {
  it.each(HOSTILE)('%s', (_name, input, kind, tag, message) => {
    const result = line(input);
    expect(result).toBeInstanceOf(ParseError);
    const error = result as ParseError;
    expect(error.kind).toBe(kind);
    expect(error.tag).toBe(tag);
    expect(error.message).toContain(message);
    expect(error.message).toMatch(/^[\x20-\x7e]{1,200}$/);
  });

  it('NUL inside a literal used as a string is refused, inside an APPEND literal kept', () => {
    const login = frameAll(bin('a LOGIN {3}\r\na', [0], 'b x\r\n'));
    expect(login).toHaveLength(1);
    expect(parseCommand(login[0]! as never)).toMatchObject({
      kind: 'syntax',
      message: 'NUL byte in user name',
    });
    const append = frameAll(bin('a APPEND x {3}\r\na', [0], 'b\r\n'));
    expect(parseCommand(append[0]! as never)).toMatchObject({ name: 'APPEND' });
  });

  it('a deeply nested token list is refused by the tokenizer', () => {
    expect(tokenize('('.repeat(100_000))).toBeInstanceOf(ParseError);
    expect(tokenize(`${'('.repeat(50)}x${')'.repeat(50)}`)).not.toBeInstanceOf(ParseError);
  });

  it('the search depth limit is configurable', () => {
    const input = Buffer.from(`a SEARCH ${'NOT '.repeat(10)}SEEN`);
    expect(parseCommand(input, { maxSearchDepth: 10 })).toBeInstanceOf(ParseError);
    expect(parseCommand(input, { maxSearchDepth: 11 })).not.toBeInstanceOf(ParseError);
  });

  it('framed hostile input never yields more than the limits', () => {
    const limits = { maxLineLength: 100, maxLiteralSize: 50, maxCommandSize: 200, maxDiscardSize: 1000 };
    const input = bin(
      'a LOGIN {49+}\r\n',
      'x'.repeat(49),
      ' {50+}\r\n',
      'y'.repeat(50),
      ' {51+}\r\n',
      'z'.repeat(51),
      '\r\nb ',
      'q'.repeat(200),
      '\r\nc NOOP\r\n',
    );
    const out = frameAll(input, limits);
    expect(out.map((item) => (isFramerError(item) ? item.kind : 'command'))).toEqual([
      'literal-too-large',
      'line-too-long',
      'command',
    ]);
  });
});
