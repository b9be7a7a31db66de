/**
 * PREVIEW (RFC 8970): FETCH PREVIEW and PREVIEW (LAZY) over real messages: a plain text cut to 256
 * characters with white space collapsed, the text/plain alternative preferred, HTML stripped of
 * tags, styles and entities, a message with only an attachment previewed as "", and a bad
 * modifier refused with BAD. The rule is in server/mime/preview.ts.
 *
 * Stored at delivery (RFC 8970 3: computed once), on both engines: the preview kept with the body
 * after an IMAP APPEND and after an LMTP delivery is what FETCH answers, and FETCH reads it (a
 * stored value changed behind the server's back is what comes out); a body stored before previews
 * were kept gets its preview computed at the first FETCH and saved.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../server/store/sqlite/database.ts';
import { closeClients, loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => closeClients());
afterAll(() => server.stop());

/** The stored preview of a body, read or changed in the engine's own database. */
interface PreviewColumn {
  read(blobId: string): Promise<string | null>;
  write(blobId: string, preview: string | null): Promise<void>;
}

function sqlitePreviews(dataDir: string): PreviewColumn {
  const open = () => new Database(path.join(dataDir, DATABASE_FILE));
  return {
    async read(blobId) {
      const db = open();
      try {
        const row = db.prepare('SELECT preview FROM blobs WHERE hash = ?').get(blobId) as {
          preview: string | null;
        };
        return row.preview;
      } finally {
        db.close();
      }
    },
    async write(blobId, preview) {
      const db = open();
      try {
        db.prepare('UPDATE blobs SET preview = ? WHERE hash = ?').run(preview, blobId);
      } finally {
        db.close();
      }
    },
  };
}

function mongoPreviews(client: MongoClient): PreviewColumn {
  const blobs = client.db().collection<{ _id: string; preview?: string }>('blobs');
  return {
    async read(blobId) {
      return (await blobs.findOne({ _id: blobId }))?.preview ?? null;
    },
    async write(blobId, preview) {
      const update = preview === null ? { $unset: { preview: '' as const } } : { $set: { preview } };
      await blobs.updateOne({ _id: blobId }, update);
    },
  };
}

describe.each(['sqlite', 'mongodb'] as const)('PREVIEW stored at delivery on %s', (engine) => {
  let stored: TestServer;
  let mongo: MongoStandIn | null = null;
  let direct: MongoClient | null = null;
  let column: PreviewColumn;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {};
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
      direct = new MongoClient(env.MALLARD_STORE_MONGODB_URI);
      column = mongoPreviews(direct);
    }
    stored = await startTestServer(env);
    if (engine === 'sqlite') column = sqlitePreviews(stored.config.data_dir);
  }, 120_000);
  afterAll(async () => {
    await direct?.close();
    await stored?.stop();
    await mongo?.stop();
  }, 60_000);

  it('keeps the preview with the body from APPEND and LMTP, and FETCH reads it', async () => {
    const account = await newAccount(stored);
    const client = await loggedIn(account);
    const appended = MESSAGES[2]!;
    client.send(
      Buffer.concat([Buffer.from(`a APPEND INBOX {${appended.length}+}\r\n`), appended, Buffer.from('\r\n')]),
    );
    expect(await client.readUntil(/^a (OK|NO|BAD)/)).toMatch(/^a OK /m);
    await lmtpDeliver(stored.lmtpPort, account.username, MESSAGES[0]!);
    await client.command('s', 'EXAMINE INBOX');
    const [first, second] = await stored.server.store.listMessages(
      (await stored.server.store.getMailbox(account.userId, 'INBOX'))!.id,
    );
    expect(await column.read(first!.blobId)).toBe('Fish & chips <today>!');
    const long = `${'word '.repeat(60)}second paragraph ${'x'.repeat(300)}`.slice(0, 256);
    expect(await column.read(second!.blobId)).toBe(long);
    // Changed behind the server's back: FETCH answers what is stored, it does not compute.
    await column.write(first!.blobId, 'as stored');
    expect(await client.command('f', 'FETCH 1:2 (PREVIEW)')).toBe(
      `* 1 FETCH (PREVIEW "as stored")\r\n* 2 FETCH (PREVIEW "${long}")\r\nf OK FETCH completed\r\n`,
    );
  });

  it('computes the preview of a body stored before previews at its first FETCH, and keeps it', async () => {
    const account = await newAccount(stored);
    const inbox = (await stored.server.store.getMailbox(account.userId, 'INBOX'))!;
    await stored.server.store.append(inbox.id, MESSAGES[1]!);
    const [message] = await stored.server.store.listMessages(inbox.id);
    await column.write(message!.blobId, null);
    expect(await column.read(message!.blobId)).toBeNull();
    const client = await loggedIn(account);
    await client.command('s', 'EXAMINE INBOX');
    const cafe = Buffer.from('Café at noon?').toString('latin1');
    expect(await client.command('f', 'FETCH 1 PREVIEW')).toBe(
      `* 1 FETCH (PREVIEW {${cafe.length}}\r\n${cafe})\r\nf OK FETCH completed\r\n`,
    );
    expect(await column.read(message!.blobId)).toBe('Café at noon?');
  });
});

