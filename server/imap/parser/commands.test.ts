import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands.ts';
import { ParseError } from './errors.ts';
import { S, parse } from './test-helpers.ts';

const noSelect = { subscribed: false, remote: false, recursiveMatch: false, specialUse: false };
const noReturn = { subscribed: false, children: false, specialUse: false, myRights: false, status: null };

/** input → expected command. Inputs are framed (literals allowed; CRLF appended). */
const VALID: Array<[string, unknown]> = [
  // no-argument commands, any case
  ['a1 CAPABILITY', { tag: 'a1', name: 'CAPABILITY' }],
  ['a1 capability', { tag: 'a1', name: 'CAPABILITY' }],
  ['A001 NOOP', { tag: 'A001', name: 'NOOP' }],
  ['x LOGOUT', { tag: 'x', name: 'LOGOUT' }],
  ['x StartTLS', { tag: 'x', name: 'STARTTLS' }],
  ['x CHECK', { tag: 'x', name: 'CHECK' }],
  ['x CLOSE', { tag: 'x', name: 'CLOSE' }],
  ['x UNSELECT', { tag: 'x', name: 'UNSELECT' }],
  ['x IDLE', { tag: 'x', name: 'IDLE' }],
  ['x NAMESPACE', { tag: 'x', name: 'NAMESPACE' }],
  ['x EXPUNGE', { tag: 'x', name: 'EXPUNGE', uid: false, sequence: null }],
  // unusual but valid tags
  ['a.b-c]d NOOP', { tag: 'a.b-c]d', name: 'NOOP' }],
  ['1 NOOP', { tag: '1', name: 'NOOP' }],
  // AUTHENTICATE
  ['a AUTHENTICATE PLAIN', { tag: 'a', name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: null }],
  [
    'a authenticate xoauth2 dXNlcj0=',
    { tag: 'a', name: 'AUTHENTICATE', mechanism: 'XOAUTH2', initialResponse: 'dXNlcj0=' },
  ],
  [
    'a AUTHENTICATE PLAIN AHVzZXIAcGFzcw==',
    { tag: 'a', name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: 'AHVzZXIAcGFzcw==' },
  ],
  [
    'a AUTHENTICATE EXTERNAL =',
    { tag: 'a', name: 'AUTHENTICATE', mechanism: 'EXTERNAL', initialResponse: '' },
  ],
  // LOGIN
  ['a LOGIN alice secret', { tag: 'a', name: 'LOGIN', username: 'alice', password: 'secret' }],
  [
    'a LOGIN "alice@example.org" "p a\\"s\\\\s"',
    { tag: 'a', name: 'LOGIN', username: 'alice@example.org', password: 'p a"s\\s' },
  ],
  [
    'a LOGIN {5}\r\nalice {6+}\r\n{}"\r\n ',
    { tag: 'a', name: 'LOGIN', username: 'alice', password: '{}"\r\n ' },
  ],
  ['a LOGIN "" ""', { tag: 'a', name: 'LOGIN', username: '', password: '' }],
  ['a LOGIN "jörg" "pässword"', { tag: 'a', name: 'LOGIN', username: 'jörg', password: 'pässword' }],
  ['a LOGIN user pass]word', { tag: 'a', name: 'LOGIN', username: 'user', password: 'pass]word' }],
  // SELECT / EXAMINE
  ['a SELECT INBOX', { tag: 'a', name: 'SELECT', mailbox: 'INBOX', condstore: false, qresync: null }],
  ['a select inbox', { tag: 'a', name: 'SELECT', mailbox: 'INBOX', condstore: false, qresync: null }],
  ['a SELECT "Inbox"', { tag: 'a', name: 'SELECT', mailbox: 'INBOX', condstore: false, qresync: null }],
  ['a SELECT Inbox/Sub', { tag: 'a', name: 'SELECT', mailbox: 'Inbox/Sub', condstore: false, qresync: null }],
  [
    'a EXAMINE "Sent Items"',
    { tag: 'a', name: 'EXAMINE', mailbox: 'Sent Items', condstore: false, qresync: null },
  ],
  ['a SELECT &AOQ-pfel', { tag: 'a', name: 'SELECT', mailbox: '&AOQ-pfel', condstore: false, qresync: null }],
  [
    'a SELECT INBOX (CONDSTORE)',
    { tag: 'a', name: 'SELECT', mailbox: 'INBOX', condstore: true, qresync: null },
  ],
  [
    'a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))',
    {
      tag: 'a',
      name: 'SELECT',
      mailbox: 'INBOX',
      condstore: false,
      qresync: {
        uidValidity: 67890007,
        modSeq: Number.MAX_SAFE_INTEGER,
        knownUids: S('41,43:211,214:541'),
        seqMatch: null,
      },
    },
  ],
  [
    'a EXAMINE INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:20,22 500:509,512)))',
    {
      tag: 'a',
      name: 'EXAMINE',
      mailbox: 'INBOX',
      condstore: false,
      qresync: {
        uidValidity: 67890007,
        modSeq: Number.MAX_SAFE_INTEGER, // 90060115194045000 clamped (see types.ts)
        knownUids: S('41:211,214:541'),
        seqMatch: { sequences: S('1:20,22'), uids: S('500:509,512') },
      },
    },
  ],
  [
    'a SELECT INBOX (QRESYNC (1 2 (3 4)) CONDSTORE)',
    {
      tag: 'a',
      name: 'SELECT',
      mailbox: 'INBOX',
      condstore: true,
      qresync: { uidValidity: 1, modSeq: 2, knownUids: null, seqMatch: { sequences: S('3'), uids: S('4') } },
    },
  ],
  [
    'a SELECT INBOX (QRESYNC (1 2))',
    {
      tag: 'a',
      name: 'SELECT',
      mailbox: 'INBOX',
      condstore: false,
      qresync: { uidValidity: 1, modSeq: 2, knownUids: null, seqMatch: null },
    },
  ],
  // CREATE / DELETE / RENAME / SUBSCRIBE / UNSUBSCRIBE
  ['a CREATE Work/Projects', { tag: 'a', name: 'CREATE', mailbox: 'Work/Projects', specialUse: [] }],
  [
    'a CREATE "My Drafts" (USE (\\Drafts))',
    { tag: 'a', name: 'CREATE', mailbox: 'My Drafts', specialUse: ['\\Drafts'] },
  ],
  ['a DELETE "Old"', { tag: 'a', name: 'DELETE', mailbox: 'Old' }],
  ['a RENAME a b', { tag: 'a', name: 'RENAME', from: 'a', to: 'b' }],
  ['a RENAME "Old Name" {8}\r\nNew Name', { tag: 'a', name: 'RENAME', from: 'Old Name', to: 'New Name' }],
  ['a SUBSCRIBE news', { tag: 'a', name: 'SUBSCRIBE', mailbox: 'news' }],
  ['a UNSUBSCRIBE "news"', { tag: 'a', name: 'UNSUBSCRIBE', mailbox: 'news' }],
  // LIST
  [
    'a LIST "" *',
    {
      tag: 'a',
      name: 'LIST',
      reference: '',
      patterns: ['*'],
      selectOptions: noSelect,
      returnOptions: noReturn,
      extended: false,
    },
  ],
  [
    'a LIST "" ""',
    {
      tag: 'a',
      name: 'LIST',
      reference: '',
      patterns: [''],
      selectOptions: noSelect,
      returnOptions: noReturn,
      extended: false,
    },
  ],
  [
    'a LIST ~/Mail/ %',
    {
      tag: 'a',
      name: 'LIST',
      reference: '~/Mail/',
      patterns: ['%'],
      selectOptions: noSelect,
      returnOptions: noReturn,
      extended: false,
    },
  ],
  [
    'a LIST "" INBOX/%/x]',
    {
      tag: 'a',
      name: 'LIST',
      reference: '',
      patterns: ['INBOX/%/x]'],
      selectOptions: noSelect,
      returnOptions: noReturn,
      extended: false,
    },
  ],
  [
    'a LIST (SUBSCRIBED RECURSIVEMATCH) "" (% "Other Users/*")',
    {
      tag: 'a',
      name: 'LIST',
      reference: '',
      patterns: ['%', 'Other Users/*'],
      selectOptions: { ...noSelect, subscribed: true, recursiveMatch: true },
      returnOptions: noReturn,
      extended: true,
    },
  ],
  [
    'a LIST (SPECIAL-USE) "" * RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN HIGHESTMODSEQ) CHILDREN SUBSCRIBED)',
    {
      tag: 'a',
      name: 'LIST',
      reference: '',
      patterns: ['*'],
      selectOptions: { ...noSelect, specialUse: true },
      returnOptions: {
        subscribed: true,
        children: true,
        specialUse: true,
        myRights: false,
        status: ['MESSAGES', 'UNSEEN', 'HIGHESTMODSEQ'],
      },
      extended: true,
    },
  ],
  [
    'a LIST () "" % RETURN ()',
    {
      tag: 'a',
      name: 'LIST',
      reference: '',
      patterns: ['%'],
      selectOptions: noSelect,
      returnOptions: noReturn,
      extended: true,
    },
  ],
  [
    'a LIST (REMOTE) "" %',
    {
      tag: 'a',
      name: 'LIST',
      reference: '',
      patterns: ['%'],
      selectOptions: { ...noSelect, remote: true },
      returnOptions: noReturn,
      extended: true,
    },
  ],
  ['a LSUB "" %', { tag: 'a', name: 'LSUB', reference: '', pattern: '%' }],
  ['a LSUB "#news." "comp.mail.*"', { tag: 'a', name: 'LSUB', reference: '#news.', pattern: 'comp.mail.*' }],
  ['a XLIST "" *', { tag: 'a', name: 'XLIST', reference: '', pattern: '*' }],
  // STATUS
  [
    'a STATUS INBOX (MESSAGES UIDNEXT)',
    { tag: 'a', name: 'STATUS', mailbox: 'INBOX', items: ['MESSAGES', 'UIDNEXT'] },
  ],
  [
    'a STATUS "blurdybloop" (messages recent uidnext uidvalidity unseen highestmodseq size deleted appendlimit mailboxid)',
    {
      tag: 'a',
      name: 'STATUS',
      mailbox: 'blurdybloop',
      items: [
        'MESSAGES',
        'RECENT',
        'UIDNEXT',
        'UIDVALIDITY',
        'UNSEEN',
        'HIGHESTMODSEQ',
        'SIZE',
        'DELETED',
        'APPENDLIMIT',
        'MAILBOXID',
      ],
    },
  ],
  // EXPUNGE / UID EXPUNGE
  ['a UID EXPUNGE 3000:3002', { tag: 'a', name: 'EXPUNGE', uid: true, sequence: S('3000:3002') }],
  // COPY / MOVE
  ['a COPY 2:4 MEETING', { tag: 'a', name: 'COPY', uid: false, sequence: S('2:4'), mailbox: 'MEETING' }],
  [
    'a UID COPY 1,3:* "Saved Items"',
    { tag: 'a', name: 'COPY', uid: true, sequence: S('1,3:*'), mailbox: 'Saved Items' },
  ],
  ['a MOVE 1 inbox', { tag: 'a', name: 'MOVE', uid: false, sequence: S('1'), mailbox: 'INBOX' }],
  ['a uid move 42 Trash', { tag: 'a', name: 'MOVE', uid: true, sequence: S('42'), mailbox: 'Trash' }],
  ['a COPY $ Archive', { tag: 'a', name: 'COPY', uid: false, sequence: S('$'), mailbox: 'Archive' }],
  // STORE
  [
    'a STORE 2:4 +FLAGS (\\Deleted)',
    {
      tag: 'a',
      name: 'STORE',
      uid: false,
      sequence: S('2:4'),
      operation: 'add',
      silent: false,
      flags: ['\\Deleted'],
      unchangedSince: null,
    },
  ],
  [
    'a STORE 1 FLAGS.SILENT (\\seen \\ANSWERED $Label1 NonJunk)',
    {
      tag: 'a',
      name: 'STORE',
      uid: false,
      sequence: S('1'),
      operation: 'set',
      silent: true,
      flags: ['\\Seen', '\\Answered', '$Label1', 'NonJunk'],
      unchangedSince: null,
    },
  ],
  [
    'a UID STORE 1:* -flags \\Seen \\Flagged',
    {
      tag: 'a',
      name: 'STORE',
      uid: true,
      sequence: S('1:*'),
      operation: 'remove',
      silent: false,
      flags: ['\\Seen', '\\Flagged'],
      unchangedSince: null,
    },
  ],
  [
    'a STORE 1 FLAGS ()',
    {
      tag: 'a',
      name: 'STORE',
      uid: false,
      sequence: S('1'),
      operation: 'set',
      silent: false,
      flags: [],
      unchangedSince: null,
    },
  ],
  [
    'a STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)',
    {
      tag: 'a',
      name: 'STORE',
      uid: false,
      sequence: S('7,5,9'),
      operation: 'add',
      silent: true,
      flags: ['\\Deleted'],
      unchangedSince: 320162338,
    },
  ],
  [
    'a STORE 1 (UNCHANGEDSINCE 9223372036854775807) FLAGS (x)',
    {
      tag: 'a',
      name: 'STORE',
      uid: false,
      sequence: S('1'),
      operation: 'set',
      silent: false,
      flags: ['x'],
      unchangedSince: Number.MAX_SAFE_INTEGER,
    },
  ],
  [
    'a UID STORE 1 (UNCHANGEDSINCE 0) FLAGS (x)',
    {
      tag: 'a',
      name: 'STORE',
      uid: true,
      sequence: S('1'),
      operation: 'set',
      silent: false,
      flags: ['x'],
      unchangedSince: 0,
    },
  ],
  // ID
  ['a ID NIL', { tag: 'a', name: 'ID', params: null }],
  ['a ID ()', { tag: 'a', name: 'ID', params: [] }],
  [
    'a ID ("name" "sodr" "version" "19.34" "vendor" NIL)',
    {
      tag: 'a',
      name: 'ID',
      params: [
        ['name', 'sodr'],
        ['version', '19.34'],
        ['vendor', null],
      ],
    },
  ],
  ['a ID ("__proto__" "x")', { tag: 'a', name: 'ID', params: [['__proto__', 'x']] }],
  // ENABLE
  ['a ENABLE CONDSTORE', { tag: 'a', name: 'ENABLE', capabilities: ['CONDSTORE'] }],
  [
    'a ENABLE qresync utf8=accept X-FOO',
    { tag: 'a', name: 'ENABLE', capabilities: ['QRESYNC', 'UTF8=ACCEPT', 'X-FOO'] },
  ],
  // QUOTA
  ['a GETQUOTA ""', { tag: 'a', name: 'GETQUOTA', root: '' }],
  ['a GETQUOTAROOT INBOX', { tag: 'a', name: 'GETQUOTAROOT', mailbox: 'INBOX' }],
  [
    'a SETQUOTA "" (STORAGE 512)',
    { tag: 'a', name: 'SETQUOTA', root: '', limits: [{ resource: 'STORAGE', limit: 512 }] },
  ],
  [
    'a SETQUOTA "#user/a" (storage 1 MESSAGE 2)',
    {
      tag: 'a',
      name: 'SETQUOTA',
      root: '#user/a',
      limits: [
        { resource: 'STORAGE', limit: 1 },
        { resource: 'MESSAGE', limit: 2 },
      ],
    },
  ],
  ['a SETQUOTA x ()', { tag: 'a', name: 'SETQUOTA', root: 'x', limits: [] }],
  // COMPRESS
  ['a COMPRESS DEFLATE', { tag: 'a', name: 'COMPRESS', mechanism: 'DEFLATE' }],
  ['a compress deflate', { tag: 'a', name: 'COMPRESS', mechanism: 'DEFLATE' }],
  // METADATA (RFC 5464): options before the mailbox (the grammar) or after it (the examples)
  [
    'a GETMETADATA "" /shared/comment',
    { tag: 'a', name: 'GETMETADATA', mailbox: '', entries: ['/shared/comment'], maxSize: null, depth: 0 },
  ],
  [
    'a GETMETADATA (MAXSIZE 1024 DEPTH infinity) inbox (/shared/comment "/private/comment")',
    {
      tag: 'a',
      name: 'GETMETADATA',
      mailbox: 'INBOX',
      entries: ['/shared/comment', '/private/comment'],
      maxSize: 1024,
      depth: 'infinity',
    },
  ],
  [
    'a GETMETADATA INBOX (depth 1) (/private/filters/values)',
    {
      tag: 'a',
      name: 'GETMETADATA',
      mailbox: 'INBOX',
      entries: ['/private/filters/values'],
      maxSize: null,
      depth: 1,
    },
  ],
  [
    'a SETMETADATA INBOX (/private/comment "My comment" /shared/comment NIL)',
    {
      tag: 'a',
      name: 'SETMETADATA',
      mailbox: 'INBOX',
      values: [
        { entry: '/private/comment', value: Buffer.from('My comment') },
        { entry: '/shared/comment', value: null },
      ],
    },
  ],
];

