/**
 * Transcripts for FETCH and UID FETCH (RFC 3501 6.4.5, RFC 3516 BINARY, RFC 7162 CONDSTORE) over
 * real TCP against a real server, with a corpus of plain, multipart, forwarded and encoded mail,
 * plus imapflow's fetch calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { indexMessage } from '../../server/mime/index.ts';
import { encodeValue, formatInternalDate } from '../../server/imap/encoder/index.ts';
import {
  ATTACHMENT,
  CORPUS,
  ENCODED,
  FORWARD,
  MULTIPART,
  PLAIN,
} from '../../server/imap/fetch/test-corpus.ts';
import type { Mailbox } from '../../server/store/types.ts';
import { imapflowClient, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** Clients of the current test, closed after it even when an expectation failed. */
const clients: LineClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

async function connect(account: Account): Promise<LineClient> {
  const client = await loggedIn(account);
  clients.push(client);
  return client;
}

/** Internal date of corpus message n (1-based): noon UTC on June n, 2025. */
const internalDate = (n: number) => new Date(Date.UTC(2025, 5, n, 12, 0, 0));

/** Bytes as the line client shows them. */
const latin1 = (data: Buffer | string) => (typeof data === 'string' ? data : data.toString('latin1'));
const literal = (text: string) => `{${text.length}}\r\n${text}`;
const nested = (value: Parameters<typeof encodeValue>[0]) => encodeValue(value).toString('latin1');

/** A new account whose mailbox `path` holds the corpus (UIDs 1..5), not \Recent unless asked. */
async function corpusBox(
  path = 'Box',
  { recent = false } = {},
): Promise<{ account: Account; mailbox: Mailbox }> {
  const account = await newAccount(server);
  const { store } = server.server;
  const mailbox =
    (await store.getMailbox(account.userId, path)) ?? (await store.createMailbox(account.userId, path));
  for (const [i, raw] of CORPUS.entries()) {
    await store.append(mailbox.id, raw, {
      internalDate: internalDate(i + 1),
      flags: i === 2 ? ['$Work'] : [],
    });
  }
  if (!recent) await store.claimRecent(mailbox.id);
  return { account, mailbox };
}

async function selected(command = 'SELECT Box', options: { recent?: boolean } = {}) {
  const { account, mailbox } = await corpusBox('Box', options);
  const client = await connect(account);
  expect(await client.command('S', command)).toMatch(/^S OK /m);
  return { account, mailbox, client };
}

describe('FETCH attributes', () => {
  it('answers FLAGS, UID, INTERNALDATE and RFC822.SIZE', async () => {
    const { client } = await selected();
    expect(await client.command('a1', 'FETCH 1:3 (FLAGS UID INTERNALDATE RFC822.SIZE)')).toBe(
      [1, 2, 3]
        .map(
          (n) =>
            `* ${n} FETCH (FLAGS (${n === 3 ? '$Work' : ''}) UID ${n} ` +
            `INTERNALDATE "${formatInternalDate(internalDate(n))}" RFC822.SIZE ${CORPUS[n - 1]!.length})\r\n`,
        )
        .join('') + 'a1 OK FETCH completed\r\n',
    );
    client.close();
  });

  it('includes UID first in UID FETCH responses and expands macros', async () => {
    const { client } = await selected();
    expect(await client.command('a2', 'UID FETCH 2 FLAGS')).toBe(
      '* 2 FETCH (UID 2 FLAGS ())\r\na2 OK UID FETCH completed\r\n',
    );
    expect(await client.command('a3', 'UID FETCH 1 FAST')).toBe(
      `* 1 FETCH (UID 1 FLAGS () INTERNALDATE "${formatInternalDate(internalDate(1))}" RFC822.SIZE ${PLAIN.length})\r\n` +
        'a3 OK UID FETCH completed\r\n',
    );
    const index = indexMessage(MULTIPART);
    expect(await client.command('a4', 'FETCH 2 FULL')).toBe(
      `* 2 FETCH (FLAGS () INTERNALDATE "${formatInternalDate(internalDate(2))}" RFC822.SIZE ${MULTIPART.length} ` +
        `ENVELOPE ${nested(index.envelope)} BODY ${nested(index.body)})\r\na4 OK FETCH completed\r\n`,
    );
    client.close();
  });

  it('answers ENVELOPE, BODY and BODYSTRUCTURE from the MIME index', async () => {
    const { client } = await selected();
    for (const [seq, raw] of [
      [2, MULTIPART],
      [3, FORWARD],
      [4, ENCODED],
    ] as const) {
      const index = indexMessage(raw);
      expect(await client.command('b1', `FETCH ${seq} (ENVELOPE BODYSTRUCTURE BODY)`)).toBe(
        `* ${seq} FETCH (ENVELOPE ${nested(index.envelope)} BODYSTRUCTURE ${nested(index.bodyStructure)} ` +
          `BODY ${nested(index.body)})\r\nb1 OK FETCH completed\r\n`,
      );
    }
    client.close();
  });

  it('shows \\Recent to the session that claimed it', async () => {
    const { client } = await selected('SELECT Box', { recent: true });
    expect(await client.command('b2', 'FETCH 1 FLAGS')).toBe(
      '* 1 FETCH (FLAGS (\\Recent))\r\nb2 OK FETCH completed\r\n',
    );
    client.close();
  });
});

