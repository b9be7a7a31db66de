/**
 * CATENATE (RFC 4469) on both store engines: the capability; RFC 4469 3's example (a draft made
 * from the header and first part of an earlier draft, a forwarded message and new MIME boundaries,
 * sent with synchronising literals); the URL forms (absolute imap://, absolute path, relative to the
 * selected mailbox, with and without UIDVALIDITY, sections, PARTIAL); `NO [BADURL url]` for each
 * kind of bad URL with nothing stored; `[TOOBIG]`; NUL only in a literal8 TEXT part; MULTIAPPEND
 * storing nothing when one message's URL is bad; REPLACE with CATENATE.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Mailbox } from '../../server/store/types.ts';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

const LIMIT = 20_000;
const BOUNDARY = '------------030308070208000400050907';

/** A two-part draft like the one RFC 4469's example starts from. */
const DRAFT = Buffer.from(
  [
    'From: Fred Foobar <foobar@example.com>',
    'To: mooch@example.net',
    'Subject: afternoon meeting',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${BOUNDARY.slice(2)}"`,
    '',
    `--${BOUNDARY.slice(2)}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Hello Joe, do you think we can meet at 3:30 tomorrow?',
    `--${BOUNDARY.slice(2)}`,
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    'AAECAwQ=',
    `--${BOUNDARY.slice(2)}--`,
    '',
  ].join('\r\n'),
);
const FORWARDED = Buffer.from('From: joe@example.net\r\nSubject: agenda\r\n\r\nThe agenda.\r\n');

/** The section bytes of DRAFT the RFC's example picks. */
const DRAFT_HEADER = DRAFT.subarray(0, DRAFT.indexOf('\r\n\r\n') + 4);
const PART1_MIME = Buffer.from('Content-Type: text/plain; charset=us-ascii\r\n\r\n');
const PART1 = Buffer.from('Hello Joe, do you think we can meet at 3:30 tomorrow?');

async function tagged(client: LineClient, tag: string): Promise<string> {
  return client.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`));
}

/** `tag APPEND mailbox args CATENATE (parts)` with every TEXT part a non-synchronising literal. */
function catenate(tag: string, head: string, parts: Array<string | Buffer>): Buffer {
  const chunks: Buffer[] = [Buffer.from(`${tag} APPEND ${head} CATENATE (`)];
  for (const [index, part] of parts.entries()) {
    const sep = index === 0 ? '' : ' ';
    if (typeof part === 'string') chunks.push(Buffer.from(`${sep}URL "${part}"`));
    else chunks.push(Buffer.from(`${sep}TEXT {${part.length}+}\r\n`), part);
  }
  chunks.push(Buffer.from(')\r\n'));
  return Buffer.concat(chunks);
}