describe('parseCommand: valid commands', () => {
  it.each(VALID)('%j', (input, expected) => {
    expect(parse(input)).toEqual(expected);
  });
});

describe('APPEND', () => {
  const cases: Array<[string, unknown]> = [
    [
      'a APPEND saved-messages (\\Seen) {7}\r\nHi\r\nYou',
      {
        tag: 'a',
        name: 'APPEND',
        mailbox: 'saved-messages',
        messages: [
          {
            flags: ['\\Seen'],
            internalDate: null,
            data: Buffer.from('Hi\r\nYou'),
            binary: false,
            utf8: false,
          },
        ],
      },
    ],
    [
      'a APPEND INBOX {3+}\r\nabc',
      {
        tag: 'a',
        name: 'APPEND',
        mailbox: 'INBOX',
        messages: [{ flags: [], internalDate: null, data: Buffer.from('abc'), binary: false, utf8: false }],
      },
    ],
    [
      'a APPEND inbox () "17-Jul-1996 02:44:25 -0700" {1}\r\nx',
      {
        tag: 'a',
        name: 'APPEND',
        mailbox: 'INBOX',
        messages: [
          {
            flags: [],
            internalDate: new Date('1996-07-17T09:44:25Z'),
            data: Buffer.from('x'),
            binary: false,
            utf8: false,
          },
        ],
      },
    ],
    [
      'a APPEND Drafts " 5-Jan-2024 23:59:59 +0130" {1}\r\nx',
      {
        tag: 'a',
        name: 'APPEND',
        mailbox: 'Drafts',
        messages: [
          {
            flags: [],
            internalDate: new Date('2024-01-05T22:29:59Z'),
            data: Buffer.from('x'),
            binary: false,
            utf8: false,
          },
        ],
      },
    ],
    [
      'a APPEND INBOX ~{3}\r\na\0b',
      {
        tag: 'a',
        name: 'APPEND',
        mailbox: 'INBOX',
        messages: [{ flags: [], internalDate: null, data: Buffer.from('a\0b'), binary: true, utf8: false }],
      },
    ],
    [
      'a APPEND INBOX UTF8 (~{2+}\r\nhi)',
      {
        tag: 'a',
        name: 'APPEND',
        mailbox: 'INBOX',
        messages: [{ flags: [], internalDate: null, data: Buffer.from('hi'), binary: true, utf8: true }],
      },
    ],
    [
      // MULTIAPPEND (RFC 3502)
      'a APPEND Drafts (\\Draft $MDNSent) {2}\r\nm1 {2}\r\nm2 (\\Seen) "1-Feb-2000 00:00:00 +0000" {2+}\r\nm3',
      {
        tag: 'a',
        name: 'APPEND',
        mailbox: 'Drafts',
        messages: [
          {
            flags: ['\\Draft', '$MDNSent'],
            internalDate: null,
            data: Buffer.from('m1'),
            binary: false,
            utf8: false,
          },
          { flags: [], internalDate: null, data: Buffer.from('m2'), binary: false, utf8: false },
          {
            flags: ['\\Seen'],
            internalDate: new Date('2000-02-01T00:00:00Z'),
            data: Buffer.from('m3'),
            binary: false,
            utf8: false,
          },
        ],
      },
    ],
    [
      'a APPEND {5}\r\nSent  {0}\r\n',
      {
        tag: 'a',
        name: 'APPEND',
        mailbox: 'Sent ',
        messages: [{ flags: [], internalDate: null, data: Buffer.alloc(0), binary: false, utf8: false }],
      },
    ],
  ];
  it.each(cases)('%j', (input, expected) => {
    expect(parse(input)).toEqual(expected);
  });

  it('keeps the message bytes exactly, including 8-bit and CRLF', () => {
    const body = Buffer.from([0x46, 0x72, 0x6f, 0x6d, 0x3a, 0x20, 0xe4, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0x80]);
    const input = Buffer.concat([
      Buffer.from(`a APPEND INBOX {${String(body.length)}}\r\n`),
      body,
      Buffer.from('\r\n'),
    ]);
    const result = parse(input);
    expect(result).not.toBeInstanceOf(ParseError);
    if (result instanceof ParseError || result.name !== 'APPEND') return;
    expect(result.messages[0]!.data.equals(body)).toBe(true);
  });
});

