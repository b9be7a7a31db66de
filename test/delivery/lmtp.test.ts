/**
 * LMTP (RFC 2033) over real TCP against a real server: LHLO, recipient checks at RCPT, one reply per
 * recipient after DATA (delivered, over quota, temporary failure), size limits, bytes stored and read
 * back exactly, with raw transcripts, Python's smtplib.LMTP and Debian's swaks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../../server/store/errors.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  fetchOverImap,
  inboxCount,
  newestInInbox,
  python,
  retrOverPop3,
  SmtpLineClient,
  splitStored,
  swaks,
  trickyMessage,
} from './clients.ts';

const LIMIT = 100_000;
let server: TestServer;
let alice: string;
let bob: string;

beforeAll(async () => {
  server = await startTestServer({ MALLARD_LIMITS_MAX_MESSAGE_SIZE: String(LIMIT) });
  alice = await server.addUser('alice@example.test', 'secret');
  bob = await server.addUser('bob@example.test', 'secret');
  await server.server.store.addAddress(bob, 'robert@example.test');
  // Room for about one small message: the first fills it, the second is over quota.
  await server.addUser('full@example.test', 'secret', 400);
});
afterAll(() => server.stop());
afterEach(() => {
  vi.restoreAllMocks();
});

function message(subject: string, body = 'Hello.'): Buffer {
  return Buffer.from(
    `From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n\r\n${body}\r\n`,
  );
}

async function session(): Promise<SmtpLineClient> {
  const { client, greeting } = await SmtpLineClient.connect(server.lmtpPort);
  expect(greeting).toMatch(/^220 localhost LMTP Mallard\r\n$/);
  expect(await client.command('LHLO client.test')).toMatch(/^250 /m);
  return client;
}

describe('LMTP session', () => {
  it('answers LHLO with its extensions and no AUTH, and refuses HELO/EHLO', async () => {
    const { client } = await SmtpLineClient.connect(server.lmtpPort);
    expect(await client.command('EHLO client.test')).toMatch(/^500 /);
    const lhlo = await client.command('LHLO client.test');
    for (const extension of [
      'PIPELINING',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'STARTTLS',
      `SIZE ${LIMIT}`,
    ]) {
      expect(lhlo).toMatch(new RegExp(`^250[- ]${extension}\r$`, 'm'));
    }
    expect(lhlo).not.toMatch(/AUTH/);
    expect(await client.command('AUTH PLAIN AGFsaWNlAHNlY3JldA==')).toMatch(/^5\d\d /);
    expect(await client.command('QUIT')).toMatch(/^221 /);
    client.close();
  });

  it('gives one reply per recipient: delivered, over quota, temporary failure; unknown refused at RCPT', async () => {
    const before = server.server.lmtp.deliveredCount;
    // Fill full@ first so that it is over quota at DATA (it is under quota at RCPT).
    await server.server.store.deliver('full@example.test', message('filler', 'x'.repeat(300)));
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 2\.1\.0 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 2\.1\.5 /);
    expect(await client.command('RCPT TO:<nobody@example.test>')).toBe(
      '550 5.1.1 <nobody@example.test>: User unknown\r\n',
    );
    expect(await client.command('RCPT TO:<full@example.test>')).toMatch(/^250 2\.1\.5 /);
    expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 2\.1\.5 /);
    // The store fails temporarily for bob only.
    const store = server.server.store;
    const deliver = store.deliver.bind(store);
    vi.spyOn(store, 'deliver').mockImplementation((recipient, raw, options) =>
      recipient === 'bob@example.test'
        ? Promise.reject(new StoreError('UNAVAILABLE', 'database busy'))
        : deliver(recipient, raw, options),
    );
    const replies = await client.data(message('mixed', 'y'.repeat(200)), 3);
    expect(replies[0]).toMatch(/^250 2\.0\.0 <alice@example\.test> Saved as UID \d+\r\n$/);
    expect(replies[1]).toBe('552 5.2.2 <full@example.test>: Mailbox full\r\n');
    expect(replies[2]).toMatch(
      /^451 4\.3\.0 <bob@example\.test>: Temporary local problem, please try again later \(ref [0-9a-f]+\)\r\n$/,
    );
    expect(server.server.lmtp.deliveredCount).toBe(before + 1);
    // The session goes on: a second transaction works.
    vi.restoreAllMocks();
    expect(await client.command('MAIL FROM:<>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 /);
    expect(await client.data(message('retry'))).toEqual([
      expect.stringMatching(/^250 2\.0\.0 <bob@example\.test> Saved as UID \d+\r\n$/),
    ]);
    expect(await client.command('QUIT')).toMatch(/^221 /);
    client.close();
  });

  it('refuses at RCPT a recipient already over quota, or over it with the declared SIZE', async () => {
    const over = await server.addUser('over@example.test', 'secret', 10_000);
    await server.server.store.deliver('over@example.test', message('filler'));
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test> SIZE=20000')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<over@example.test>')).toBe(
      '552 5.2.2 <over@example.test>: Mailbox full\r\n',
    );
    expect(await client.command('RSET')).toMatch(/^250 /);
    expect(await client.command('MAIL FROM:<sender@remote.test> SIZE=200')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<over@example.test>')).toMatch(/^250 /);
    expect(await client.command('RSET')).toMatch(/^250 /);
    // The quota lowered below what is used: full without any SIZE.
    await server.server.store.updateUser(over, { quotaBytes: 10 });
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<over@example.test>')).toBe(
      '552 5.2.2 <over@example.test>: Mailbox full\r\n',
    );
    client.close();
  });

  it('answers 451 4.3.0 at RCPT when the store is unavailable', async () => {
    vi.spyOn(server.server.store, 'resolveRecipient').mockRejectedValue(
      new StoreError('UNAVAILABLE', 'down'),
    );
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(
      /^451 4\.3\.0 <alice@example\.test>: Temporary local problem, please try again later \(ref [0-9a-f]+\)\r\n$/,
    );
    client.close();
  });

  it('delivers to each address of one user once', async () => {
    const before = await inboxCount(server, bob);
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<robert@example.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<bob+lists@example.test>')).toMatch(/^250 /);
    const replies = await client.data(message('aliases'), 3);
    const uids = replies.map((reply) => /^250 2\.0\.0 <[^>]+> Saved as UID (\d+)\r\n$/.exec(reply)?.[1]);
    expect(uids[0]).toBeDefined();
    expect(new Set(uids)).toEqual(new Set([uids[0]]));
    expect(await inboxCount(server, bob)).toBe(before + 1);
    client.close();
  });
});

describe('LMTP size limit', () => {
  it('refuses a declared SIZE over the limit with 552 5.3.4', async () => {
    const client = await session();
    expect(await client.command(`MAIL FROM:<sender@remote.test> SIZE=${LIMIT + 1}`)).toMatch(/^552 5\.3\.4 /);
    client.close();
  });

  it('refuses a message over the limit with 552 5.3.4 for every recipient, and stores nothing', async () => {
    const before = await inboxCount(server, alice);
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 /);
    const replies = await client.data(message('big', `${'z'.repeat(999)}\r\n`.repeat(LIMIT / 1000 + 5)), 2);
    expect(replies).toEqual([expect.stringMatching(/^552 5\.3\.4 /), expect.stringMatching(/^552 5\.3\.4 /)]);
    expect(await inboxCount(server, alice)).toBe(before);
    // Still usable afterwards.
    expect(await client.command('NOOP')).toMatch(/^250 /);
    client.close();
  });
});

describe('LMTP bytes', () => {
  it('stores the trace header fields plus the message exactly as received, and IMAP and POP3 return it byte for byte', async () => {
    const raw = trickyMessage('exact over lmtp');
    const client = await session();
    expect(await client.command('MAIL FROM:<sender@remote.test> BODY=8BITMIME')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    const [reply] = await client.data(raw);
    const uid = Number(/Saved as UID (\d+)/.exec(reply!)?.[1]);
    expect(uid).toBeGreaterThan(0);
    client.close();
    const stored = await newestInInbox(server, alice);
    const { header, rest } = splitStored(stored, raw);
    expect(rest.equals(raw)).toBe(true);
    expect(header).toMatch(
      /^Return-Path: <sender@remote\.test>\r\nDelivered-To: alice@example\.test\r\nReceived: /,
    );
    expect((await fetchOverImap(server.imapPort, 'alice@example.test', 'secret', uid)).equals(stored)).toBe(
      true,
    );
    const count = await inboxCount(server, alice);
    expect((await retrOverPop3(server.pop3Port, 'alice@example.test', 'secret', count)).equals(stored)).toBe(
      true,
    );
  });

  it('stores bare LF line ends as CRLF, so IMAP and POP3 send the same bytes with the same size', async () => {
    const raw = Buffer.from('Subject: lf\r\n\r\nbare\nlf and a CR-less end\nnext\r\n');
    const crlf = Buffer.from(raw.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'), 'latin1');
    const client = await session();
    await client.command('MAIL FROM:<sender@remote.test>');
    await client.command('RCPT TO:<alice@example.test>');
    expect(await client.data(raw)).toEqual([expect.stringMatching(/^250 /)]);
    client.close();
    const stored = await newestInInbox(server, alice);
    expect(stored.toString('latin1')).toContain('\r\n\r\nbare\r\nlf and a CR-less end\r\nnext\r\n');
    expect(stored.includes(crlf)).toBe(true);
    expect(/(?<!\r)\n/.test(stored.toString('latin1'))).toBe(false);
    const inbox = (await server.server.store.getMailbox(alice, 'INBOX'))!;
    const summary = (await server.server.store.listMessages(inbox.id)).at(-1)!;
    expect(summary.size).toBe(stored.length);
    const overImap = await fetchOverImap(server.imapPort, 'alice@example.test', 'secret', summary.uid);
    const count = await inboxCount(server, alice);
    const overPop3 = await retrOverPop3(server.pop3Port, 'alice@example.test', 'secret', count);
    expect(overImap.equals(stored)).toBe(true);
    expect(overPop3.equals(stored)).toBe(true);
  });
});

describe('LMTP clients', () => {
  const lmtpScript = `
import json, smtplib, sys
a = json.load(sys.stdin)
c = smtplib.LMTP('127.0.0.1', a['port'], local_hostname='client.test')
c.ehlo('client.test')
c.mail(a['from'])
rcpt = [c.rcpt(r) for r in a['to']]
accepted = [r for r, (code, _) in zip(a['to'], rcpt) if code == 250]
code, msg = c.data(a['message'].encode('latin-1'))
replies = [[code, msg.decode()]] + [[x, y.decode()] for x, y in (c.getreply() for _ in accepted[1:])]
c.quit()
print(json.dumps({'rcpt': [[x, y.decode()] for x, y in rcpt], 'data': replies}))
`;

  it("Python's smtplib.LMTP gets per-recipient replies", async () => {
    const raw = trickyMessage('smtplib lmtp');
    const result = await python<{ rcpt: Array<[number, string]>; data: Array<[number, string]> }>(
      lmtpScript,
      {
        port: server.lmtpPort,
        from: 'sender@remote.test',
        to: ['alice@example.test', 'ghost@example.test', 'bob@example.test'],
        message: raw.toString('latin1'),
      },
    );
    expect(result.rcpt.map(([code]) => code)).toEqual([250, 550, 250]);
    expect(result.rcpt[1]![1]).toBe('5.1.1 <ghost@example.test>: User unknown');
    expect(result.data.map(([code]) => code)).toEqual([250, 250]);
    expect(result.data[0]![1]).toMatch(/^2\.0\.0 <alice@example\.test> Saved as UID \d+$/);
    expect(result.data[1]![1]).toMatch(/^2\.0\.0 <bob@example\.test> Saved as UID \d+$/);
    expect(splitStored(await newestInInbox(server, alice), raw).rest.equals(raw)).toBe(true);
  });

  it('swaks delivers over LMTP and sees the unknown recipient refused', async () => {
    const { code, output } = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(server.lmtpPort),
      '--protocol',
      'LMTP',
      '--from',
      'sender@remote.test',
      '--to',
      'alice@example.test,ghost@example.test,bob@example.test',
    ]);
    expect(output).toMatch(/^<- {2}220 localhost LMTP Mallard$/m);
    expect(output).toMatch(/^<\*\* 550 5\.1\.1 <ghost@example\.test>: User unknown$/m);
    expect(output).toMatch(/^<- {2}250 2\.0\.0 <alice@example\.test> Saved as UID \d+$/m);
    expect(output).toMatch(/^<- {2}250 2\.0\.0 <bob@example\.test> Saved as UID \d+$/m);
    expect(code).not.toBe(-1);
  });
});
