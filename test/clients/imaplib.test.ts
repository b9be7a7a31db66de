/**
 * Python's imaplib (the standard library client behind countless scripts and tools) against a live
 * Mallard server. A Python script does a whole session and prints what it saw as JSON; the test
 * compares that with the store, byte for byte for message bodies.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAccount } from '../helpers/mail-fixtures.ts';
import { runProcess } from '../helpers/process.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const PYTHON_OK = spawnSync('python3', ['-c', 'import imaplib']).status === 0;
if (!PYTHON_OK) console.warn('imaplib: skipped — python3 with imaplib is not installed');

let server: TestServer;

beforeAll(async () => {
  if (PYTHON_OK) server = await startTestServer();
});
afterAll(() => server?.stop());

/** The session, in Python; reads its settings as JSON on stdin, prints one JSON object. */
const SCRIPT = String.raw`
import base64, imaplib, json, re, sys, time

cfg = json.load(sys.stdin)
out = {}
def ok(result):
    typ, data = result
    if typ != 'OK':
        raise SystemExit('command failed: %r %r' % (typ, data))
    return data

def text(value):
    return value.decode('utf-8', 'replace') if isinstance(value, bytes) else value

M = imaplib.IMAP4('127.0.0.1', cfg['port'])
out['greeting'] = text(M.welcome)
out['capabilities'] = sorted(M.capabilities)
ok(M.login(cfg['user'], cfg['password']))
out['state'] = M.state
out['list'] = sorted(text(line) for line in ok(M.list()))
ok(M.create('Work'))
ok(M.create('Work/2026'))
out['list_work'] = sorted(text(line) for line in ok(M.list('""', 'Work*')))

appended = []
for item in cfg['messages']:
    raw = base64.b64decode(item['raw'])
    date = imaplib.Time2Internaldate(time.mktime(time.strptime(item['date'], '%Y-%m-%d %H:%M:%S')))
    typ, data = M.append('INBOX', item['flags'], date, raw)
    appended.append({'typ': typ, 'data': text(data[0])})
out['appended'] = appended

data = ok(M.select('INBOX'))
out['select_exists'] = text(data[0])
out['untagged_flags'] = [text(x) for x in M.untagged_responses.get('FLAGS', [])]

typ, data = M.fetch('1:*', '(UID RFC822 FLAGS RFC822.SIZE)')
fetched = []
for i, part in enumerate(data):
    if isinstance(part, tuple):
        tail = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b''
        head = text(part[0]) + ' ' + text(tail)
        uid = int(re.search(r'UID (\d+)', head).group(1))
        fetched.append({'uid': uid, 'head': head, 'raw': base64.b64encode(part[1]).decode()})
out['fetched'] = fetched
typ, data = M.uid('FETCH', '1:*', '(FLAGS)')
out['flags_after_fetch'] = [text(x) for x in data]

def search(*criteria, charset=None, literal=None):
    if literal is not None:
        M.literal = literal.encode('utf-8')
    typ, data = M.uid('SEARCH', *(['CHARSET', charset] if charset else []), *criteria)
    return [int(x) for x in text(data[0]).split()] if typ == 'OK' else typ
out['search'] = {
    'all': search('ALL'),
    'subject': search('SUBJECT', '"weekly digest"'),
    'from': search('FROM', 'alice'),
    'seen': search('SEEN'),
    'unseen': search('UNSEEN'),
    'flagged': search('FLAGGED'),
    'larger': search('LARGER', '3000'),
    'or': search('OR', 'FROM', 'alice', 'SUBJECT', 'digest'),
    'utf8_body': search('BODY', charset='UTF-8', literal='München'),
    'utf8_subject': search('SUBJECT', charset='UTF-8', literal='Grüße'),
}

ok(M.uid('STORE', '1', '+FLAGS', '(\\Flagged $Work)'))
ok(M.uid('STORE', '2', '-FLAGS', '(\\Seen)'))
typ, data = M.store('3', 'FLAGS.SILENT', '(\\Answered)')
out['silent_store'] = [text(x) for x in data if x is not None]
typ, data = M.uid('FETCH', '1:*', '(FLAGS)')
out['flags_after_store'] = [text(x) for x in data]

typ, data = M.uid('COPY', '1:2', 'Work/2026')
out['copy'] = {'typ': typ, 'copyuid': text(M.response('COPYUID')[1][0])}
typ, data = M.status('Work/2026', '(MESSAGES UIDNEXT UNSEEN)')
out['status_work'] = text(data[0])

ok(M.store('2', '+FLAGS', '(\\Deleted)'))
typ, data = M.expunge()
out['expunge'] = [text(x) for x in data if x is not None]
typ, data = M.uid('SEARCH', 'ALL')
out['after_expunge'] = [int(x) for x in text(data[0]).split()]
ok(M.close())
typ, data = M.logout()
out['logout'] = typ
print(json.dumps(out))
`;

