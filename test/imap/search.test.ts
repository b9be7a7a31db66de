/**
 * Transcripts for SEARCH and UID SEARCH (RFC 3501 6.4.4, ESEARCH RFC 4731, MODSEQ RFC 7162,
 * YOUNGER/OLDER RFC 5032) over real TCP against a real server, with a corpus of plain, multipart,
 * forwarded and encoded mail, plus imapflow's search calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, PLAIN } from '../../server/imap/fetch/test-corpus.ts';
import type { Mailbox } from '../../server/store/types.ts';
import { imapflowClient, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const clients: LineClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

async function connect(account: Account): Promise<LineClient> {
  const client = await loggedIn(account);
  clients.push(client);
  return client;
}

/** Flags of the corpus messages, by sequence number 1..5. */
const FLAGS = [['\\Seen'], ['\\Flagged', '$Work'], ['\\Answered', '\\Seen'], ['\\Deleted'], ['\\Draft']];
/** Internal date of sequence number n: local noon on June n, 2025. */
const internalDate = (n: number) => new Date(2025, 5, n, 12, 0, 0);

/**
 * A new account whose `Box` holds the corpus at sequence numbers 1..5 and UIDs 2..6 (UID 1 was
 * expunged, so that the two kinds of numbers differ).
 */
async function corpusBox({ recent = false } = {}): Promise<{ account: Account; mailbox: Mailbox }> {
  const account = await newAccount(server);
  const { store } = server.server;
  const mailbox = await store.createMailbox(account.userId, 'Box');
  await store.append(mailbox.id, Buffer.from('Subject: gone\r\n\r\ngone\r\n'));
  await store.deleteMessages(mailbox.id, [1]);
  for (const [i, raw] of CORPUS.entries()) {
    await store.append(mailbox.id, raw, { internalDate: internalDate(i + 1), flags: FLAGS[i] });
  }
  if (!recent) await store.claimRecent(mailbox.id);
  return { account, mailbox };
}

async function selected(command = 'SELECT Box', options: { recent?: boolean } = {}) {
  const { account, mailbox } = await corpusBox(options);
  const client = await connect(account);
  expect(await client.command('S', command)).toMatch(/^S OK /m);
  return { account, mailbox, client };
}

/** Runs each search and checks its `* SEARCH` line. */
async function expectSearches(client: LineClient, cases: Array<[string, string]>): Promise<void> {
  for (const [criteria, expected] of cases) {
    const response = await client.command('t', criteria);
    expect(response, criteria).toBe(
      `* SEARCH${expected ? ` ${expected}` : ''}\r\nt OK ${criteria.startsWith('UID') ? 'UID ' : ''}SEARCH completed\r\n`,
    );
  }
}

/** The sequence numbers (1-based) of the corpus messages for which `test` holds, as a SEARCH line. */
const where = (test: (raw: Buffer, seq: number) => boolean) =>
  CORPUS.flatMap((raw, i) => (test(raw, i + 1) ? [i + 1] : [])).join(' ');