describe.each(['sqlite', 'mongodb'] as const)('CATENATE on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = { MALLARD_LIMITS_MAX_MESSAGE_SIZE: String(LIMIT) };
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
    }
    server = await startTestServer(env);
  }, 120_000);
  afterEach(closeClients);
  afterAll(async () => {
    await server?.stop();
    await mongo?.stop();
  }, 60_000);

  /** An account whose Drafts holds DRAFT (UID 1) and FORWARDED (UID 2). */
  async function withDrafts(): Promise<{ account: Account; drafts: Mailbox; client: LineClient }> {
    const account = await newAccount(server);
    const { store } = server.server;
    const drafts = (await store.getMailbox(account.userId, 'Drafts'))!;
    await store.append(drafts.id, DRAFT);
    await store.append(drafts.id, FORWARDED);
    return { account, drafts, client: await loggedIn(account) };
  }

  async function stored(account: Account, path: string): Promise<Buffer[]> {
    const { store } = server.server;
    const mailbox = (await store.getMailbox(account.userId, path))!;
    const messages = await store.listMessages(mailbox.id);
    return Promise.all(messages.map((message) => store.readBlob(message.blobId)));
  }

  it('is advertised once logged in', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* CATENATE( |\r\n)/m);
  });

  it("stores RFC 4469's example, sent with synchronising literals", async () => {
    const { account, drafts, client } = await withDrafts();
    const url = (rest: string) => `"/Drafts;UIDVALIDITY=${drafts.uidValidity}/;UID=${rest}"`;
    const open = Buffer.from(`\r\n${BOUNDARY}\r\n`);
    const close = Buffer.from(`\r\n${BOUNDARY}--\r\n`);
    client.send(
      `A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL ${url('1/;section=HEADER')} TEXT {${open.length}}\r\n`,
    );
    await client.readUntil(/^\+ /);
    client.send(
      Buffer.concat([
        open,
        Buffer.from(` URL ${url('1/;section=1.MIME')} URL ${url('1/;section=1')} TEXT {${open.length}}\r\n`),
      ]),
    );
    await client.readUntil(/^\+ /);
    client.send(Buffer.concat([open, Buffer.from(` URL ${url('2')} TEXT {${close.length}}\r\n`)]));
    await client.readUntil(/^\+ /);
    client.send(Buffer.concat([close, Buffer.from(')\r\n')]));
    expect(await tagged(client, 'A003')).toMatch(
      new RegExp(`^A003 OK \\[APPENDUID ${drafts.uidValidity} 3\\] APPEND completed\r\n$`),
    );
    const expected = Buffer.concat([DRAFT_HEADER, open, PART1_MIME, PART1, open, FORWARDED, close]);
    expect((await stored(account, 'Drafts'))[2]!.toString('latin1')).toBe(expected.toString('latin1'));
    // What a client sees of it: the new message's flags and its bytes.
    await client.command('s', 'SELECT Drafts');
    const fetched = await client.command('f', 'UID FETCH 3 (FLAGS BODY.PEEK[])');
    expect(fetched).toContain('FLAGS (\\Seen \\Draft $MDNSent \\Recent)');
    expect(fetched).toContain(`BODY[] {${expected.length}}\r\n${expected.toString('latin1')})`);
  });

  it('reads every URL form: imap://, absolute path, relative to the selected mailbox, PARTIAL', async () => {
    const { account, drafts, client } = await withDrafts();
    const user = encodeURIComponent(account.username);
    await client.command('s', 'SELECT Drafts');
    const parts = [
      `imap://${user}@localhost/Drafts;UIDVALIDITY=${drafts.uidValidity}/;UID=1/;SECTION=HEADER.FIELDS%20(SUBJECT)`,
      `IMAP://${user};AUTH=*@LOCALHOST:143/Drafts/;UID=2/;SECTION=TEXT`,
      '/Drafts/;UID=1/;SECTION=1/;PARTIAL=6.3',
      ';UID=2/;PARTIAL=6',
      ';uid=1/;section=2.MIME',
    ];
    client.send(catenate('a1', 'INBOX', parts));
    expect(await tagged(client, 'a1')).toMatch(/^a1 OK \[APPENDUID \d+ 1\]/m);
    const expected = [
      'Subject: afternoon meeting\r\n\r\n',
      'The agenda.\r\n',
      'Joe',
      FORWARDED.subarray(6).toString('latin1'),
      'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
    ].join('');
    expect((await stored(account, 'INBOX'))[0]!.toString('latin1')).toBe(expected);
  });

  it('answers NO [BADURL url] for each kind of bad URL and stores nothing', async () => {
    const { account, drafts, client } = await withDrafts();
    const other = await newAccount(server);
    const valid = drafts.uidValidity;
    const bad = [
      `/Drafts;UIDVALIDITY=${valid}/;UID=9`, // no such UID
      `/Drafts;UIDVALIDITY=${valid + 1}/;UID=1`, // UIDVALIDITY changed
      `/Drafts;UIDVALIDITY=${valid}/;UID=1/;SECTION=7`, // no such part
      `/Drafts;UIDVALIDITY=${valid}/;UID=1/;SECTION=BOGUS`, // not a section
      '/Nowhere/;UID=1', // no such mailbox
      `imap://${encodeURIComponent(other.username)}@localhost/INBOX/;UID=1`, // another user
      'imap://elsewhere.example/Drafts/;UID=1', // another server
      ';UID=1', // relative, nothing selected
      'http://example.com/x', // not an IMAP URL
      `/Drafts;UIDVALIDITY=${valid}/;UID=1;URLAUTH=anonymous`, // a rump: URLAUTH without a token
    ];
    await server.server.store.append(
      (await server.server.store.getMailbox(other.userId, 'INBOX'))!.id,
      FORWARDED,
    );
    for (const [index, url] of bad.entries()) {
      client.send(catenate(`b${index}`, 'INBOX', [Buffer.from('Subject: x\r\n\r\n'), url]));
      const answer = await tagged(client, `b${index}`);
      expect(answer, url).toMatch(
        new RegExp(`^b${index} NO \\[BADURL ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\] `, 'm'),
      );
    }
    expect(await stored(account, 'INBOX')).toEqual([]);
  });

  it('answers NO [TOOBIG] when the parts add up to more than the size limit', async () => {
    const { account, drafts, client } = await withDrafts();
    const big = Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(LIMIT - DRAFT.length)}\r\n`);
    const url = `/Drafts;UIDVALIDITY=${drafts.uidValidity}/;UID=1`;
    client.send(catenate('t1', 'INBOX', [big, url]));
    expect(await tagged(client, 't1')).toMatch(/^t1 NO \[TOOBIG\] /m);
    expect(await stored(account, 'INBOX')).toEqual([]);
  });

  it('takes NUL bytes only in a literal8 TEXT part (RFC 4469 4)', async () => {
    const { account, drafts, client } = await withDrafts();
    const withNul = Buffer.from('\r\n\x00binary\x00\r\n', 'latin1');
    const url = `/Drafts;UIDVALIDITY=${drafts.uidValidity}/;UID=2/;SECTION=HEADER`;
    client.send(
      Buffer.concat([
        Buffer.from(`n1 APPEND INBOX CATENATE (URL "${url}" TEXT {${withNul.length}+}\r\n`),
        withNul,
        Buffer.from(')\r\n'),
      ]),
    );
    expect(await tagged(client, 'n1')).toMatch(/^n1 BAD .*NUL/m);
    client.send(
      Buffer.concat([
        Buffer.from(`n2 APPEND INBOX CATENATE (URL "${url}" TEXT ~{${withNul.length}+}\r\n`),
        withNul,
        Buffer.from(')\r\n'),
      ]),
    );
    expect(await tagged(client, 'n2')).toMatch(/^n2 OK \[APPENDUID \d+ 1\]/m);
    const header = FORWARDED.subarray(0, FORWARDED.indexOf('\r\n\r\n') + 4);
    expect((await stored(account, 'INBOX'))[0]!.equals(Buffer.concat([header, withNul]))).toBe(true);
  });

  it('stores nothing of a MULTIAPPEND when one message has a bad URL', async () => {
    const { account, drafts, client } = await withDrafts();
    const good = `/Drafts;UIDVALIDITY=${drafts.uidValidity}/;UID=2`;
    const gone = `/Drafts;UIDVALIDITY=${drafts.uidValidity}/;UID=5`;
    const text = Buffer.from('Subject: plain\r\n\r\nplain\r\n');
    client.send(
      Buffer.concat([
        Buffer.from(`m1 APPEND INBOX CATENATE (URL "${good}") {${text.length}+}\r\n`),
        text,
        Buffer.from(` (\\Seen) CATENATE (URL "${gone}")\r\n`),
      ]),
    );
    expect(await tagged(client, 'm1')).toMatch(/^m1 NO \[BADURL \/Drafts;UIDVALIDITY=\d+\/;UID=5\] /m);
    expect(await stored(account, 'INBOX')).toEqual([]);
    client.send(
      Buffer.concat([
        Buffer.from(`m2 APPEND INBOX CATENATE (URL "${good}") {${text.length}+}\r\n`),
        text,
        Buffer.from(` (\\Seen) CATENATE (URL "${good}/;SECTION=TEXT")\r\n`),
      ]),
    );
    expect(await tagged(client, 'm2')).toMatch(/^m2 OK \[APPENDUID \d+ 1:3\]/m);
    expect((await stored(account, 'INBOX')).map((raw) => raw.toString('latin1'))).toEqual([
      FORWARDED.toString('latin1'),
      text.toString('latin1'),
      'The agenda.\r\n',
    ]);
  });

  it('replaces a draft with one built by CATENATE (REPLACE, RFC 8508)', async () => {
    const { account, client } = await withDrafts();
    await client.command('s', 'SELECT Drafts');
    const subject = Buffer.from('Subject: edited\r\n\r\n');
    client.send(
      Buffer.concat([
        Buffer.from(`r1 UID REPLACE 1 Drafts CATENATE (TEXT {${subject.length}+}\r\n`),
        subject,
        Buffer.from(' URL ";UID=1/;SECTION=1")\r\n'),
      ]),
    );
    expect(await tagged(client, 'r1')).toMatch(/^r1 OK /m);
    expect((await stored(account, 'Drafts')).map((raw) => raw.toString('latin1'))).toEqual([
      FORWARDED.toString('latin1'),
      `${subject.toString('latin1')}${PART1.toString('latin1')}`,
    ]);
  });

  it('refuses CATENATE syntax errors with BAD', async () => {
    const { client } = await withDrafts();
    expect(await client.command('e1', 'APPEND INBOX CATENATE ()')).toMatch(/^e1 BAD /m);
    expect(await client.command('e2', 'APPEND INBOX CATENATE (FOO "x")')).toMatch(/^e2 BAD /m);
    expect(await client.command('e3', 'APPEND INBOX CATENATE (TEXT "quoted")')).toMatch(/^e3 BAD /m);
  });
});