describe('FETCH body sections', () => {
  it('returns the whole message with BODY[], RFC822 and BODY.PEEK[]', async () => {
    const { client } = await selected('EXAMINE Box');
    const literal = `{${PLAIN.length}}\r\n${latin1(PLAIN)}`;
    expect(await client.command('c1', 'FETCH 1 BODY.PEEK[]')).toBe(
      `* 1 FETCH (BODY[] ${literal})\r\nc1 OK FETCH completed\r\n`,
    );
    expect(await client.command('c2', 'FETCH 1 RFC822')).toBe(
      `* 1 FETCH (RFC822 ${literal})\r\nc2 OK FETCH completed\r\n`,
    );
    expect(await client.command('c3', 'FETCH 2 BODY[]')).toBe(
      `* 2 FETCH (BODY[] {${MULTIPART.length}}\r\n${latin1(MULTIPART)})\r\nc3 OK FETCH completed\r\n`,
    );
    client.close();
  });

  it('returns headers and texts of messages and parts', async () => {
    const { client } = await selected('EXAMINE Box');
    const header = latin1(PLAIN).split('\r\n\r\n')[0] + '\r\n\r\n';
    expect(await client.command('d1', 'FETCH 1 (RFC822.HEADER RFC822.TEXT)')).toBe(
      `* 1 FETCH (RFC822.HEADER {${header.length}}\r\n${header} ` +
        `RFC822.TEXT {46}\r\nThe quick brown fox jumps over the lazy dog.\r\n)\r\nd1 OK FETCH completed\r\n`,
    );
    expect(await client.command('d2', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject X-Colour)]')).toBe(
      '* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT X-COLOUR)] {45}\r\nSubject: Hello world\r\nX-Colour: Vermilion\r\n\r\n)\r\n' +
        'd2 OK FETCH completed\r\n',
    );
    expect(
      await client.command('d3', 'FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (From To Date Message-ID X-Colour)]'),
    ).toBe(
      '* 1 FETCH (BODY[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID X-COLOUR)] {24}\r\nSubject: Hello world\r\n\r\n)\r\n' +
        'd3 OK FETCH completed\r\n',
    );
    const part1 = 'Das Caf=C3=A9 ist ge=\r\nschlossen.';
    const mime1 =
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n';
    expect(await client.command('d4', 'FETCH 2 (BODY.PEEK[1] BODY.PEEK[1.MIME])')).toBe(
      `* 2 FETCH (BODY[1] ${literal(part1)} BODY[1.MIME] ${literal(mime1)})\r\nd4 OK FETCH completed\r\n`,
    );
    const inner =
      'From: Erin <erin@example.org>\r\nTo: Carol <carol@example.com>\r\nSubject: Minutes\r\n' +
      'Date: Wed, 4 Jun 2025 17:00:00 +0200\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
    expect(await client.command('d5', 'FETCH 3 (BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1])')).toBe(
      `* 3 FETCH (BODY[2.HEADER] {${inner.length}}\r\n${inner} ` +
        'BODY[2.TEXT] {38}\r\nBudget approved. Next meeting in July. BODY[2.1] {38}\r\nBudget approved. Next meeting in July.)\r\n' +
        'd5 OK FETCH completed\r\n',
    );
    client.close();
  });

  it('answers partial fetches with the origin, huge ones and missing parts with ""', async () => {
    const { client } = await selected('EXAMINE Box');
    expect(await client.command('e1', 'FETCH 1 BODY.PEEK[]<6.5>')).toBe(
      '* 1 FETCH (BODY[]<6> {5}\r\nAlice)\r\ne1 OK FETCH completed\r\n',
    );
    expect(await client.command('e2', 'FETCH 1 BODY.PEEK[TEXT]<40.4294967295>')).toBe(
      '* 1 FETCH (BODY[TEXT]<40> {6}\r\ndog.\r\n)\r\ne2 OK FETCH completed\r\n',
    );
    expect(await client.command('e3', 'FETCH 1 BODY.PEEK[]<4294967295.4294967295>')).toBe(
      '* 1 FETCH (BODY[]<4294967295> "")\r\ne3 OK FETCH completed\r\n',
    );
    expect(
      await client.command('e4', 'FETCH 1:2 (BODY.PEEK[3] BODY.PEEK[1.2.3.MIME] BODY.PEEK[2.HEADER])'),
    ).toBe(
      '* 1 FETCH (BODY[3] "" BODY[1.2.3.MIME] "" BODY[2.HEADER] "")\r\n' +
        '* 2 FETCH (BODY[3] "" BODY[1.2.3.MIME] "" BODY[2.HEADER] "")\r\ne4 OK FETCH completed\r\n',
    );
    client.close();
  });
});

