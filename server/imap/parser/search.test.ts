import { describe, expect, it } from 'vitest';
import { ParseError } from './errors.ts';
import { S, parse } from './test-helpers.ts';
import type { SearchKey } from './types.ts';

const flag = (name: string, set: boolean): SearchKey => ({ type: 'flag', flag: name, set });
const date = (year: number, month: number, day: number) => ({ year, month, day });

/** SEARCH criteria → expected key (the whole command is `a SEARCH <criteria>`). */
const KEYS: Array<[string, SearchKey]> = [
  ['ALL', { type: 'all' }],
  ['all', { type: 'all' }],
  ['ANSWERED', flag('\\Answered', true)],
  ['DELETED', flag('\\Deleted', true)],
  ['DRAFT', flag('\\Draft', true)],
  ['FLAGGED', flag('\\Flagged', true)],
  ['RECENT', flag('\\Recent', true)],
  ['SEEN', flag('\\Seen', true)],
  ['UNANSWERED', flag('\\Answered', false)],
  ['UNDELETED', flag('\\Deleted', false)],
  ['UNDRAFT', flag('\\Draft', false)],
  ['UNFLAGGED', flag('\\Flagged', false)],
  ['UNSEEN', flag('\\Seen', false)],
  ['NEW', { type: 'and', keys: [flag('\\Recent', true), flag('\\Seen', false)] }],
  ['OLD', { type: 'not', key: flag('\\Recent', true) }],
  ['KEYWORD $Forwarded', flag('$Forwarded', true)],
  ['UNKEYWORD Junk', flag('Junk', false)],
  ['BCC "bob@example.org"', { type: 'header', field: 'bcc', value: 'bob@example.org' }],
  ['CC bob', { type: 'header', field: 'cc', value: 'bob' }],
  ['FROM "Smith"', { type: 'header', field: 'from', value: 'Smith' }],
  ['TO {3}\r\nbob', { type: 'header', field: 'to', value: 'bob' }],
  ['SUBJECT "Grüße"', { type: 'header', field: 'subject', value: 'Grüße' }],
  ['HEADER X-Mailer mutt', { type: 'header', field: 'x-mailer', value: 'mutt' }],
  ['HEADER "Message-ID" ""', { type: 'header', field: 'message-id', value: '' }],
  ['BODY "hello world"', { type: 'body', value: 'hello world' }],
  ['TEXT hello', { type: 'text', value: 'hello' }],
  ['BEFORE 1-Feb-1994', { type: 'internaldate', op: 'before', date: date(1994, 2, 1) }],
  ['ON "01-feb-1994"', { type: 'internaldate', op: 'on', date: date(1994, 2, 1) }],
  ['SINCE 29-Feb-2024', { type: 'internaldate', op: 'since', date: date(2024, 2, 29) }],
  ['SENTBEFORE 31-Dec-1999', { type: 'sentdate', op: 'before', date: date(1999, 12, 31) }],
  ['SENTON 1-Jan-2000', { type: 'sentdate', op: 'on', date: date(2000, 1, 1) }],
  ['SENTSINCE 15-Aug-2010', { type: 'sentdate', op: 'since', date: date(2010, 8, 15) }],
  ['LARGER 1024', { type: 'size', op: 'larger', size: 1024 }],
  ['SMALLER 0', { type: 'size', op: 'smaller', size: 0 }],
  ['LARGER 10000000000', { type: 'size', op: 'larger', size: 10000000000 }],
  ['UID 1:100,200', { type: 'uid', set: S('1:100,200') }],
  ['UID *', { type: 'uid', set: S('*') }],
  ['UID $', { type: 'uid', set: S('$') }],
  ['1:*', { type: 'seq', set: S('1:*') }],
  ['2,4:7,*:9', { type: 'seq', set: S('2,4:7,*:9') }],
  ['$', { type: 'seq', set: S('$') }],
  ['NOT SEEN', { type: 'not', key: flag('\\Seen', true) }],
  ['NOT NOT DELETED', { type: 'not', key: { type: 'not', key: flag('\\Deleted', true) } }],
  ['OR SEEN FLAGGED', { type: 'or', left: flag('\\Seen', true), right: flag('\\Flagged', true) }],
  [
    'OR (FROM a TO b) NOT 1:3',
    {
      type: 'or',
      left: {
        type: 'and',
        keys: [
          { type: 'header', field: 'from', value: 'a' },
          { type: 'header', field: 'to', value: 'b' },
        ],
      },
      right: { type: 'not', key: { type: 'seq', set: S('1:3') } },
    },
  ],
  [
    'OR OR SEEN DRAFT DELETED',
    {
      type: 'or',
      left: { type: 'or', left: flag('\\Seen', true), right: flag('\\Draft', true) },
      right: flag('\\Deleted', true),
    },
  ],
  ['(SEEN)', flag('\\Seen', true)],
  ['((SEEN))', flag('\\Seen', true)],
  [
    'FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"',
    {
      type: 'and',
      keys: [
        flag('\\Flagged', true),
        { type: 'internaldate', op: 'since', date: date(1994, 2, 1) },
        { type: 'not', key: { type: 'header', field: 'from', value: 'Smith' } },
      ],
    },
  ],
  ['MODSEQ 620162338', { type: 'modseq', modSeq: 620162338 }],
  ['MODSEQ 0', { type: 'modseq', modSeq: 0 }],
  [
    'MODSEQ "/flags/\\\\draft" all 620162338',
    { type: 'modseq', modSeq: 620162338, entry: { name: '/flags/\\draft', entryType: 'all' } },
  ],
  [
    'MODSEQ "/flags/$Junk" PRIV 5',
    { type: 'modseq', modSeq: 5, entry: { name: '/flags/$Junk', entryType: 'priv' } },
  ],
  ['YOUNGER 3600', { type: 'age', op: 'younger', seconds: 3600 }],
  ['OLDER 86400', { type: 'age', op: 'older', seconds: 86400 }],
];