describe('SEARCH by flags and numbers', () => {
  it('matches system flags and keywords', async () => {
    const { client } = await selected();
    await expectSearches(client, [
      ['SEARCH ALL', '1 2 3 4 5'],
      ['SEARCH SEEN', '1 3'],
      ['SEARCH UNSEEN', '2 4 5'],
      ['SEARCH FLAGGED', '2'],
      ['SEARCH UNFLAGGED', '1 3 4 5'],
      ['SEARCH ANSWERED', '3'],
      ['SEARCH UNANSWERED', '1 2 4 5'],
      ['SEARCH DELETED', '4'],
      ['SEARCH UNDELETED', '1 2 3 5'],
      ['SEARCH DRAFT', '5'],
      ['SEARCH UNDRAFT', '1 2 3 4'],
      ['SEARCH KEYWORD $work', '2'],
      ['SEARCH UNKEYWORD $WORK', '1 3 4 5'],
      ['SEARCH KEYWORD $Nothing', ''],
      ['UID SEARCH SEEN', '2 4'],
      ['search seen', '1 3'],
    ]);
  });

  it('matches \\Recent, NEW and OLD for the session that claimed the messages only', async () => {
    const { account, client } = await selected('SELECT Box', { recent: true });
    await expectSearches(client, [
      ['SEARCH RECENT', '1 2 3 4 5'],
      ['SEARCH NEW', '2 4 5'],
      ['SEARCH OLD', ''],
    ]);
    const other = await connect(account);
    expect(await other.command('S', 'SELECT Box')).toMatch(/^S OK/m);
    await expectSearches(other, [
      ['SEARCH RECENT', ''],
      ['SEARCH NEW', ''],
      ['SEARCH OLD', '1 2 3 4 5'],
    ]);
  });

  it('matches sequence numbers and UIDs', async () => {
    const { client } = await selected();
    await expectSearches(client, [
      ['SEARCH 2:3', '2 3'],
      ['SEARCH 4:2', '2 3 4'],
      ['SEARCH *', '5'],
      ['SEARCH 1,5,9', '1 5'],
      ['SEARCH 7', ''],
      ['SEARCH UID 3:4', '2 3'],
      ['SEARCH UID *', '5'],
      ['SEARCH UID 99:*', '5'],
      ['SEARCH UID 1', ''],
      ['UID SEARCH 1:2', '2 3'],
      ['UID SEARCH UID 2,6', '2 6'],
      ['UID SEARCH 2 UID 3:*', '3'],
    ]);
  });
});

describe('SEARCH by size and date', () => {
  it('compares RFC822.SIZE', async () => {
    const { client } = await selected();
    const size = PLAIN.length;
    await expectSearches(client, [
      [`SEARCH LARGER ${size}`, where((raw) => raw.length > size)],
      [`SEARCH SMALLER ${size}`, where((raw) => raw.length < size)],
      [`SEARCH LARGER ${size - 1} SMALLER ${size + 1}`, '1'],
      ['SEARCH LARGER 0', '1 2 3 4 5'],
      ['SEARCH SMALLER 1', ''],
    ]);
  });

  it('compares internal dates by calendar day', async () => {
    const { client } = await selected();
    await expectSearches(client, [
      ['SEARCH ON 3-Jun-2025', '3'],
      ['SEARCH BEFORE 3-Jun-2025', '1 2'],
      ['SEARCH SINCE 4-Jun-2025', '4 5'],
      ['SEARCH SINCE 2-Jun-2025 BEFORE 4-Jun-2025', '2 3'],
      ['SEARCH ON "1-Jun-2025"', '1'],
      ['SEARCH BEFORE 1-Jan-1970', ''],
    ]);
  });

  it('compares the Date header by its own calendar day', async () => {
    const { client } = await selected();
    // PLAIN is 2 Jun 23:30 -0700 (3 June in UTC); UUENCODED has no Date and matches no SENT* key.
    await expectSearches(client, [
      ['SEARCH SENTON 2-Jun-2025', '1'],
      ['SEARCH SENTBEFORE 4-Jun-2025', '1 2'],
      ['SEARCH SENTSINCE 5-Jun-2025', '3 4'],
      ['SEARCH SENTON 6-Jun-2025', '4'],
      ['SEARCH NOT SENTSINCE 1-Jan-2000', '5'],
    ]);
  });

  it('matches YOUNGER and OLDER against the current time', async () => {
    const account = await newAccount(server);
    const { store } = server.server;
    const inbox = (await store.getMailbox(account.userId, 'INBOX'))!;
    await store.append(inbox.id, PLAIN, { internalDate: new Date(Date.now() - 7 * 86_400_000) });
    await store.append(inbox.id, PLAIN, { internalDate: new Date(Date.now() - 60_000) });
    const client = await connect(account);
    expect(await client.command('S', 'SELECT INBOX')).toMatch(/^S OK/m);
    await expectSearches(client, [
      ['SEARCH YOUNGER 3600', '2'],
      ['SEARCH OLDER 3600', '1'],
      ['SEARCH YOUNGER 1000000', '1 2'],
      ['SEARCH OLDER 1000000', ''],
    ]);
  });
});

