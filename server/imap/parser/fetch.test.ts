import { describe, expect, it } from 'vitest';
import { ParseError } from './errors.ts';
import { S, parse } from './test-helpers.ts';
import type { FetchItem } from './types.ts';

const a = (name: string): FetchItem => ({ kind: 'attribute', name }) as FetchItem;

/** Item text → expected items (inside `a FETCH 1 <items>`). */
const ITEMS: Array<[string, FetchItem[]]> = [
  ['FLAGS', [a('FLAGS')]],
  ['uid', [a('UID')]],
  ['INTERNALDATE', [a('INTERNALDATE')]],
  ['RFC822.SIZE', [a('RFC822.SIZE')]],
  ['ENVELOPE', [a('ENVELOPE')]],
  ['BODY', [a('BODY')]],
  ['BODYSTRUCTURE', [a('BODYSTRUCTURE')]],
  ['MODSEQ', [a('MODSEQ')]],
  ['ALL', [a('FLAGS'), a('INTERNALDATE'), a('RFC822.SIZE'), a('ENVELOPE')]],
  ['fast', [a('FLAGS'), a('INTERNALDATE'), a('RFC822.SIZE')]],
  ['FULL', [a('FLAGS'), a('INTERNALDATE'), a('RFC822.SIZE'), a('ENVELOPE'), a('BODY')]],
  ['(FLAGS UID)', [a('FLAGS'), a('UID')]],
  [
    'RFC822',
    [
      {
        kind: 'body',
        name: 'RFC822',
        peek: false,
        section: { part: [], text: null },
        responseName: 'RFC822',
      },
    ],
  ],
  [
    'RFC822.HEADER',
    [
      {
        kind: 'body',
        name: 'RFC822.HEADER',
        peek: true,
        section: { part: [], text: 'HEADER' },
        responseName: 'RFC822.HEADER',
      },
    ],
  ],
  [
    'RFC822.TEXT',
    [
      {
        kind: 'body',
        name: 'RFC822.TEXT',
        peek: false,
        section: { part: [], text: 'TEXT' },
        responseName: 'RFC822.TEXT',
      },
    ],
  ],
  [
    'BODY[]',
    [{ kind: 'body', name: 'BODY', peek: false, section: { part: [], text: null }, responseName: 'BODY[]' }],
  ],
  [
    'BODY.PEEK[]',
    [{ kind: 'body', name: 'BODY', peek: true, section: { part: [], text: null }, responseName: 'BODY[]' }],
  ],
  [
    'body.peek[header]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: true,
        section: { part: [], text: 'HEADER' },
        responseName: 'BODY[HEADER]',
      },
    ],
  ],
  [
    'BODY[TEXT]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: false,
        section: { part: [], text: 'TEXT' },
        responseName: 'BODY[TEXT]',
      },
    ],
  ],
  [
    'BODY[1]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: false,
        section: { part: [1], text: null },
        responseName: 'BODY[1]',
      },
    ],
  ],
  [
    'BODY[4.2.2.1]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: false,
        section: { part: [4, 2, 2, 1], text: null },
        responseName: 'BODY[4.2.2.1]',
      },
    ],
  ],
  [
    'BODY[1.MIME]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: false,
        section: { part: [1], text: 'MIME' },
        responseName: 'BODY[1.MIME]',
      },
    ],
  ],
  [
    'BODY[3.1.HEADER]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: false,
        section: { part: [3, 1], text: 'HEADER' },
        responseName: 'BODY[3.1.HEADER]',
      },
    ],
  ],
  [
    'BODY[2.text]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: false,
        section: { part: [2], text: 'TEXT' },
        responseName: 'BODY[2.TEXT]',
      },
    ],
  ],
  [
    'BODY.PEEK[HEADER.FIELDS (From To Message-ID)]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: true,
        section: { part: [], text: 'HEADER.FIELDS', fields: ['FROM', 'TO', 'MESSAGE-ID'] },
        responseName: 'BODY[HEADER.FIELDS (FROM TO MESSAGE-ID)]',
      },
    ],
  ],
  [
    'BODY[1.HEADER.FIELDS.NOT ("X-Spam" {4}\r\nDATE)]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: false,
        section: { part: [1], text: 'HEADER.FIELDS.NOT', fields: ['X-SPAM', 'DATE'] },
        responseName: 'BODY[1.HEADER.FIELDS.NOT (X-SPAM DATE)]',
      },
    ],
  ],
  [
    'BODY[HEADER.FIELDS ("a{b")]',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: false,
        section: { part: [], text: 'HEADER.FIELDS', fields: ['A{B'] },
        responseName: 'BODY[HEADER.FIELDS ("A{B")]',
      },
    ],
  ],
  [
    'BODY[]<0.100>',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: false,
        section: { part: [], text: null },
        partial: { offset: 0, length: 100 },
        responseName: 'BODY[]<0>',
      },
    ],
  ],
  [
    'BODY.PEEK[1.2.TEXT]<1024.4294967295>',
    [
      {
        kind: 'body',
        name: 'BODY',
        peek: true,
        section: { part: [1, 2], text: 'TEXT' },
        partial: { offset: 1024, length: 4294967295 },
        responseName: 'BODY[1.2.TEXT]<1024>',
      },
    ],
  ],
  ['BINARY[]', [{ kind: 'binary', peek: false, part: [], responseName: 'BINARY[]' }]],
  ['BINARY.PEEK[1.2]', [{ kind: 'binary', peek: true, part: [1, 2], responseName: 'BINARY[1.2]' }]],
  [
    'BINARY[3]<5.10>',
    [
      {
        kind: 'binary',
        peek: false,
        part: [3],
        partial: { offset: 5, length: 10 },
        responseName: 'BINARY[3]<5>',
      },
    ],
  ],
  ['BINARY.SIZE[1]', [{ kind: 'binary-size', part: [1], responseName: 'BINARY.SIZE[1]' }]],
  [
    '(UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (DATE FROM)] BODYSTRUCTURE)',
    [
      a('UID'),
      a('RFC822.SIZE'),
      a('FLAGS'),
      {
        kind: 'body',
        name: 'BODY',
        peek: true,
        section: { part: [], text: 'HEADER.FIELDS', fields: ['DATE', 'FROM'] },
        responseName: 'BODY[HEADER.FIELDS (DATE FROM)]',
      },
      a('BODYSTRUCTURE'),
    ],
  ],
];