describe('CATENATE (RFC 4469) and URLAUTH (RFC 4467)', () => {
  const cases: Array<[string, unknown]> = [
    [
      'a APPEND Drafts (\\Seen) CATENATE (URL "/Drafts;UIDVALIDITY=3/;UID=20/;section=HEADER" TEXT {2+}\r\nhi url ;UID=1 TEXT ~{1}\r\n\0)',
      {
        tag: 'a',
        name: 'APPEND',
        mailbox: 'Drafts',
        messages: [
          {
            flags: ['\\Seen'],
            internalDate: null,
            data: Buffer.alloc(0),
            binary: false,
            utf8: false,
            catenate: [
              { kind: 'url', url: '/Drafts;UIDVALIDITY=3/;UID=20/;section=HEADER' },
              { kind: 'text', data: Buffer.from('hi'), binary: false },
              { kind: 'url', url: ';UID=1' },
              { kind: 'text', data: Buffer.from([0]), binary: true },
            ],
          },
        ],
      },
    ],
    [
      'g GENURLAUTH "imap://joe@example.com/INBOX/;uid=20;urlauth=anonymous" internal "imap://joe@example.com/INBOX/;uid=21;urlauth=authuser" INTERNAL',
      {
        tag: 'g',
        name: 'GENURLAUTH',
        urls: [
          { url: 'imap://joe@example.com/INBOX/;uid=20;urlauth=anonymous', mechanism: 'INTERNAL' },
          { url: 'imap://joe@example.com/INBOX/;uid=21;urlauth=authuser', mechanism: 'INTERNAL' },
        ],
      },
    ],
    ['r RESETKEY', { tag: 'r', name: 'RESETKEY', mailbox: null, mechanisms: [] }],
    [
      'r RESETKEY inbox INTERNAL x-other',
      { tag: 'r', name: 'RESETKEY', mailbox: 'INBOX', mechanisms: ['INTERNAL', 'X-OTHER'] },
    ],
    [
      'u URLFETCH "a" b',
      {
        tag: 'u',
        name: 'URLFETCH',
        urls: [
          { url: 'a', want: null },
          { url: 'b', want: null },
        ],
      },
    ],
    [
      'u URLFETCH ("a" bodypartstructure BINARY) (b) c',
      {
        tag: 'u',
        name: 'URLFETCH',
        urls: [
          { url: 'a', want: { body: false, binary: true, bodyPartStructure: true } },
          { url: 'b', want: { body: true, binary: false, bodyPartStructure: false } },
          { url: 'c', want: null },
        ],
      },
    ],
  ];
  it.each(cases)('%j', (input, expected) => {
    expect(parse(input)).toEqual(expected);
  });

  it.each([
    'a APPEND INBOX CATENATE ()',
    'a APPEND INBOX CATENATE (URL)',
    'a APPEND INBOX CATENATE (TEXT "x")',
    'a APPEND INBOX CATENATE (URL "x"',
    'a APPEND INBOX CATENATE URL "x"',
    'g GENURLAUTH',
    'g GENURLAUTH "url"',
    'g GENURLAUTH "url" (INTERNAL)',
    'r RESETKEY INBOX "INTERNAL"',
    'u URLFETCH',
    'u URLFETCH ("a" BODY BINARY)',
    'u URLFETCH ("a" BINARY BINARY)',
    'u URLFETCH ("a" HEADER)',
    'u URLFETCH ("a" BINARY',
    'u URLFETCH ("a"BINARY)',
    'u URLFETCH ()',
  ])('refuses %j', (input) => {
    expect(parse(input)).toMatchObject({ kind: 'syntax' });
  });
});

