/**
 * MULTIAPPEND (RFC 3502) on both store engines: the capability, the RFC's example (two messages in
 * one APPEND, answered with one APPENDUID set), all or nothing (messages that fit the quota one by
 * one but not together store nothing, and a session watching the mailbox with IDLE hears no
 * EXISTS for them), and a watching session learning of them only once all are stored.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

/** The two messages of RFC 3502's example, CRLF line ends as sent. */
const RFC_FIRST = Buffer.from(
  [
    'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)',
    'From: Fred Foobar <foobar@Blurdybloop.example.COM>',
    'Subject: afternoon meeting',
    'To: mooch@owatagu.example.net',
    'Message-Id: <B27397-0100000@Blurdybloop.example.COM>',
    'MIME-Version: 1.0',
    'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
    '',
    'Hello Joe, do you think we can meet at 3:30 tomorrow?',
    '',
  ].join('\r\n'),
);
const RFC_SECOND = Buffer.from(
  [
    'Date: Mon, 7 Feb 1994 22:43:04 -0800 (PST)',
    'From: Joe Mooch <mooch@OWATAGU.example.net>',
    'Subject: Re: afternoon meeting',
    'To: foobar@blurdybloop.example.com',
    'Message-Id: <a0434793874930@OWATAGU.example.net>',
    'MIME-Version: 1.0',
    'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
    '',
    '3:30 is fine with me.',
    '',
  ].join('\r\n'),
);

/** `tag APPEND mailbox` followed by each [args, bytes] as `args {n+}` + bytes, then CRLF. */
function multiAppend(tag: string, mailbox: string, messages: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [Buffer.from(`${tag} APPEND ${mailbox}`)];
  for (const [args, data] of messages) {
    parts.push(Buffer.from(` ${args}${args ? ' ' : ''}{${data.length}+}\r\n`), data);
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

async function send(client: LineClient, tag: string, data: Buffer): Promise<string> {
  client.send(data);
  return client.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`));
}

describe.each(['sqlite', 'mongodb'] as const)('MULTIAPPEND on %s', (engine) => {
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

  it('is advertised', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* MULTIAPPEND( |\r\n)/m);
  });

  it("stores RFC 3502's example and answers one APPENDUID set; a watcher hears both at once", async () => {
    const account = await newAccount(server);
    const { store } = server.server;
    await store.createMailbox(account.userId, 'saved-messages');
    const watcher = await loggedIn(account);
    expect(await watcher.command('w', 'SELECT saved-messages')).toMatch(/^\* 0 EXISTS/m);
    watcher.send('i IDLE\r\n');
    await watcher.readUntil(/^\+ /);
    const client = await loggedIn(account);
    const response = await send(
      client,
      'A003',
      multiAppend('A003', 'saved-messages', [
        ['(\\Seen)', RFC_FIRST],
        ['(\\Seen)', RFC_SECOND],
      ]),
    );
    const mailbox = (await store.getMailbox(account.userId, 'saved-messages'))!;
    expect(response).toBe(`A003 OK [APPENDUID ${mailbox.uidValidity} 1:2] APPEND completed\r\n`);
    // sqlite commits both journal entries at once: one EXISTS for both. MongoDB has both messages
    // stored before either is journaled, but may hand the two entries out in two reads.
    const heard = await watcher.readUntil(/^\* 2 EXISTS/);
    if (engine === 'sqlite') expect(heard).toBe('* 2 EXISTS\r\n');
    else expect(heard).toMatch(/^(\* 1 EXISTS\r\n(\* 1 RECENT\r\n)?)?\* 2 EXISTS\r\n$/);
    watcher.send('DONE\r\n');
    await watcher.readUntil(/^i OK/);
    const messages = await store.listMessages(mailbox.id);
    expect(messages.map((message) => [message.uid, message.flags])).toEqual([
      [1, ['\\Seen']],
      [2, ['\\Seen']],
    ]);
    expect((await store.readBlob(messages[1]!.blobId)).equals(RFC_SECOND)).toBe(true);
  });

  it('stores nothing when the messages fit the quota one by one but not together', async () => {
    const account = await newAccount(server, 5000);
    const watcher = await loggedIn(account);
    expect(await watcher.command('w', 'SELECT INBOX')).toMatch(/^\* 0 EXISTS/m);
    const client = await loggedIn(account);
    const big = (letter: string) => Buffer.from(`Subject: ${letter}\r\n\r\n${letter.repeat(3000)}\r\n`);
    expect(
      await send(
        client,
        'q1',
        multiAppend('q1', 'INBOX', [
          ['', big('a')],
          ['', big('b')],
        ]),
      ),
    ).toMatch(/^q1 NO \[OVERQUOTA\] /m);
    expect(await client.command('q2', 'STATUS INBOX (MESSAGES)')).toMatch(/^\* STATUS INBOX \(MESSAGES 0\)/m);
    expect(await watcher.command('w2', 'NOOP')).toBe('w2 OK NOOP completed\r\n');
    expect((await server.server.store.getQuota(account.userId)).usedBytes).toBe(0);
    // One of them alone fits.
    expect(await send(client, 'q3', multiAppend('q3', 'INBOX', [['', big('c')]]))).toMatch(
      /^q3 OK \[APPENDUID \d+ 1\]/m,
    );
  });

  it('refuses the whole command when one message is bad, before storing any', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    const good = Buffer.from('Subject: good\r\n\r\nx\r\n');
    const response = await send(
      client,
      'b1',
      multiAppend('b1', 'INBOX', [
        ['', good],
        ['(\\Bogus)', good],
      ]),
    );
    expect(response).toMatch(/^b1 BAD /m);
    expect(await client.command('b2', 'STATUS INBOX (MESSAGES)')).toMatch(/\(MESSAGES 0\)/);
    // To a mailbox that does not exist: TRYCREATE, nothing anywhere.
    expect(
      await send(
        client,
        'b3',
        multiAppend('b3', 'Nope', [
          ['', good],
          ['', good],
        ]),
      ),
    ).toMatch(/^b3 NO \[TRYCREATE\] /m);
  });
});