describe('SEARCH keys', () => {
  it.each(KEYS)('%j', (criteria, expected) => {
    expect(parse(`a SEARCH ${criteria}`)).toEqual({
      tag: 'a',
      name: 'SEARCH',
      uid: false,
      charset: null,
      returnOptions: null,
      partial: null,
      criteria: expected,
    });
  });
});

describe('SEARCH program', () => {
  it('UID SEARCH', () => {
    expect(parse('a UID SEARCH UID 5:*')).toMatchObject({
      name: 'SEARCH',
      uid: true,
      criteria: { type: 'uid' },
    });
  });

  it.each([
    ['CHARSET UTF-8 ALL', 'UTF-8'],
    ['charset utf-8 ALL', 'UTF-8'],
    ['CHARSET "US-ASCII" ALL', 'US-ASCII'],
    ['CHARSET {5}\r\nUTF-8 ALL', 'UTF-8'],
  ])('%j', (args, charset) => {
    expect(parse(`a SEARCH ${args}`)).toMatchObject({ charset, criteria: { type: 'all' } });
  });

  it.each([
    ['RETURN (MIN MAX) ALL', ['MIN', 'MAX']],
    ['RETURN () ALL', ['ALL']],
    ['RETURN (count all save) ALL', ['COUNT', 'ALL', 'SAVE']],
    ['RETURN (MIN MIN) ALL', ['MIN']],
    ['RETURN (COUNT) CHARSET UTF-8 ALL', ['COUNT']],
    ['RETURN (CONTEXT UPDATE) ALL', ['CONTEXT', 'UPDATE']],
  ])('%j', (args, returnOptions) => {
    expect(parse(`a SEARCH ${args}`)).toMatchObject({ returnOptions, criteria: { type: 'all' } });
  });

  it.each([
    ['PARTIAL 1:100', { first: 1, last: 100 }],
    ['PARTIAL 100:1', { first: 1, last: 100 }],
    ['PARTIAL -1:-100', { first: -1, last: -100 }],
    ['PARTIAL -100:-1', { first: -1, last: -100 }],
    ['partial 7:7 UPDATE', { first: 7, last: 7 }],
    ['PARTIAL 1:4294967295', { first: 1, last: 4294967295 }],
  ])('RETURN (%s): a range of positions (RFC 5267 4.4, RFC 9394)', (option, partial) => {
    expect(parse(`a SEARCH RETURN (${option}) ALL`)).toMatchObject({ partial, criteria: { type: 'all' } });
  });

  it.each([
    ['PARTIAL 0:5', 'Bad PARTIAL range'],
    ['PARTIAL -1:5', 'same sign'],
    ['PARTIAL 5', 'Bad PARTIAL range'],
    ['PARTIAL 1:4294967296', 'below 2^32'],
    ['PARTIAL 1:99999999999', 'Bad PARTIAL range'],
    ['PARTIAL', 'PARTIAL range'],
    ['PARTIAL 1:2 PARTIAL 3:4', 'twice'],
  ])('RETURN (%s) is BAD', (option, message) => {
    const result = parse(`a SEARCH RETURN (${option}) ALL`);
    expect(result).toBeInstanceOf(ParseError);
    expect((result as ParseError).message).toContain(message);
  });

  it('CANCELUPDATE takes quoted tags', () => {
    expect(parse('a CANCELUPDATE "B01" "x y"')).toEqual({
      tag: 'a',
      name: 'CANCELUPDATE',
      tags: ['B01', 'x y'],
    });
    expect(parse('a CANCELUPDATE')).toBeInstanceOf(ParseError);
    expect(parse('a CANCELUPDATE B01')).toBeInstanceOf(ParseError);
  });

  it('CHARSET other than UTF-8/US-ASCII is a bad-charset error', () => {
    const result = parse('a SEARCH CHARSET ISO-8859-1 SUBJECT x');
    expect(result).toBeInstanceOf(ParseError);
    expect(result).toMatchObject({ kind: 'bad-charset', tag: 'a', command: 'SEARCH', charset: 'ISO-8859-1' });
  });

  it('decodes 8-bit literals as UTF-8', () => {
    const input = Buffer.concat([
      Buffer.from('a SEARCH CHARSET UTF-8 SUBJECT {6}\r\n'),
      Buffer.from('Ärger', 'utf8'),
      Buffer.from('\r\n'),
    ]);
    expect(parse(input)).toMatchObject({ criteria: { type: 'header', field: 'subject', value: 'Ärger' } });
  });

  it('accepts a flat list of many keys without recursion', () => {
    const keys = Array.from({ length: 2000 }, () => 'SEEN').join(' ');
    const result = parse(`a SEARCH ${keys}`);
    expect(result).toMatchObject({ criteria: { type: 'and' } });
  });
});

