import { describe, expect, it } from 'vitest';
import type { NestedValue } from '../../mime/types.ts';
import { frameAll, isFramerError } from '../parser/framer.ts';
import { tokenize, type ImapToken } from '../parser/tokenizer.ts';
import { ResponseBuilder, encodeString, encodeValue, statusLine } from './builder.ts';
import { ResponseCodes } from './codes.ts';
import { compressSequence, formatInternalDate, isAtomText, isFlagText } from './format.ts';

const text = (build: (b: ResponseBuilder) => unknown, options = {}): string => {
  const builder = new ResponseBuilder(options);
  build(builder);
  return builder.toBuffer().toString('latin1');
};

describe('encodeString', () => {
  it.each<[string | Buffer, object, string | Buffer]>([
    ['abc', {}, '"abc"'],
    ['', {}, '""'],
    ['a "quoted" \\ b', {}, '"a \\"quoted\\" \\\\ b"'],
    ['NIL', {}, '"NIL"'],
    ['a\r\nb', {}, '{4}\r\na\r\nb'],
    ['a\nb', {}, '{3}\r\na\nb'],
    ['a\0b', {}, '{3}\r\na\0b'],
    ['ä', {}, '{2}\r\nä'],
    ['ä', { utf8: true }, '"ä"'],
    ['x'.repeat(10), { maxQuotedLength: 9 }, `{10}\r\n${'x'.repeat(10)}`],
    ['x'.repeat(9), { maxQuotedLength: 9 }, `"${'x'.repeat(9)}"`],
    ['ää', { utf8: true, maxQuotedLength: 3 }, '{4}\r\nää'],
    [Buffer.from('abc'), {}, '"abc"'],
    [Buffer.from([0xff, 0xfe]), { utf8: true }, Buffer.from([0x7b, 0x32, 0x7d, 0x0d, 0x0a, 0xff, 0xfe])],
    [Buffer.from('ü', 'utf8'), { utf8: true }, '"ü"'],
    [Buffer.from('ü', 'utf8'), {}, '{2}\r\nü'],
  ])('%j %j', (value, options, expected) => {
    const out = new ResponseBuilder(options).string(value).toBuffer();
    expect(out).toEqual(typeof expected === 'string' ? Buffer.from(expected, 'utf8') : expected);
  });

  it('reports the choice', () => {
    expect(encodeString('a')).toEqual({ kind: 'quoted', text: '"a"' });
    expect(encodeString('a\n')).toEqual({ kind: 'literal', data: Buffer.from('a\n') });
  });
});