interface SessionResult {
  greeting: string;
  capabilities: string[];
  state: string;
  list: string[];
  list_work: string[];
  appended: Array<{ typ: string; data: string }>;
  select_exists: string;
  untagged_flags: string[];
  fetched: Array<{ uid: number; head: string; raw: string }>;
  flags_after_fetch: string[];
  search: Record<string, number[] | string>;
  silent_store: string[];
  flags_after_store: string[];
  copy: { typ: string; copyuid: string };
  status_work: string;
  expunge: string[];
  after_expunge: number[];
  logout: string;
}

const MESSAGES = [
  {
    raw: Buffer.from(
      'From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: Hello\r\n' +
        'Date: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <hello@example.org>\r\n\r\nHello Bob.\r\n',
    ),
    flags: '(\\Seen)',
    date: '2025-06-02 12:00:00',
  },
  {
    raw: Buffer.from(
      'From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>\r\nTo: team@example.org\r\n' +
        'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nDate: Tue, 3 Jun 2025 10:00:00 +0000\r\n' +
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n' +
        '--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
        'Grüße aus München\r\n' +
        '--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
        '<p>Gr=C3=BC=C3=9Fe aus M=C3=BCnchen</p>\r\n--alt--\r\n',
    ),
    flags: '(\\Seen \\Flagged)',
    date: '2025-06-03 12:00:00',
  },
  {
    raw: Buffer.from(
      'From: news@example.com\r\nTo: bob@example.net\r\nSubject: Weekly digest\r\n' +
        'Date: Wed, 4 Jun 2025 10:00:00 +0000\r\n\r\n' +
        'A line of the weekly digest, long enough to be large.\r\n'.repeat(80),
    ),
    flags: '()',
    date: '2025-06-04 12:00:00',
  },
];

/** TLS both ways: implicit TLS on the TLS port, and STARTTLS on the plain one. */
const TLS_SCRIPT = String.raw`
import imaplib, json, ssl, sys
cfg = json.load(sys.stdin)
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
out = {}
S = imaplib.IMAP4_SSL('127.0.0.1', cfg['tls_port'], ssl_context=context)
out['implicit_version'] = S.sock.version()
out['implicit_login'] = S.login(cfg['user'], cfg['password'])[0]
out['implicit_select'] = S.select('INBOX', readonly=True)[0]
S.logout()
P = imaplib.IMAP4('127.0.0.1', cfg['port'])
out['starttls_offered'] = 'STARTTLS' in P.capabilities
out['starttls'] = P.starttls(ssl_context=context)[0]
out['starttls_version'] = P.sock.version()
out['starttls_capabilities'] = sorted(P.capabilities)
out['starttls_login'] = P.login(cfg['user'], cfg['password'])[0]
P.logout()
print(json.dumps(out))
`;