/** input → [kind, tag, message substring] */
const INVALID: Array<[string, ParseError['kind'], string | null, string]> = [
  ['', 'empty', null, 'Empty'],
  ['a', 'syntax', 'a', 'Missing command'],
  ['a ', 'syntax', 'a', 'Missing command name'],
  ['a  NOOP', 'syntax', 'a', 'command name'],
  ['+a NOOP', 'syntax', null, 'tag'],
  ['* NOOP', 'syntax', null, 'tag'],
  ['(a NOOP', 'syntax', null, 'tag'],
  ['a(b NOOP', 'syntax', null, 'space after the tag'],
  ['a FROBNICATE', 'unknown-command', 'a', 'Unknown command FROBNICATE'],
  ['a XSORT (DATE) UTF-8 ALL', 'unknown-command', 'a', 'Unknown command XSORT'],
  ['a UID', 'syntax', 'a', 'Missing UID command'],
  ['a UID XTHREAD REFS UTF-8 ALL', 'unknown-command', 'a', 'UID XTHREAD'],
  ['a UID LOGIN x y', 'unknown-command', 'a', 'UID LOGIN'],
  ['a NOOP extra', 'syntax', 'a', 'extra arguments'],
  ['a NOOP ', 'syntax', 'a', 'extra arguments'],
  ['a CAPABILITY(', 'syntax', 'a', 'space after the command name'],
  ['a CAPABILITY x', 'syntax', 'a', 'extra arguments'],
  ['a LOGIN alice', 'syntax', 'a', 'Missing password'],
  ['a LOGIN alice pass extra', 'syntax', 'a', 'extra'],
  ['a LOGIN "alice pass', 'syntax', 'a', 'Unterminated quoted string'],
  ['a LOGIN "a\\b" x', 'syntax', 'a', 'Invalid escape'],
  ['a LOGIN (x) y', 'syntax', 'a', 'user name'],
  ['a AUTHENTICATE', 'syntax', 'a', 'Missing authentication mechanism'],
  ['a AUTHENTICATE PLAIN abc!', 'syntax', 'a', 'base64'],
  ['a AUTHENTICATE PLAIN abc', 'syntax', 'a', 'base64'],
  ['a SELECT', 'syntax', 'a', 'Missing mailbox name'],
  ['a SELECT INBOX (FOO)', 'syntax', 'a', 'Unknown SELECT parameter FOO'],
  ['a SELECT INBOX ()', 'syntax', 'a', 'Empty select parameters'],
  ['a SELECT INBOX (CONDSTORE CONDSTORE)', 'syntax', 'a', 'twice'],
  ['a SELECT INBOX (QRESYNC (0 1))', 'syntax', 'a', 'UIDVALIDITY must be at least 1'],
  ['a SELECT INBOX (QRESYNC (1))', 'syntax', 'a', 'MODSEQ'],
  ['a SELECT INBOX (QRESYNC (1 9223372036854775808))', 'syntax', 'a', 'MODSEQ out of range'],
  ['a SELECT INBOX (QRESYNC (1 2 $))', 'syntax', 'a', '$'],
  ['a CREATE x (USE (Drafts))', 'syntax', 'a', 'Special-use'],
  ['a CREATE x (FOO)', 'syntax', 'a', 'Unknown CREATE parameter'],
  ['a RENAME x', 'syntax', 'a', 'Missing new mailbox name'],
  ['a LIST ""', 'syntax', 'a', 'Missing mailbox pattern'],
  ['a LIST (FOO) "" *', 'syntax', 'a', 'Unknown LIST selection option FOO'],
  ['a LIST (RECURSIVEMATCH) "" *', 'syntax', 'a', 'RECURSIVEMATCH'],
  ['a LIST "" * RETURN (FOO)', 'syntax', 'a', 'Unknown LIST return option'],
  ['a LIST "" * FOO', 'syntax', 'a', 'RETURN'],
  ['a LIST "" ()', 'syntax', 'a', 'Empty mailbox pattern list'],
  ['a LSUB "" % x', 'syntax', 'a', 'extra'],
  ['a STATUS INBOX', 'syntax', 'a', 'Missing status item list'],
  ['a STATUS INBOX ()', 'syntax', 'a', 'Empty status item list'],
  ['a STATUS INBOX (MESSAGES BOGUS)', 'syntax', 'a', 'Unknown status item BOGUS'],
  ['a STATUS INBOX MESSAGES', 'syntax', 'a', 'status item list'],
  ['a APPEND INBOX', 'syntax', 'a', 'Missing message'],
  ['a APPEND INBOX "hello"', 'syntax', 'a', 'date-time'],
  ['a APPEND INBOX (\\Seen) "32-Jan-2000 00:00:00 +0000" {1}\r\nx', 'syntax', 'a', 'date-time'],
  ['a APPEND INBOX "1-Jan-2000 25:00:00 +0000" {1}\r\nx', 'syntax', 'a', 'date-time'],
  ['a APPEND INBOX "1-Foo-2000 00:00:00 +0000" {1}\r\nx', 'syntax', 'a', 'date-time'],
  ['a APPEND INBOX "1-Jan-2000 00:00:00" {1}\r\nx', 'syntax', 'a', 'date-time'],
  ['a APPEND INBOX (\\Seen)', 'syntax', 'a', 'Missing message literal'],
  ['a APPEND INBOX (\\*) {1}\r\nx', 'syntax', 'a', '\\*'],
  ['a APPEND INBOX {1}\r\nx extra', 'syntax', 'a', 'message literal'],
  ['a EXPUNGE 1', 'syntax', 'a', 'extra'],
  ['a UID EXPUNGE', 'syntax', 'a', 'Missing UID set'],
  ['a COPY 1', 'syntax', 'a', 'Missing mailbox name'],
  ['a COPY x y', 'syntax', 'a', 'sequence number'],
  ['a MOVE 1:2: x', 'syntax', 'a', 'Invalid sequence set'],
  ['a MOVE 1:2,x x', 'syntax', 'a', 'sequence number'],
  ['a STORE 1 FLAGS', 'syntax', 'a', 'Missing flags'],
  ['a STORE 1 +FLAGZ (x)', 'syntax', 'a', 'Unknown store item'],
  ['a STORE 1 (UNCHANGEDSINCE) FLAGS (x)', 'syntax', 'a', 'UNCHANGEDSINCE value'],
  ['a STORE 1 (FOO 1) FLAGS (x)', 'syntax', 'a', 'Unknown STORE modifier'],
  ['a STORE 1 FLAGS (\\Seen', 'syntax', 'a', 'flag'],
  ['a STORE 1 FLAGS (\\*)', 'syntax', 'a', '\\*'],
  ['a STORE 1 FLAGS (a"b)', 'syntax', 'a', 'space'],
  ['a ID', 'syntax', 'a', 'Missing ID parameters'],
  ['a ID ("a")', 'syntax', 'a', 'ID field value'],
  ['a ID (a b)', 'syntax', 'a', 'ID field name'],
  [
    `a ID (${Array.from({ length: 31 }, (_, i) => `"k${String(i)}" "v"`).join(' ')})`,
    'syntax',
    'a',
    'Too many ID fields',
  ],
  ['a ENABLE', 'syntax', 'a', 'Missing capability'],
  ['a GETQUOTA', 'syntax', 'a', 'Missing quota root'],
  ['a SETQUOTA x (STORAGE)', 'syntax', 'a', 'quota limit'],
  ['a SETQUOTA x (STORAGE -1)', 'syntax', 'a', 'quota limit'],
  ['a COMPRESS', 'syntax', 'a', 'Missing compression mechanism'],
  ['a GETMETADATA INBOX', 'syntax', 'a', 'Missing entry names'],
  ['a GETMETADATA (DEPTH 2) INBOX /private/a', 'syntax', 'a', 'DEPTH must be 0, 1 or infinity'],
  ['a GETMETADATA (MAXSIZE 1 MAXSIZE 2) INBOX /private/a', 'syntax', 'a', 'MAXSIZE given twice'],
  ['a GETMETADATA (SIZE 1) INBOX /private/a', 'syntax', 'a', 'Unknown GETMETADATA option SIZE'],
  ['a SETMETADATA INBOX ()', 'syntax', 'a', 'Empty entry values'],
  ['a SETMETADATA INBOX (/private/a)', 'syntax', 'a', 'Expected a space before entry value'],
];

