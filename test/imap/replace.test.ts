/**
 * REPLACE and UID REPLACE (RFC 8508) on both store engines: the RFC's example (a draft replaced
 * in the selected mailbox: untagged OK [APPENDUID], EXISTS and EXPUNGE before the tagged OK),
 * UID REPLACE into another mailbox with QRESYNC (VANISHED), what another session sees, and the
 * refusals (read-only, unknown message, missing target), each leaving everything as it was.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, mailboxWith, newAccount } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

const DRAFT = Buffer.from(
  [
    'Date: Thu, 1 Jan 2015 00:05:00 -0500 (EST)',
    'From: Fritz Schmidt <fritz.ze@example.org>',
    'Subject: happy new year !!',
    'To: miss.mitzy@example.org',
    'Message-Id: <B238822388-0100000@example.org>',
    'MIME-Version: 1.0',
    'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
    '',
    'Just saw the best fireworks show. Wish you were here.',
    '',
  ].join('\r\n'),
);

async function replaceCommand(client: LineClient, tag: string, args: string, data: Buffer): Promise<string> {
  client.send(
    Buffer.concat([Buffer.from(`${tag} ${args} {${data.length}+}\r\n`), data, Buffer.from('\r\n')]),
  );
  return client.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`));
}

describe.each(['sqlite', 'mongodb'] as const)('REPLACE on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {};
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

  const uidsOf = async (mailboxId: string) =>
    (await server.server.store.listMessages(mailboxId)).map((message) => message.uid);

  it('is advertised', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* REPLACE( |\r\n)/m);
  });

  it("answers RFC 8508's example: a draft replaced in the selected mailbox", async () => {
    const account = await newAccount(server);
    const drafts = await mailboxWith(account, 'Drafts', [[], [], [], ['\\Draft']]);
    const client = await loggedIn(account);
    expect(await client.command('A002', 'SELECT Drafts')).toMatch(/^\* 4 EXISTS/m);
    const response = await replaceCommand(client, 'A003', 'REPLACE 4 Drafts (\\Seen \\Draft)', DRAFT);
    const lines = response.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(`* OK [APPENDUID ${drafts.uidValidity} 5] Replacement Message ID`);
    expect(lines.slice(1, -1).sort()).toEqual(['* 1 RECENT', '* 4 EXISTS', '* 4 EXPUNGE'].sort());
    expect(lines.indexOf('* 4 EXPUNGE')).toBeLessThan(lines.indexOf('* 4 EXISTS'));
    expect(lines.at(-1)).toBe('A003 OK REPLACE completed');
    expect(await uidsOf(drafts.id)).toEqual([1, 2, 3, 5]);
    expect(await client.command('A004', 'FETCH 4 (UID FLAGS RFC822.SIZE)')).toMatch(
      new RegExp(
        `^\\* 4 FETCH \\(UID 5 FLAGS \\(\\\\Seen \\\\Draft \\\\Recent\\) RFC822.SIZE ${DRAFT.length}\\)`,
        'm',
      ),
    );
  });

  it('UID REPLACE into another mailbox, with QRESYNC: VANISHED, and another session sees it', async () => {
    const account = await newAccount(server);
    const inbox = await mailboxWith(account, 'INBOX', [[], ['\\Draft']]);
    const sent = await mailboxWith(account, 'Sent', [[]]);
    const watcher = await loggedIn(account);
    expect(await watcher.command('w1', 'SELECT INBOX')).toMatch(/^\* 2 EXISTS/m);
    const client = await loggedIn(account);
    expect(await client.command('e', 'ENABLE QRESYNC')).toMatch(/^\* ENABLED QRESYNC/m);
    expect(await client.command('s', 'SELECT INBOX')).toMatch(/^\* 2 EXISTS/m);
    const response = await replaceCommand(client, 'r1', 'UID REPLACE 2 Sent', DRAFT);
    expect(response).toBe(
      `* OK [APPENDUID ${sent.uidValidity} 2] Replacement Message ID\r\n* VANISHED 2\r\nr1 OK UID REPLACE completed\r\n`,
    );
    expect(await uidsOf(inbox.id)).toEqual([1]);
    expect(await uidsOf(sent.id)).toEqual([1, 2]);
    expect(await watcher.command('w2', 'NOOP')).toBe('* 2 EXPUNGE\r\nw2 OK NOOP completed\r\n');
  });

  it('refuses, changing nothing: read-only, no such message, missing target, bad message', async () => {
    const account = await newAccount(server);
    const inbox = await mailboxWith(account, 'INBOX', [[], []]);
    const client = await loggedIn(account);
    expect(await client.command('x', 'EXAMINE INBOX')).toMatch(/^x OK \[READ-ONLY\]/m);
    expect(await replaceCommand(client, 'r1', 'REPLACE 1 INBOX', DRAFT)).toMatch(/^r1 NO \[READ-ONLY\] /m);
    expect(await client.command('s', 'SELECT INBOX')).toMatch(/^s OK \[READ-WRITE\]/m);
    expect(await replaceCommand(client, 'r2', 'REPLACE 3 INBOX', DRAFT)).toMatch(/^r2 BAD /m);
    expect(await replaceCommand(client, 'r3', 'UID REPLACE 9 INBOX', DRAFT)).toMatch(
      /^r3 NO \[NONEXISTENT\] /m,
    );
    expect(await replaceCommand(client, 'r4', 'REPLACE 1 Nope', DRAFT)).toMatch(/^r4 NO \[TRYCREATE\] /m);
    expect(await replaceCommand(client, 'r5', 'REPLACE 1 INBOX (\\Bogus)', DRAFT)).toMatch(/^r5 BAD /m);
    expect(await replaceCommand(client, 'r6', 'REPLACE 1:2 INBOX', DRAFT)).toMatch(/^r6 BAD /m);
    expect(await uidsOf(inbox.id)).toEqual([1, 2]);
    expect(await client.command('n', 'NOOP')).toBe('n OK NOOP completed\r\n');
  });
});