/** Delivers one message over LMTP (the path SMTP-in and Postfix use). */
async function lmtpDeliver(port: number, recipient: string, raw: Buffer): Promise<void> {
  const lmtp = await LineClient.connect(port);
  try {
    await lmtp.readUntil(/^220 /);
    for (const [line, reply] of [
      ['LHLO test.example', /^250 /],
      ['MAIL FROM:<sender@example.net>', /^250 /],
      [`RCPT TO:<${recipient}>`, /^250 /],
      ['DATA', /^354 /],
    ] as const) {
      lmtp.send(`${line}\r\n`);
      await lmtp.readUntil(reply);
    }
    lmtp.send(Buffer.concat([raw, Buffer.from('.\r\n')]));
    expect(await lmtp.readUntil(/^\d{3} /)).toMatch(/^250 /m);
    lmtp.send('QUIT\r\n');
  } finally {
    lmtp.close();
  }
}

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

const LONG = `${'word '.repeat(60)}\r\n\r\nsecond   paragraph\r\n${'x'.repeat(300)}`;
const MESSAGES = [
  crlf(['Subject: plain', '', LONG, '']),
  crlf([
    'Subject: alternative',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary=b',
    '',
    '--b',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>HTML version</p>',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Caf=C3=A9 at noon?',
    '--b--',
    '',
  ]),
  crlf([
    'Subject: html',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><head><style>p { color: red }</style></head><body><!-- hidden -->',
    '<p>Fish &amp; chips &lt;today&gt;&#33;</p><script>alert(1)</script></body></html>',
    '',
  ]),
  crlf([
    'Subject: attachment only',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary=m',
    '',
    '--m',
    'Content-Type: application/pdf',
    'Content-Disposition: attachment; filename=a.pdf',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0=',
    '--m--',
    '',
  ]),
];

describe('PREVIEW', () => {
  it('previews the first text, as RFC 8970 asks', async () => {
    const account = await newAccount(server);
    const inbox = (await server.server.store.getMailbox(account.userId, 'INBOX'))!;
    for (const raw of MESSAGES) await server.server.store.append(inbox.id, raw);
    const client = await loggedIn(account);
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* PREVIEW( |\r\n)/m);
    await client.command('s', 'EXAMINE INBOX');
    const expected = `${'word '.repeat(60)}second paragraph ${'x'.repeat(300)}`.slice(0, 256);
    expect(await client.command('A1', 'FETCH 1 (PREVIEW)')).toBe(
      `* 1 FETCH (PREVIEW "${expected}")\r\nA1 OK FETCH completed\r\n`,
    );
    expect(await client.command('A2', 'FETCH 1 (PREVIEW (LAZY))')).toBe(
      `* 1 FETCH (PREVIEW "${expected}")\r\nA2 OK FETCH completed\r\n`,
    );
    const cafe = Buffer.from('Café at noon?').toString('latin1');
    expect(await client.command('A3', 'FETCH 2 PREVIEW')).toBe(
      `* 2 FETCH (PREVIEW {${cafe.length}}\r\n${cafe})\r\nA3 OK FETCH completed\r\n`,
    );
    expect(await client.command('A4', 'FETCH 3:4 (UID PREVIEW)')).toBe(
      '* 3 FETCH (UID 3 PREVIEW "Fish & chips <today>!")\r\n* 4 FETCH (UID 4 PREVIEW "")\r\nA4 OK FETCH completed\r\n',
    );
    expect(await client.command('A5', 'FETCH 1 (PREVIEW (FUZZY))')).toMatch(/^A5 BAD /m);
  });
});