describe('SEARCH by content', () => {
  it('matches address and subject headers on decoded values', async () => {
    const { client } = await selected();
    await expectSearches(client, [
      ['SEARCH FROM alice', '1'],
      ['SEARCH TO alice', '2'],
      ['SEARCH FROM "ALICE EXAMPLE"', '1'],
      ['SEARCH CC team', '3'],
      ['SEARCH BCC anyone', ''],
      ['SEARCH SUBJECT minutes', '3'],
      ['SEARCH SUBJECT "hello WORLD"', '1'],
      ['SEARCH HEADER X-Colour ""', '1'],
      ['SEARCH HEADER x-colour VERMILION', '1'],
      ['SEARCH HEADER Message-ID plain-1', '1'],
      ['SEARCH HEADER Content-Transfer-Encoding base64', '4'],
      ['SEARCH FROM example', '1 2 3 4 5'],
    ]);
  });

  it('matches UTF-8 strings sent as literals, case-insensitively', async () => {
    const { client } = await selected();
    const search = (tag: string, key: string, text: string) =>
      client.command(tag, `SEARCH CHARSET UTF-8 ${key} {${Buffer.byteLength(text)}+}\r\n${text}`);
    expect(await search('u1', 'SUBJECT', 'KÖLN')).toBe('* SEARCH 2\r\nu1 OK SEARCH completed\r\n');
    expect(await search('u2', 'FROM', 'andré')).toBe('* SEARCH 4\r\nu2 OK SEARCH completed\r\n');
    expect(await search('u3', 'FROM', 'Jürgen')).toBe('* SEARCH 2\r\nu3 OK SEARCH completed\r\n');
    expect(await search('u4', 'BODY', 'café')).toBe('* SEARCH 2\r\nu4 OK SEARCH completed\r\n');
    expect(await search('u5', 'BODY', 'ÜNÏCÖDÉ')).toBe('* SEARCH 4\r\nu5 OK SEARCH completed\r\n');
    expect(await search('u6', 'TEXT', 'grüße')).toBe('* SEARCH 2\r\nu6 OK SEARCH completed\r\n');
    expect(await client.command('u7', 'SEARCH CHARSET US-ASCII BODY fox')).toBe(
      '* SEARCH 1\r\nu7 OK SEARCH completed\r\n',
    );
  });

  it('matches BODY on decoded body text and TEXT on header and body', async () => {
    const { client } = await selected();
    await expectSearches(client, [
      ['SEARCH BODY fox', '1'],
      ['SEARCH BODY "LAZY DOG"', '1'],
      ['SEARCH BODY geschlossen', '2'],
      ['SEARCH BODY budget', '3'],
      ['SEARCH BODY strasse', '4'],
      ['SEARCH BODY attached', '5'],
      ['SEARCH BODY "hello world"', ''],
      ['SEARCH TEXT "hello world"', '1'],
      ['SEARCH TEXT erin', '3'],
      ['SEARCH BODY erin', ''],
      ['SEARCH TEXT "attachment; filename"', '2'],
      ['SEARCH TEXT "x-colour: vermilion"', '1'],
      ['SEARCH TEXT example.org', '1 2 3 4 5'],
      ['SEARCH BODY ""', '1 2 3 4 5'],
      ['SEARCH TEXT nowhere-to-be-found', ''],
    ]);
  });

  it('combines keys with AND, OR, NOT and parentheses', async () => {
    const { client } = await selected();
    await expectSearches(client, [
      ['SEARCH OR SEEN FLAGGED', '1 2 3'],
      ['SEARCH NOT SEEN', '2 4 5'],
      ['SEARCH SEEN BODY fox', '1'],
      ['SEARCH UNSEEN BODY fox', ''],
      ['SEARCH OR BODY fox DRAFT', '1 5'],
      ['SEARCH (OR (SEEN) (DRAFT)) NOT (DELETED)', '1 3 5'],
      ['SEARCH NOT NOT NOT OR ANSWERED TEXT "köln"', '1 4 5'],
      ['SEARCH OR (FROM alice SEEN) (SUBJECT minutes ANSWERED)', '1 3'],
      ['SEARCH 1:3 NOT UID 3', '1 3'],
    ]);
  });
});