describe('FETCH items', () => {
  it.each(ITEMS)('%j', (text, items) => {
    const result = parse(`a FETCH 1 ${text}`);
    expect(result).toMatchObject({ tag: 'a', name: 'FETCH', uid: false, sequence: S('1'), modifiers: {} });
    expect((result as { items: FetchItem[] }).items).toEqual(items);
  });

  it('records the macro', () => {
    expect(parse('a FETCH 1 ALL')).toMatchObject({ macro: 'ALL' });
    expect(parse('a FETCH 1 (FLAGS)')).toMatchObject({ macro: null });
  });
});

describe('FETCH modifiers and UID FETCH', () => {
  it.each([
    ['a FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)', false, { changedSince: 12345 }],
    ['a UID FETCH 1:* FLAGS (CHANGEDSINCE 0 VANISHED)', true, { changedSince: 0, vanished: true }],
    ['a UID FETCH 1:* FLAGS (vanished changedsince 7)', true, { changedSince: 7, vanished: true }],
    ['a UID FETCH 300:500 ALL', true, {}],
    ['a UID FETCH 1:* (FLAGS) (PARTIAL -1:-30)', true, { partial: { first: -1, last: -30 } }],
    [
      'a FETCH 1:* FLAGS (CHANGEDSINCE 5 partial 1:10)',
      false,
      { changedSince: 5, partial: { first: 1, last: 10 } },
    ],
  ])('%j', (input, uid, modifiers) => {
    expect(parse(input)).toMatchObject({ name: 'FETCH', uid, modifiers });
  });
});