describe('parseCommand: invalid commands', () => {
  it.each(INVALID)('%j', (input, kind, tag, message) => {
    const result = parse(input);
    expect(result).toBeInstanceOf(ParseError);
    const error = result as ParseError;
    expect(error.kind).toBe(kind);
    expect(error.tag).toBe(tag);
    expect(error.message).toContain(message);
    expect(error.message).toMatch(/^[\x20-\x7e]+$/);
  });

  it('names the command in errors once it is read', () => {
    expect(parse('a uid fetch x FLAGS')).toMatchObject({ command: 'UID FETCH', tag: 'a' });
    expect(parse('a login')).toMatchObject({ command: 'LOGIN', tag: 'a' });
  });
});

describe('parseCommand input forms', () => {
  it('accepts a plain string or Buffer line (no literals)', () => {
    expect(parseCommand('a NOOP')).toEqual({ tag: 'a', name: 'NOOP' });
    expect(parseCommand(Buffer.from('a NOOP'))).toEqual({ tag: 'a', name: 'NOOP' });
  });

  it('rejects a literal marker that is not followed by a literal', () => {
    expect(parseCommand('a LOGIN {3}')).toMatchObject({
      kind: 'syntax',
      message: expect.stringContaining('literal'),
    });
    expect(parseCommand('a LOGIN {3} x')).toMatchObject({ kind: 'syntax' });
  });

  it('rejects a literal size mismatch in a hand-made framed command', () => {
    const framed = {
      segments: [Buffer.from('a LOGIN {3}'), Buffer.from(' x')],
      literals: [{ data: Buffer.from('ab'), binary: false, nonSync: false }],
      size: 0,
    };
    expect(parseCommand(framed)).toMatchObject({ kind: 'syntax', message: 'Literal size mismatch' });
  });

  it('rejects literal8 outside APPEND', () => {
    expect(parse('a LOGIN ~{1}\r\nx y')).toMatchObject({
      kind: 'syntax',
      message: expect.stringContaining('literal8'),
    });
  });
});