describe('ResponseBuilder', () => {
  it('writes status lines with codes and safe text', () => {
    expect(text((b) => b.status('a1', 'OK', 'LOGIN completed'))).toBe('a1 OK LOGIN completed\r\n');
    expect(text((b) => b.status('*', 'OK', 'Ready', ResponseCodes.uidNext(4392)))).toBe(
      '* OK [UIDNEXT 4392] Ready\r\n',
    );
    expect(text((b) => b.status('a', 'NO', 'bad\r\nthing\0', 'CANNOT'))).toBe(
      'a NO [CANNOT] bad  thing \r\n',
    );
    expect(text((b) => b.status('a', 'BAD', ''))).toBe('a BAD Completed\r\n');
    expect(text((b) => b.status('a', 'NO', 'Grüße'))).toBe('a NO Gr??e\r\n');
    expect(text((b) => b.status('a', 'NO', 'Grüße'), { utf8: true })).toBe(
      Buffer.from('a NO Grüße\r\n').toString('latin1'),
    );
    expect(text((b) => b.status('a', 'NO', 'x', 'BAD]CODE\r\n'))).toBe('a NO [BAD CODE  ] x\r\n');
    expect(statusLine('*', 'BYE', 'Too many errors').toString()).toBe('* BYE Too many errors\r\n');
    expect(text((b) => b.continuation())).toBe('+ Ready\r\n');
    expect(text((b) => b.continuation(''))).toBe('+ \r\n');
  });

  it('writes an untagged FETCH with a binary-safe literal', () => {
    const body = Buffer.from([0x41, 0xff, 0x00, 0x0d, 0x0a, 0x80]);
    const builder = new ResponseBuilder();
    builder
      .untagged()
      .number(12)
      .text(' FETCH (UID ')
      .number(44)
      .text(' BODY[] ')
      .literal(body)
      .text(')')
      .crlf();
    const out = builder.toBuffer();
    expect(
      out.equals(
        Buffer.concat([Buffer.from('* 12 FETCH (UID 44 BODY[] {6}\r\n'), body, Buffer.from(')\r\n')]),
      ),
    ).toBe(true);
    expect(builder.byteLength).toBe(out.length);
    const chunks = builder.toChunks();
    expect(chunks).toContain(body); // the literal is not copied
    expect(Buffer.concat(chunks).equals(out)).toBe(true);
  });

  it('writes literal8', () => {
    expect(text((b) => b.literal(Buffer.from('ab'), true))).toBe('~{2}\r\nab');
  });

  it('writes nested values (ENVELOPE)', () => {
    const envelope: NestedValue[] = [
      'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
      'IMAP4rev1 WG mtg summary and minutes',
      [['Terry Gray', null, 'gray', 'cac.washington.edu']],
      null,
      [],
      7,
    ];
    expect(encodeValue(envelope).toString()).toBe(
      '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) NIL () 7)',
    );
    expect(text((b) => b.list(['a\r\n', 'ö']))).toBe('({3}\r\na\r\n {2}\r\n\xc3\xb6)');
    expect(text((b) => b.value(null))).toBe('NIL');
    expect(text((b) => b.nstring(undefined).sp().nstring('x'))).toBe('NIL "x"');
  });

  it('writes flags, dates, sequences, atoms and mailboxes', () => {
    expect(text((b) => b.flags(['\\Seen', '$Forwarded', 'bad flag', '\\*']))).toBe('(\\Seen $Forwarded \\*)');
    expect(text((b) => b.flags([]))).toBe('()');
    expect(text((b) => b.date(new Date('1996-07-17T09:44:25Z'), -420))).toBe('"17-Jul-1996 02:44:25 -0700"');
    expect(text((b) => b.sequence([5, 1, 2, 3]))).toBe('1:3,5');
    expect(text((b) => b.astring('INBOX').sp().astring('a b').sp().astring('nil'))).toBe('INBOX "a b" "nil"');
    expect(text((b) => b.mailbox('INBOX'))).toBe('INBOX');
    expect(text((b) => b.mailbox('Entwürfe'))).toBe('"Entw&APw-rfe"');
    expect(text((b) => b.mailbox('Entwürfe'), { utf8: true })).toBe(
      Buffer.from('"Entwürfe"').toString('latin1'),
    );
    expect(text((b) => b.mailbox('a "b"'))).toBe('"a \\"b\\""');
    expect(
      text((b) =>
        b
          .number(0)
          .sp()
          .number(2n ** 63n - 1n),
      ),
    ).toBe('0 9223372036854775807');
  });

  it('throws on programming errors', () => {
    const b = new ResponseBuilder();
    expect(() => b.number(-1)).toThrow(RangeError);
    expect(() => b.number(1.5)).toThrow(RangeError);
    expect(() => b.number(Number.NaN)).toThrow(RangeError);
    expect(() => b.number(-1n)).toThrow(RangeError);
    expect(() => b.atom('a b')).toThrow(RangeError);
    expect(() => b.sequence([])).toThrow(RangeError);
    expect(() => b.date(new Date(Number.NaN))).toThrow(RangeError);
    const deep: NestedValue[] = [];
    let cur = deep;
    for (let i = 0; i < 200; i++) {
      const next: NestedValue[] = [];
      cur.push(next);
      cur = next;
    }
    expect(() => b.value(deep)).toThrow(RangeError);
  });

  it('can be reset and reused', () => {
    const b = new ResponseBuilder();
    b.text('abc');
    b.reset();
    expect(b.text('x').toBuffer().toString()).toBe('x');
  });
});

describe('formatInternalDate', () => {
  it.each<[string, number, string]>([
    ['1996-07-17T09:44:25Z', -420, '17-Jul-1996 02:44:25 -0700'],
    ['2024-01-05T22:29:59Z', 90, '05-Jan-2024 23:59:59 +0130'],
    ['2024-01-05T22:30:00Z', 90, '06-Jan-2024 00:00:00 +0130'],
    ['2000-02-01T00:00:00Z', 0, '01-Feb-2000 00:00:00 +0000'],
    ['2021-12-31T23:59:59Z', 330, '01-Jan-2022 05:29:59 +0530'],
    ['2021-03-01T00:30:00Z', -60, '28-Feb-2021 23:30:00 -0100'],
  ])('%s at %d', (iso, offset, expected) => {
    expect(formatInternalDate(new Date(iso), offset)).toBe(expected);
  });

  it('defaults to the local zone', () => {
    const date = new Date('2020-06-01T12:00:00Z');
    expect(formatInternalDate(date)).toBe(formatInternalDate(date, -date.getTimezoneOffset()));
  });
});

describe('compressSequence', () => {
  it.each<[number[], boolean, string]>([
    [[], true, ''],
    [[1], true, '1'],
    [[1, 2, 3, 5], true, '1:3,5'],
    [[5, 3, 2, 1, 3, 9, 10], true, '1:3,5,9:10'],
    [[5, 6, 1, 2], false, '5:6,1:2'],
    [[3, 2, 1], false, '3,2,1'],
    [[4294967294, 4294967295], true, '4294967294:4294967295'],
  ])('%j sort=%s', (numbers, sort, expected) => {
    expect(compressSequence(numbers, sort)).toBe(expected);
  });
});