describe('FETCH and \\Seen', () => {
  it('sets \\Seen on non-PEEK fetches and reports the new FLAGS', async () => {
    const { mailbox, client } = await selected();
    expect(await client.command('f1', 'FETCH 1 BODY[TEXT]')).toBe(
      '* 1 FETCH (BODY[TEXT] {46}\r\nThe quick brown fox jumps over the lazy dog.\r\n FLAGS (\\Seen))\r\nf1 OK FETCH completed\r\n',
    );
    // Already seen: no FLAGS added the second time.
    expect(await client.command('f2', 'FETCH 1 (FLAGS RFC822.TEXT)')).toBe(
      '* 1 FETCH (FLAGS (\\Seen) RFC822.TEXT {46}\r\nThe quick brown fox jumps over the lazy dog.\r\n)\r\nf2 OK FETCH completed\r\n',
    );
    expect(await client.command('f3', 'FETCH 2 (BODY.PEEK[1] RFC822.HEADER)')).not.toContain('FLAGS');
    expect(await client.command('f4', 'UID FETCH 3 (FLAGS BINARY[1])')).toMatch(
      /^\* 3 FETCH \(UID 3 FLAGS \(\$Work \\Seen\) BINARY\[1\] \{32\}\r\nSee the forwarded message below\.\)\r\n/,
    );
    const stored = await server.server.store.listMessages(mailbox.id);
    expect(stored.map((m) => m.flags)).toEqual([['\\Seen'], [], ['$Work', '\\Seen'], [], []]);
    client.close();
  });

  it('does not set \\Seen in a mailbox opened with EXAMINE', async () => {
    const { mailbox, client } = await selected('EXAMINE Box');
    expect(await client.command('g1', 'FETCH 1 BODY[TEXT]')).not.toContain('FLAGS');
    expect((await server.server.store.getMessage(mailbox.id, 1))!.flags).toEqual([]);
    client.close();
  });

  it('reports the change with MODSEQ once CONDSTORE is on', async () => {
    const { mailbox, client } = await selected('SELECT Box (CONDSTORE)');
    const response = await client.command('h1', 'FETCH 4 BODY[]<0.4>');
    const modseq = (await server.server.store.getMessage(mailbox.id, 4))!.modseq;
    expect(response).toBe(
      `* 4 FETCH (BODY[]<0> {4}\r\nFrom FLAGS (\\Seen) MODSEQ (${modseq}))\r\nh1 OK FETCH completed\r\n`,
    );
    client.close();
  });
});