describe.skipIf(!PYTHON_OK)('imaplib', () => {
  it('runs a whole session: login, list, select, append, fetch, search, store, copy, expunge, logout', async () => {
    const account = await newAccount(server);
    const run = await runProcess('python3', ['-c', SCRIPT], {
      input: JSON.stringify({
        port: server.imapPort,
        user: account.username,
        password: account.password,
        messages: MESSAGES.map((m) => ({ raw: m.raw.toString('base64'), flags: m.flags, date: m.date })),
      }),
      timeoutMs: 30_000,
    });
    expect(run.stderr, 'python stderr').toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as SessionResult;
    const { store } = server.server;

    expect(result.greeting).toMatch(/^\* OK/);
    expect(result.capabilities).toEqual(expect.arrayContaining(['IMAP4REV1', 'IDLE', 'UIDPLUS', 'MOVE']));
    expect(result.state).toBe('AUTH');
    expect(result.list).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\(.*\) "\/" "?INBOX"?$/),
        expect.stringMatching(/^\(.*\\Sent.*\) "\/" "?Sent"?$/),
        expect.stringMatching(/^\(.*\\Trash.*\) "\/" "?Trash"?$/),
      ]),
    );
    expect(result.list).toHaveLength(6);
    expect(result.list_work).toEqual([
      expect.stringMatching(/^\(.*\\HasChildren.*\) "\/" "?Work"?$/),
      expect.stringMatching(/^\(.*\\HasNoChildren.*\) "\/" "?Work\/2026"?$/),
    ]);

    const inbox = (await store.getMailbox(account.userId, 'INBOX'))!;
    expect(result.appended).toEqual(
      [1, 2, 3].map((uid) => ({
        typ: 'OK',
        data: expect.stringContaining(`[APPENDUID ${inbox.uidValidity} ${uid}]`),
      })),
    );
    expect(result.select_exists).toBe('3');

    // RFC822 through imaplib gives back the appended bytes exactly; the store holds the same bytes
    // (the session expunged UID 2 at its end, so it is compared through its copy in Work/2026).
    expect(result.fetched.map((f) => f.uid)).toEqual([1, 2, 3]);
    for (const [index, fetched] of result.fetched.entries()) {
      expect(
        Buffer.from(fetched.raw, 'base64').equals(MESSAGES[index]!.raw),
        `UID ${fetched.uid} bytes`,
      ).toBe(true);
      expect(fetched.head).toContain(`RFC822.SIZE ${MESSAGES[index]!.raw.length}`);
    }
    for (const summary of await store.listMessages(inbox.id)) {
      expect((await store.readBlob(summary.blobId)).equals(MESSAGES[summary.uid - 1]!.raw)).toBe(true);
    }
    // A non-PEEK RFC822 fetch sets \Seen.
    for (const line of result.flags_after_fetch) expect(line).toMatch(/\\Seen/);

    expect(result.search).toEqual({
      all: [1, 2, 3],
      subject: [3],
      from: [1],
      seen: [1, 2, 3],
      unseen: [],
      flagged: [2],
      larger: [3],
      or: [1, 3],
      utf8_body: [2],
      utf8_subject: [2],
    });

    expect(result.silent_store).toEqual([]);
    const parseFlags = (lines: string[]) =>
      Object.fromEntries(
        lines.map((line) => {
          const uid = Number(/UID (\d+)/.exec(line)![1]);
          const flags = /FLAGS \(([^)]*)\)/.exec(line)![1]!.split(' ').filter(Boolean);
          return [uid, flags.filter((flag) => flag !== '\\Recent').sort()];
        }),
      );
    const expectedFlags = {
      1: ['$Work', '\\Flagged', '\\Seen'],
      2: ['\\Flagged'],
      3: ['\\Answered'],
    };
    expect(parseFlags(result.flags_after_store)).toEqual(expectedFlags);
    const flagsOf = async (mailboxId: string) =>
      Object.fromEntries((await store.listMessages(mailboxId)).map((m) => [m.uid, [...m.flags].sort()]));
    expect(await flagsOf(inbox.id)).toEqual({ 1: expectedFlags[1], 3: expectedFlags[3] });

    const work = (await store.getMailbox(account.userId, 'Work/2026'))!;
    expect(result.copy.typ).toBe('OK');
    expect(result.copy.copyuid).toBe(`${work.uidValidity} 1:2 1:2`);
    expect(result.status_work).toMatch(/MESSAGES 2/);
    expect(result.status_work).toMatch(/UIDNEXT 3/);
    expect(await flagsOf(work.id)).toEqual({ 1: expectedFlags[1], 2: expectedFlags[2] });
    const copied = await store.listMessages(work.id);
    expect(
      await Promise.all(copied.map(async (m) => (await store.readBlob(m.blobId)).toString('latin1'))),
    ).toEqual([MESSAGES[0]!.raw, MESSAGES[1]!.raw].map((raw) => raw.toString('latin1')));

    expect(result.expunge).toEqual(['2']);
    expect(result.after_expunge).toEqual([1, 3]);
    expect((await store.listMessages(inbox.id)).map((m) => m.uid)).toEqual([1, 3]);
    expect(result.logout).toBe('BYE');
  });

  it('logs in over implicit TLS and after STARTTLS', async () => {
    const account = await newAccount(server);
    const run = await runProcess('python3', ['-c', TLS_SCRIPT], {
      input: JSON.stringify({
        port: server.imapPort,
        tls_port: server.imapsPort,
        user: account.username,
        password: account.password,
      }),
      timeoutMs: 30_000,
    });
    expect(run.stderr, 'python stderr').toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      implicit_version: expect.stringMatching(/^TLSv1\.[23]$/),
      implicit_login: 'OK',
      implicit_select: 'OK',
      starttls_offered: true,
      starttls: 'OK',
      starttls_version: expect.stringMatching(/^TLSv1\.[23]$/),
      starttls_capabilities: expect.not.arrayContaining(['STARTTLS']),
      starttls_login: 'OK',
    });
  });
});