describe('ResponseCodes', () => {
  it('formats codes with arguments', () => {
    expect(ResponseCodes.capability(['IMAP4rev1', 'IDLE'])).toBe('CAPABILITY IMAP4rev1 IDLE');
    expect(ResponseCodes.permanentFlags(['\\Seen', '\\*', 'bad flag'])).toBe('PERMANENTFLAGS (\\Seen \\*)');
    expect(ResponseCodes.badCharset()).toBe('BADCHARSET (UTF-8 US-ASCII)');
    expect(ResponseCodes.uidValidity(3857529045)).toBe('UIDVALIDITY 3857529045');
    expect(ResponseCodes.unseen(12)).toBe('UNSEEN 12');
    expect(ResponseCodes.highestModSeq(715194045007)).toBe('HIGHESTMODSEQ 715194045007');
    expect(ResponseCodes.modified([7, 9, 8])).toBe('MODIFIED 7:9');
    expect(ResponseCodes.appendUid(38505, [3955])).toBe('APPENDUID 38505 3955');
    expect(ResponseCodes.copyUid(38505, [304, 319, 320], [3956, 3957, 3958])).toBe(
      'COPYUID 38505 304,319:320 3956:3958',
    );
    expect(ResponseCodes.mailboxId('F2212ea87-6097-4256-9d51-71338625')).toBe(
      'MAILBOXID (F2212ea87-6097-4256-9d51-71338625)',
    );
    expect(() => ResponseCodes.uidNext(-1)).toThrow(RangeError);
  });
});

describe('atoms and flags', () => {
  it.each<[string, boolean]>([
    ['abc', true],
    ['', false],
    ['a b', false],
    ['a]', false],
    ['a%', false],
    ['NIL', false],
    ['ä', false],
    ['$Label1', true],
  ])('isAtomText(%j) = %s', (value, expected) => {
    expect(isAtomText(value)).toBe(expected);
  });

  it.each<[string, boolean]>([
    ['\\Seen', true],
    ['\\*', true],
    ['\\', false],
    ['$Junk', true],
    ['NIL', true],
    ['a(b', false],
  ])('isFlagText(%j) = %s', (value, expected) => {
    expect(isFlagText(value)).toBe(expected);
  });
});

describe('encoder ↔ tokenizer round trip', () => {
  function readBack(encoded: Buffer): ImapToken[] {
    const framed = frameAll(Buffer.concat([encoded, Buffer.from('\r\n')]), { maxLiteralSize: 1 << 20 });
    expect(framed).toHaveLength(1);
    const first = framed[0]!;
    if (isFramerError(first)) throw new Error(first.message);
    const tokens = tokenize(first);
    if (!Array.isArray(tokens)) throw new Error(tokens.message);
    return tokens;
  }

  function toNested(token: ImapToken): NestedValue {
    if (token.type === 'nil') return null;
    if (token.type === 'list') return token.items.map(toNested);
    if (token.type === 'string') return token.value.toString('utf8');
    return /^\d+$/.test(token.value) ? Number(token.value) : token.value;
  }

  it('random strings come back unchanged, quoted or literal, with and without UTF8=ACCEPT', () => {
    let seed = 99;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const alphabet = [
      'a',
      ' ',
      '"',
      '\\',
      '\r',
      '\n',
      '\0',
      '(',
      ')',
      '{5}',
      'ä',
      '😀',
      '\t',
      '*',
      '%',
      ']',
      '~{1}',
    ];
    for (let n = 0; n < 1000; n++) {
      const parts: string[] = [];
      const length = Math.floor(random() * 10);
      for (let i = 0; i < length; i++) parts.push(alphabet[Math.floor(random() * alphabet.length)]!);
      const value = parts.join('');
      for (const utf8 of [false, true]) {
        const tokens = readBack(new ResponseBuilder({ utf8 }).string(value).toBuffer());
        expect(tokens).toHaveLength(1);
        expect(toNested(tokens[0]!)).toBe(value);
      }
    }
  });

  it('nested values come back unchanged', () => {
    const value: NestedValue[] = [
      'text',
      'plain',
      ['charset', 'utf-8', 'name', 'a "b".txt'],
      null,
      'multi\r\nline',
      'base64',
      1234,
      [['x', null], []],
    ];
    expect(readBack(encodeValue(value)).map(toNested)).toEqual([value]);
  });

  it('writes address lists and multipart bodies without a space between their lists (RFC 3501)', () => {
    const address = (name: string) => [name, null, name, 'example.org'];
    const envelope: NestedValue[] = [
      null,
      'Hi',
      [address('a'), address('b')],
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ];
    expect(encodeValue(envelope).toString()).toBe(
      '(NIL "Hi" (("a" NIL "a" "example.org")("b" NIL "b" "example.org")) NIL NIL NIL NIL NIL NIL NIL)',
    );
    const part = ['text', 'plain', null, null, null, '7bit', 10, 1];
    expect(encodeValue([part, part, 'mixed', ['boundary', 'x']]).toString()).toBe(
      '(("text" "plain" NIL NIL NIL "7bit" 10 1)("text" "plain" NIL NIL NIL "7bit" 10 1) "mixed" ("boundary" "x"))',
    );
    // Lists that are fields of a structure keep their SP: from and sender, disposition and language.
    expect(encodeValue([null, null, [address('a')], [address('a')]]).toString()).toBe(
      '(NIL NIL (("a" NIL "a" "example.org")) (("a" NIL "a" "example.org")))',
    );
  });
});