describe('FETCH BINARY', () => {
  it('decodes parts, sizes them and sends NUL bytes as literal8', async () => {
    const { client } = await selected('EXAMINE Box');
    expect(await client.command('i1', 'FETCH 2 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.PEEK[1])')).toBe(
      `* 2 FETCH (BINARY.SIZE[1] 26 BINARY.SIZE[2] ${ATTACHMENT.length} BINARY[1] {26}\r\n` +
        `${latin1(Buffer.from('Das Café ist geschlossen.', 'utf8'))})\r\ni1 OK FETCH completed\r\n`,
    );
    expect(await client.command('i2', 'FETCH 2 BINARY.PEEK[2]')).toBe(
      `* 2 FETCH (BINARY[2] ~{${ATTACHMENT.length}}\r\n${latin1(ATTACHMENT)})\r\ni2 OK FETCH completed\r\n`,
    );
    expect(await client.command('i3', 'FETCH 2 BINARY.PEEK[2]<3.2>')).toBe(
      `* 2 FETCH (BINARY[2]<3> {2}\r\n\xff\xfe)\r\ni3 OK FETCH completed\r\n`,
    );
    expect(await client.command('i4', 'FETCH 2 BINARY.PEEK[9]')).toBe(
      '* 2 FETCH (BINARY[9] "")\r\ni4 OK FETCH completed\r\n',
    );
    client.close();
  });

  it('refuses a part in an unknown transfer encoding with NO [UNKNOWN-CTE], after the earlier messages', async () => {
    const { client } = await selected('EXAMINE Box');
    const response = await client.command('j1', 'FETCH 1:5 BINARY.PEEK[2]');
    expect(response).toMatch(/^\* 1 FETCH \(BINARY\[2\] ""\)\r\n\* 2 FETCH \(BINARY\[2\] ~\{10\}/);
    expect(response).toMatch(/^j1 NO \[UNKNOWN-CTE\] /m);
    expect(response).not.toMatch(/^\* 5 FETCH/m);
    client.close();
  });
});

describe('FETCH with CONDSTORE', () => {
  it('answers MODSEQ and turns CONDSTORE on', async () => {
    const { mailbox, client } = await selected();
    const modseqs = (await server.server.store.listMessages(mailbox.id)).map((m) => m.modseq);
    const highest = Math.max(...modseqs);
    // Turning CONDSTORE on in an open mailbox tells its HIGHESTMODSEQ first (RFC 7162 3.1).
    expect(await client.command('k1', 'FETCH 1:2 (MODSEQ)')).toBe(
      `* OK [HIGHESTMODSEQ ${highest}] Highest\r\n` +
        `* 1 FETCH (MODSEQ (${modseqs[0]}))\r\n* 2 FETCH (MODSEQ (${modseqs[1]}))\r\nk1 OK FETCH completed\r\n`,
    );
    // With CONDSTORE on, STORE answers carry MODSEQ.
    expect(await client.command('k2', 'STORE 5 +FLAGS (\\Flagged)')).toMatch(
      /^\* 5 FETCH \(.*MODSEQ \(\d+\)/m,
    );
    client.close();
  });

  it('returns only messages changed since CHANGEDSINCE, with MODSEQ', async () => {
    const { mailbox, client } = await selected();
    const before = (await server.server.store.getMailboxById(mailbox.id))!.highestModseq;
    expect(await client.command('l1', 'STORE 2,4 +FLAGS.SILENT (\\Answered)')).toMatch(/^l1 OK/m);
    const after = await server.server.store.listMessages(mailbox.id);
    const highest = Math.max(...after.map((m) => m.modseq));
    expect(await client.command('l2', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${before})`)).toBe(
      `* OK [HIGHESTMODSEQ ${highest}] Highest\r\n` +
        `* 2 FETCH (FLAGS (\\Answered) MODSEQ (${after[1]!.modseq}))\r\n` +
        `* 4 FETCH (FLAGS (\\Answered) MODSEQ (${after[3]!.modseq}))\r\nl2 OK FETCH completed\r\n`,
    );
    expect(await client.command('l3', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${after[3]!.modseq})`)).toBe(
      'l3 OK UID FETCH completed\r\n',
    );
    expect(await client.command('l4', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)`)).toMatch(
      /^l4 BAD .*QRESYNC/m,
    );
    client.close();
  });
});

describe('FETCH message sets', () => {
  it('refuses sequence number 0, numbers beyond EXISTS and sets in an empty mailbox', async () => {
    const { client } = await selected();
    expect(await client.command('m1', 'FETCH 0 FLAGS')).toMatch(/^m1 BAD /m);
    expect(await client.command('m2', 'FETCH 6 FLAGS')).toMatch(/^m2 BAD .*Invalid messageset/m);
    expect(await client.command('m3', 'FETCH 4:9 FLAGS')).toMatch(/^m3 BAD .*Invalid messageset/m);
    expect(await client.command('m4', 'FETCH * UID')).toBe('* 5 FETCH (UID 5)\r\nm4 OK FETCH completed\r\n');
    // `$` before any SEARCH RETURN (SAVE) names no message (RFC 5182 2.1).
    expect(await client.command('m5', 'FETCH $ UID')).toBe('m5 OK FETCH completed\r\n');
    expect(await client.command('m6', 'FETCH 1 (FLAGS')).toMatch(/^m6 BAD /m);
    expect(await client.command('m7', 'FETCH 1 BODY[WHATEVER]')).toMatch(/^m7 BAD /m);
    expect(await client.command('s2', 'SELECT Archive')).toMatch(/^s2 OK/m);
    expect(await client.command('m8', 'FETCH 1:* FLAGS')).toMatch(/^m8 BAD .*Invalid messageset/m);
    expect(await client.command('m9', 'UID FETCH 1:* FLAGS')).toBe('m9 OK UID FETCH completed\r\n');
    client.close();
  });

  it('ignores missing UIDs and resolves * to the highest UID', async () => {
    const { client } = await selected();
    expect(await client.command('n1', 'UID FETCH 4:99,200 UID')).toBe(
      '* 4 FETCH (UID 4)\r\n* 5 FETCH (UID 5)\r\nn1 OK UID FETCH completed\r\n',
    );
    expect(await client.command('n2', 'UID FETCH 99:* UID')).toBe(
      '* 5 FETCH (UID 5)\r\nn2 OK UID FETCH completed\r\n',
    );
    expect(await client.command('n3', 'UID FETCH 6:4294967295 UID')).toBe('n3 OK UID FETCH completed\r\n');
    client.close();
  });

  it('skips a message expunged by another session and ends OK [EXPUNGEISSUED]', async () => {
    const { mailbox, client } = await selected();
    await server.server.store.deleteMessages(mailbox.id, [2]);
    expect(await client.command('o1', 'FETCH 1:3 (UID RFC822.SIZE)')).toBe(
      `* 1 FETCH (UID 1 RFC822.SIZE ${PLAIN.length})\r\n* 3 FETCH (UID 3 RFC822.SIZE ${FORWARD.length})\r\n` +
        'o1 OK [EXPUNGEISSUED] Some messages were already expunged\r\n',
    );
    // Sequence numbers stay put until a command that allows EXPUNGE responses.
    expect(await client.command('o2', 'FETCH 2 UID')).toBe('* 2 FETCH (UID 2)\r\no2 OK FETCH completed\r\n');
    expect(await client.command('o3', 'NOOP')).toMatch(/^\* 2 EXPUNGE\r\n/);
    client.close();
  });

  it('streams large mailboxes in batches', async () => {
    const account = await newAccount(server);
    const { store } = server.server;
    const inbox = (await store.getMailbox(account.userId, 'INBOX'))!;
    const count = 300;
    for (let i = 1; i <= count; i++) {
      await store.append(
        inbox.id,
        Buffer.from(`Subject: message ${i}\r\n\r\n${'body '.repeat(i % 50)}\r\n`),
        {
          flags: i % 3 === 0 ? ['\\Seen'] : [],
        },
      );
    }
    await store.claimRecent(inbox.id);
    const client = await connect(account);
    expect(await client.command('S', 'SELECT INBOX')).toMatch(/^S OK/m);
    const flags = await client.command('p1', 'FETCH 1:* (UID FLAGS)');
    const lines = flags.split('\r\n').filter((line) => line.startsWith('* '));
    expect(lines).toHaveLength(count);
    expect(lines[298]).toBe('* 299 FETCH (UID 299 FLAGS ())');
    const headers = await client.command('p2', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    expect(
      headers.match(/^\* \d+ FETCH \(UID \d+ BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}$/gm),
    ).toHaveLength(count);
    expect(headers).toContain(
      '* 300 FETCH (UID 300 BODY[HEADER.FIELDS (SUBJECT)] {24}\r\nSubject: message 300\r\n\r\n)',
    );
    const seen = await client.command('p3', 'FETCH 1:* BODY[]<0.8>');
    expect(seen.match(/FLAGS \(\\Seen\)/g)).toHaveLength(count - count / 3);
    expect((await store.listMessages(inbox.id)).every((m) => m.flags.includes('\\Seen'))).toBe(true);
    client.close();
  });
});

describe('imapflow', () => {
  it('fetches source, envelope and body structure, and downloads a part', async () => {
    const { account } = await corpusBox('INBOX');
    const client = await imapflowClient(account);
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const messages = [];
        for await (const message of client.fetch('1:*', {
          uid: true,
          flags: true,
          envelope: true,
          bodyStructure: true,
          source: true,
          size: true,
        })) {
          messages.push(message);
        }
        expect(messages.map((m) => m.uid)).toEqual([1, 2, 3, 4, 5]);
        expect(messages[0]!.source!.equals(PLAIN)).toBe(true);
        expect(messages[1]!.source!.equals(MULTIPART)).toBe(true);
        expect(messages[1]!.envelope!.subject).toBe('Grüße aus Köln');
        expect(messages[3]!.envelope!.from![0]).toMatchObject({
          name: 'André',
          address: 'andre@example.org',
        });
        expect(messages[2]!.bodyStructure!.childNodes!.map((node) => node.type)).toEqual([
          'text/plain',
          'message/rfc822',
        ]);
        expect(messages[4]!.size).toBe(CORPUS[4]!.length);
        const one = await client.fetchOne('3', { headers: ['subject'], bodyParts: ['2.1'] }, { uid: true });
        expect(one && one.headers!.toString()).toBe('Subject: Fwd: Minutes\r\n\r\n');
        expect(one && one.bodyParts!.get('2.1')!.toString()).toBe('Budget approved. Next meeting in July.');
        const { content } = await client.download('2', '2', { uid: true });
        const chunks: Buffer[] = [];
        for await (const chunk of content!) chunks.push(chunk as Buffer);
        expect(Buffer.concat(chunks).equals(ATTACHMENT)).toBe(true);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });
});