const BAD: Array<[string, string]> = [
  ['a SEARCH', 'Missing search criteria'],
  ['a SEARCH ', 'Missing search key'],
  ['a SEARCH FOO', 'Unknown search key FOO'],
  ['a SEARCH SEEN  DELETED', 'search key'],
  ['a SEARCH SEEN ', 'Missing search key'],
  ['a SEARCH FROM', 'Missing FROM string'],
  ['a SEARCH HEADER Subject', 'Missing HEADER string'],
  ['a SEARCH HEADER "Sub:ject" x', 'Invalid header field name'],
  ['a SEARCH KEYWORD \\Seen', 'keyword'],
  ['a SEARCH BEFORE 1-Foo-2000', 'Invalid date'],
  ['a SEARCH BEFORE 30-Feb-2000', 'Invalid date'],
  ['a SEARCH SINCE 2000-01-01', 'Invalid date'],
  ['a SEARCH ON "1-Jan-2000 10:00"', 'Invalid date'],
  ['a SEARCH LARGER x', 'size'],
  ['a SEARCH LARGER 99999999999999999999', 'out of range'],
  ['a SEARCH UID', 'Missing UID set'],
  ['a SEARCH UID 0', 'numbers start at 1'],
  ['a SEARCH 4294967296', 'out of range'],
  ['a SEARCH NOT', 'Missing search key after NOT'],
  ['a SEARCH OR SEEN', 'Missing second search key of OR'],
  ['a SEARCH (SEEN', 'search key list'],
  ['a SEARCH SEEN)', 'should end'],
  ['a SEARCH ()', 'search key'],
  ['a SEARCH YOUNGER 0', 'at least 1'],
  ['a SEARCH MODSEQ', 'Missing MODSEQ value'],
  ['a SEARCH MODSEQ "/flags/x" bogus 1', 'entry type'],
  ['a SEARCH MODSEQ "x" all 1', 'entry name'],
  ['a SEARCH RETURN (FOO) ALL', 'Unknown RETURN option'],
  ['a SEARCH RETURN MIN ALL', 'RETURN option list'],
  ['a SEARCH CHARSET', 'Missing charset'],
  ['a SEARCH CHARSET UTF-8', 'Missing search criteria'],
  ['a SEARCH SUBJECT "a\r"', 'quoted string'],
];

describe('SEARCH errors', () => {
  it.each(BAD)('%j', (input, message) => {
    const result = parse(input);
    expect(result).toBeInstanceOf(ParseError);
    expect(result).toMatchObject({ kind: 'syntax', tag: 'a' });
    expect((result as ParseError).message).toContain(message);
  });
});