describe('SEARCH with MODSEQ and ESEARCH', () => {
  it('matches MODSEQ, reports the highest one and turns CONDSTORE on', async () => {
    const { mailbox, client } = await selected();
    const messages = await server.server.store.listMessages(mailbox.id);
    const modseqs = messages.map((m) => m.modseq);
    const third = modseqs[2]!;
    const highest = Math.max(...modseqs);
    expect(await client.command('m1', `SEARCH MODSEQ ${third}`)).toBe(
      `* OK [HIGHESTMODSEQ ${highest}] Highest\r\n* SEARCH 3 4 5 (MODSEQ ${highest})\r\nm1 OK SEARCH completed\r\n`,
    );
    expect(await client.command('m2', `SEARCH MODSEQ "/flags/\\\\draft" all ${third} SEEN`)).toBe(
      `* SEARCH 3 (MODSEQ ${third})\r\nm2 OK SEARCH completed\r\n`,
    );
    expect(await client.command('m3', `SEARCH MODSEQ ${highest + 1}`)).toBe(
      '* SEARCH\r\nm3 OK SEARCH completed\r\n',
    );
    expect(await client.command('m4', 'STORE 1 +FLAGS (\\Flagged)')).toMatch(
      /^\* 1 FETCH \(.*MODSEQ \(\d+\)\)/m,
    );
  });

  it('answers RETURN options with ESEARCH', async () => {
    const { client } = await selected();
    expect(await client.command('e1', 'SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN')).toBe(
      '* ESEARCH (TAG "e1") MIN 2 MAX 5 COUNT 3 ALL 2,4:5\r\ne1 OK SEARCH completed\r\n',
    );
    expect(await client.command('e2', 'UID SEARCH RETURN () SEEN')).toBe(
      '* ESEARCH (TAG "e2") UID ALL 2,4\r\ne2 OK UID SEARCH completed\r\n',
    );
    expect(await client.command('e3', 'SEARCH RETURN (COUNT) KEYWORD $Nothing')).toBe(
      '* ESEARCH (TAG "e3") COUNT 0\r\ne3 OK SEARCH completed\r\n',
    );
    expect(await client.command('e4', 'SEARCH RETURN (MIN MAX) KEYWORD $Nothing')).toBe(
      '* ESEARCH (TAG "e4")\r\ne4 OK SEARCH completed\r\n',
    );
    expect(await client.command('e5', 'UID SEARCH RETURN (MAX) MODSEQ 1')).toMatch(
      /^\* OK \[HIGHESTMODSEQ \d+\] Highest\r\n\* ESEARCH \(TAG "e5"\) UID MAX 6 MODSEQ \d+\r\ne5 OK/,
    );
    // SAVE alone (SEARCHRES, test/imap/searchres.test.ts): no ESEARCH answer.
    expect(await client.command('e6', 'SEARCH RETURN (SAVE) ALL')).toBe('e6 OK SEARCH completed\r\n');
  });
});