const BAD: Array<[string, string]> = [
  ['a FETCH', 'Missing sequence set'],
  ['a FETCH 1', 'Missing fetch attributes'],
  ['a FETCH 1 ()', 'Empty fetch attribute list'],
  ['a FETCH 1 (FLAGS', 'fetch attribute list'],
  ['a FETCH 1 FLAGS UID', 'fetch modifier list'],
  ['a FETCH 1 FLAGS (PARTIAL 1:-2)', 'same sign'],
  ['a FETCH 1 FLAGS (PARTIAL)', 'PARTIAL range'],
  ['a FETCH 1 (ALL)', 'Unknown fetch attribute ALL'],
  ['a FETCH 1 FOO', 'Unknown fetch attribute FOO'],
  ['a FETCH 1 BODY.PEEK', 'BODY.PEEK needs a section'],
  ['a FETCH 1 BODY[', 'section'],
  ['a FETCH 1 BODY[HEADER', 'section'],
  ['a FETCH 1 BODY[FOO]', 'Invalid section'],
  ['a FETCH 1 BODY[MIME]', 'MIME needs a part number'],
  ['a FETCH 1 BODY[0]', 'at least 1'],
  ['a FETCH 1 BODY[1.]', 'Invalid section'],
  ['a FETCH 1 BODY[1.2.]', 'Invalid section'],
  ['a FETCH 1 BODY[HEADER.FIELDS]', 'header field list'],
  ['a FETCH 1 BODY[HEADER.FIELDS ()]', 'Empty header field list'],
  ['a FETCH 1 BODY[HEADER.FIELDS (A:B)]', 'Invalid header field name'],
  ['a FETCH 1 BODY[HEADER.FIELDS ("A B")]', 'Invalid header field name'],
  ['a FETCH 1 BODY[TEXT.FIELDS (A)]', 'Invalid section'],
  ['a FETCH 1 BODY[]<0>', 'partial'],
  ['a FETCH 1 BODY[]<0.0>', 'at least 1'],
  ['a FETCH 1 BODY[]<a.1>', 'partial offset'],
  ['a FETCH 1 BODY[]<0.1', 'partial'],
  ['a FETCH 1 BODY[]<4294967296.1>', 'out of range'],
  ['a FETCH 1 BINARY', 'needs a section'],
  ['a FETCH 1 BINARY[TEXT]', 'part number'],
  ['a FETCH 1 BINARY.SIZE', 'needs a section'],
  ['a FETCH 1 FLAGS (CHANGEDSINCE)', 'CHANGEDSINCE value'],
  ['a FETCH 1 FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)', 'twice'],
  ['a FETCH 1 FLAGS (FOO)', 'Unknown fetch modifier'],
  ['a FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)', 'VANISHED is only allowed with UID FETCH'],
  ['a UID FETCH 1 FLAGS (VANISHED)', 'VANISHED needs CHANGEDSINCE'],
  ['a FETCH 1 FLAGS ()', 'Empty fetch modifier list'],
  ['a FETCH 1 FLAGS (CHANGEDSINCE 1) x', 'extra'],
  ['a FETCH 0:5 FLAGS', 'numbers start at 1'],
  ['a FETCH 1:4294967296 FLAGS', 'out of range'],
  ['a FETCH 1,,2 FLAGS', 'sequence number'],
  ['a FETCH ,1 FLAGS', 'sequence number'],
  ['a FETCH 1:2:3 FLAGS', 'Invalid sequence set'],
  ['a FETCH 1.5 FLAGS', 'Invalid sequence set'],
];

describe('FETCH errors', () => {
  it.each(BAD)('%j', (input, message) => {
    const result = parse(input);
    expect(result).toBeInstanceOf(ParseError);
    expect(result).toMatchObject({ kind: 'syntax', tag: 'a' });
    expect((result as ParseError).message).toContain(message);
  });
});
