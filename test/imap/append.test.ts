/**
 * Transcripts for APPEND (RFC 3501 6.3.11) with MULTIAPPEND (RFC 3502), APPENDUID (RFC 4315),
 * APPENDLIMIT (RFC 7889) and the UTF8 form of RFC 6855; then imapflow appending and fetching back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imapflowClient, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const LIMIT = 64 * 1024;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ MALLARD_LIMITS_MAX_MESSAGE_SIZE: String(LIMIT) });
});
afterAll(() => server.stop());

/** `tag APPEND args {n+}` + the bytes, as one Buffer (bytes kept exactly). */
function appendCommand(tag: string, args: string, data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`${tag} APPEND ${args} {${data.length}+}\r\n`),
    data,
    Buffer.from('\r\n'),
  ]);
}

async function send(client: LineClient, tag: string, data: Buffer): Promise<string> {
  client.send(data);
  return client.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`));
}

async function stored(account: Account, path: string) {
  const { store } = server.server;
  const mailbox = (await store.getMailbox(account.userId, path))!;
  const messages = await store.listMessages(mailbox.id);
  return {
    mailbox,
    messages,
    blob: (uid: number) => store.readBlob(messages.find((m) => m.uid === uid)!.blobId),
  };
}

describe('APPEND', () => {
  it('stores the bytes exactly, with flags and internal date, and answers APPENDUID', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    // 8-bit bytes, a lone CR and no final newline are kept; the one bare LF is stored as CRLF.
    const appended = Buffer.concat([
      Buffer.from('Subject: caf\xe9\nX-Odd: a\rb\r\n\r\nbody\xff\xfe', 'latin1'),
      Buffer.from([0x80, 0x81]),
    ]);
    const raw = Buffer.concat([
      Buffer.from('Subject: caf\xe9\r\nX-Odd: a\rb\r\n\r\nbody\xff\xfe', 'latin1'),
      Buffer.from([0x80, 0x81]),
    ]);
    const mailbox = (await server.server.store.getMailbox(account.userId, 'Drafts'))!;
    const response = await send(
      client,
      'a1',
      appendCommand('a1', 'Drafts (\\Draft \\seen $Label) "05-Mar-2021 10:20:30 +0100"', appended),
    );
    expect(response).toBe(`a1 OK [APPENDUID ${mailbox.uidValidity} 1] APPEND completed\r\n`);
    const { messages, blob } = await stored(account, 'Drafts');
    expect(messages).toHaveLength(1);
    expect(messages[0]!.flags.sort()).toEqual(['$Label', '\\Draft', '\\Seen']);
    expect(messages[0]!.internalDate.toISOString()).toBe('2021-03-05T09:20:30.000Z');
    expect(messages[0]!.size).toBe(raw.length);
    expect((await blob(1)).equals(raw)).toBe(true);
    client.close();
  });

  it('takes a synchronising literal after the continuation', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    client.send('s1 APPEND INBOX {13}\r\n');
    expect(await client.readUntil(/^\+ /)).toMatch(/^\+ /);
    client.send('Subject: x\r\n\r\n');
    expect(await client.readUntil(/^s1 /)).toMatch(/^s1 OK \[APPENDUID \d+ 1\] /);
    client.close();
  });

  it('appends several messages at once (MULTIAPPEND) with a UID set', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    const one = Buffer.from('Subject: one\r\n\r\n1\r\n');
    const two = Buffer.from('Subject: two\r\n\r\n2\r\n');
    const text = Buffer.concat([
      Buffer.from(`m1 APPEND INBOX (\\Seen) {${one.length}+}\r\n`),
      one,
      Buffer.from(` "01-Jan-2020 00:00:00 +0000" {${two.length}+}\r\n`),
      two,
      Buffer.from('\r\n'),
    ]);
    expect(await send(client, 'm1', text)).toMatch(/^m1 OK \[APPENDUID \d+ 1:2\] APPEND completed\r\n$/);
    const { messages, blob } = await stored(account, 'INBOX');
    expect(messages.map((m) => m.flags)).toEqual([['\\Seen'], []]);
    expect((await blob(2)).equals(two)).toBe(true);
    client.close();
  });

  it('reports EXISTS when appending to the selected mailbox', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('s1', 'SELECT INBOX')).toMatch(/\* 0 EXISTS/);
    const response = await send(
      client,
      'a1',
      appendCommand('a1', 'INBOX', Buffer.from('Subject: s\r\n\r\nx\r\n')),
    );
    expect(response).toMatch(
      /^\* 1 EXISTS\r\n\* 1 RECENT\r\na1 OK \[APPENDUID \d+ 1\] APPEND completed\r\n$/,
    );
    expect(await client.command('f1', 'FETCH 1 FLAGS')).toBe(
      '* 1 FETCH (FLAGS (\\Recent))\r\nf1 OK FETCH completed\r\n',
    );
    client.close();
  });

  it('asks to CREATE a missing target with TRYCREATE', async () => {
    const account = await newAccount(server);
    await server.server.store.createMailbox(account.userId, 'Gone/Child');
    await server.server.store.deleteMailbox(account.userId, 'Gone');
    const client = await loggedIn(account);
    const message = Buffer.from('Subject: t\r\n\r\nx\r\n');
    expect(await send(client, 'a1', appendCommand('a1', 'Nowhere', message))).toMatch(
      /^a1 NO \[TRYCREATE\] /,
    );
    expect(await send(client, 'a2', appendCommand('a2', 'Gone', message))).toMatch(/^a2 NO \[TRYCREATE\] /);
    expect(await client.command('c1', 'CREATE Nowhere')).toMatch(/^c1 OK/m);
    expect(await send(client, 'a3', appendCommand('a3', 'Nowhere', message))).toMatch(/^a3 OK \[APPENDUID /);
    client.close();
  });

  it('ignores \\Recent, refuses unknown system flags, and keeps keywords', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    const message = Buffer.from('Subject: f\r\n\r\nx\r\n');
    expect(await send(client, 'a1', appendCommand('a1', 'INBOX (\\Recent \\Flagged)', message))).toMatch(
      /^a1 OK/,
    );
    expect(await send(client, 'a2', appendCommand('a2', 'INBOX (\\Bogus)', message))).toMatch(
      /^a2 BAD Invalid system flag \\Bogus/,
    );
    expect(await send(client, 'a3', appendCommand('a3', 'INBOX (\\*)', message))).toMatch(/^a3 BAD /);
    const { messages } = await stored(account, 'INBOX');
    expect(messages.map((m) => m.flags)).toEqual([['\\Flagged']]);
    client.close();
  });

  it('refuses empty, oversized and NUL-carrying messages, and stores nothing of a bad batch', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    expect(await send(client, 'e1', appendCommand('e1', 'INBOX', Buffer.alloc(0)))).toMatch(/^e1 NO /);
    client.send(`t1 APPEND INBOX {${LIMIT + 1}}\r\n`);
    expect(await client.readUntil(/^t1 /)).toMatch(/^t1 NO \[TOOBIG\] /);
    const nul = Buffer.from('Subject: n\r\n\r\na\0b\r\n');
    expect(await send(client, 'n1', appendCommand('n1', 'INBOX', nul))).toMatch(/^n1 BAD /);
    // A literal8 may carry NUL bytes (RFC 3516): stored as they are.
    const binary = Buffer.concat([
      Buffer.from(`n2 APPEND INBOX ~{${nul.length}+}\r\n`),
      nul,
      Buffer.from('\r\n'),
    ]);
    expect(await send(client, 'n2', binary)).toMatch(/^n2 OK \[APPENDUID \d+ 1\]/);
    // MULTIAPPEND with an empty second message: the first is not stored either.
    const good = Buffer.from('Subject: g\r\n\r\nx\r\n');
    const batch = Buffer.concat([
      Buffer.from(`b1 APPEND INBOX {${good.length}+}\r\n`),
      good,
      Buffer.from(' {0+}\r\n\r\n'),
    ]);
    expect(await send(client, 'b1', batch)).toMatch(/^b1 NO /);
    expect((await stored(account, 'INBOX')).messages).toHaveLength(1);
    expect(await client.command('z1', 'NOOP')).toMatch(/^z1 OK/m);
    client.close();
  });

  it('advertises its limit in STATUS APPENDLIMIT and CAPABILITY', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('s1', 'STATUS INBOX (APPENDLIMIT)')).toBe(
      `* STATUS INBOX (APPENDLIMIT ${LIMIT})\r\ns1 OK STATUS completed\r\n`,
    );
    expect(await client.command('c1', 'CAPABILITY')).toContain(`APPENDLIMIT=${LIMIT}`);
    client.close();
  });

  it('accepts the UTF8 form only after ENABLE UTF8=ACCEPT', async () => {
    const client = await loggedIn(await newAccount(server));
    const message = Buffer.from('Subject: Grüße\r\n\r\nx\r\n');
    const utf8 = (tag: string) =>
      Buffer.concat([
        Buffer.from(`${tag} APPEND INBOX UTF8 (~{${message.length}+}\r\n`),
        message,
        Buffer.from(')\r\n'),
      ]);
    expect(await send(client, 'u1', utf8('u1'))).toMatch(/^u1 BAD /);
    expect(await client.command('e1', 'ENABLE UTF8=ACCEPT')).toMatch(/^e1 OK/m);
    expect(await send(client, 'u2', utf8('u2'))).toMatch(/^u2 OK \[APPENDUID \d+ 1\]/);
    client.close();
  });

  it('answers syntax errors with BAD and needs a login', async () => {
    const client = await loggedIn(await newAccount(server));
    const message = Buffer.from('Subject: d\r\n\r\nx\r\n');
    expect(
      await send(client, 'd1', appendCommand('d1', 'INBOX "31-Feb-2020 00:00:00 +0000"', message)),
    ).toMatch(/^d1 BAD /);
    expect(await client.command('d2', 'APPEND INBOX')).toMatch(/^d2 BAD /m);
    expect(await client.command('d3', 'APPEND INBOX (\\Seen) "not a literal"')).toMatch(/^d3 BAD /m);
    client.close();
    const anonymous = await LineClient.connect(server.imapPort);
    await anonymous.readUntil(/^\* OK/);
    expect(await send(anonymous, 'x1', appendCommand('x1', 'INBOX', message))).toMatch(/^x1 BAD /);
    anonymous.close();
  });
});

describe('imapflow', () => {
  it('appends a message and fetches the same bytes back', async () => {
    const account = await newAccount(server);
    const client = await imapflowClient(account);
    try {
      const raw = Buffer.from('From: a@example.test\r\nSubject: round trip\r\n\r\nHello, world!\r\n');
      const date = new Date('2022-02-02T12:00:00Z');
      const result = await client.append('INBOX', raw, ['\\Seen', 'project'], date);
      expect(result).toMatchObject({ destination: 'INBOX', uid: 1 });
      await client.mailboxOpen('INBOX');
      const message = await client.fetchOne(
        '1',
        { source: true, flags: true, internalDate: true, uid: true },
        { uid: true },
      );
      expect(message).toBeTruthy();
      if (!message) return;
      expect(message.source?.equals(raw)).toBe(true);
      // No \Recent: imapflow turns IMAP4rev2 on (RFC 9051 has no \Recent).
      expect([...(message.flags ?? [])].sort()).toEqual(['\\Seen', 'project']);
      expect(new Date(message.internalDate!).getTime()).toBe(date.getTime());
    } finally {
      await client.logout();
    }
  });
});