describe('SEARCH errors and edge cases', () => {
  it('refuses unknown charsets, bad syntax and over-deep nesting; $ is empty before a SAVE', async () => {
    const { client } = await selected();
    expect(await client.command('x1', 'SEARCH CHARSET KOI8-R BODY x')).toMatch(
      /^x1 NO \[BADCHARSET \(UTF-8 US-ASCII\)\] /m,
    );
    expect(await client.command('x2', 'SEARCH')).toMatch(/^x2 BAD /m);
    expect(await client.command('x3', 'SEARCH FROBNICATE')).toMatch(/^x3 BAD /m);
    expect(await client.command('x4', 'SEARCH BEFORE 31-Feb-2025')).toMatch(/^x4 BAD /m);
    expect(await client.command('x5', 'SEARCH UID $')).toBe('* SEARCH\r\nx5 OK SEARCH completed\r\n');
    expect(await client.command('x6', 'SEARCH $')).toBe('* SEARCH\r\nx6 OK SEARCH completed\r\n');
    expect(await client.command('x7', `SEARCH ${'('.repeat(200)}ALL${')'.repeat(200)}`)).toMatch(
      /^x7 BAD .*deep/m,
    );
    expect(await client.command('x8', `SEARCH ${'NOT '.repeat(200)}ALL`)).toMatch(/^x8 BAD .*deep/m);
    expect(await client.command('x9', `SEARCH ${'('.repeat(50)}SEEN${')'.repeat(50)}`)).toBe(
      '* SEARCH 1 3\r\nx9 OK SEARCH completed\r\n',
    );
    expect(await client.command('x10', 'SEARCH ALL')).toMatch(/^x10 OK/m);
  });

  it('answers an empty SEARCH in an empty mailbox', async () => {
    const account = await newAccount(server);
    const client = await connect(account);
    expect(await client.command('S', 'SELECT Archive')).toMatch(/^S OK/m);
    await expectSearches(client, [
      ['SEARCH ALL', ''],
      ['SEARCH 1:*', ''],
      ['UID SEARCH UID 1:*', ''],
      ['SEARCH TEXT x', ''],
    ]);
  });

  it('leaves out messages expunged by another session, without EXPUNGE for SEARCH', async () => {
    const { mailbox, client } = await selected();
    await server.server.store.deleteMessages(mailbox.id, [3]);
    expect(await client.command('y1', 'SEARCH BODY e')).toBe(
      '* SEARCH 1 3 4 5\r\ny1 OK [EXPUNGEISSUED] Search completed, some messages were already expunged\r\n',
    );
    // Flags are known to the session: the message still matches until its EXPUNGE is reported.
    expect(await client.command('y2', 'SEARCH FLAGGED')).toBe('* SEARCH 2\r\ny2 OK SEARCH completed\r\n');
    expect(await client.command('y3', 'UID SEARCH UNSEEN')).toBe(
      '* SEARCH 3 5 6\r\n* 2 EXPUNGE\r\ny3 OK UID SEARCH completed\r\n',
    );
    expect(await client.command('y4', 'SEARCH UNSEEN')).toBe('* SEARCH 3 4\r\ny4 OK SEARCH completed\r\n');
  });

  it('searches a larger mailbox', async () => {
    const account = await newAccount(server);
    const { store } = server.server;
    const inbox = (await store.getMailbox(account.userId, 'INBOX'))!;
    for (let i = 1; i <= 300; i++) {
      const body = i % 7 === 0 ? 'needle in a haystack' : 'just hay';
      await store.append(inbox.id, Buffer.from(`Subject: message ${i}\r\n\r\n${body}\r\n`), {
        flags: i % 2 === 0 ? ['\\Seen'] : [],
      });
    }
    const client = await connect(account);
    expect(await client.command('S', 'EXAMINE INBOX')).toMatch(/^S OK/m);
    const sevens = Array.from({ length: 42 }, (_, i) => (i + 1) * 7);
    await expectSearches(client, [
      ['SEARCH TEXT NEEDLE', sevens.join(' ')],
      ['SEARCH UNSEEN BODY needle', sevens.filter((n) => n % 2 === 1).join(' ')],
      ['SEARCH SUBJECT "message 300"', '300'],
    ]);
  });
});

describe('imapflow', () => {
  it('searches by flags, text and UID', async () => {
    const { account } = await corpusBox();
    const client = await imapflowClient(account);
    try {
      const lock = await client.getMailboxLock('Box');
      try {
        expect(await client.search({ seen: true })).toEqual([1, 3]);
        expect(await client.search({ seen: false, deleted: false })).toEqual([2, 5]);
        expect(await client.search({ body: 'fox' }, { uid: true })).toEqual([2]);
        expect(await client.search({ from: 'andré' })).toEqual([4]);
        expect(await client.search({ subject: 'Grüße' }, { uid: true })).toEqual([3]);
        expect(await client.search({ or: [{ flagged: true }, { draft: true }] })).toEqual([2, 5]);
        expect(await client.search({ since: new Date(2025, 5, 4) })).toEqual([4, 5]);
        expect(await client.search({ header: { 'x-colour': 'vermilion' } })).toEqual([1]);
        expect(await client.search({ text: 'nothing like this' })).toEqual([]);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });
});
