/**
 * SMTP smuggling (CVE-2023-51766 and its family, SEC Consult's published payloads): a message
 * whose body holds an end-of-data look-alike with bare LF or bare CR, followed by a second SMTP
 * transaction, must stay ONE message, over SMTP and over LMTP. Only <CRLF>.<CRLF> ends DATA
 * (RFC 5321 4.1.1.4). Each payload goes out in one write, so the server sees the fake end, the
 * smuggled commands and the real end together; then NOOP checks that no smuggled command was run
 * (its reply would come before NOOP's). With inbound.bare_lf "normalize" (the default) the one
 * message is stored with CRLF line ends; with "refuse" a bare LF gets 554 5.6.0 on SMTP (LMTP still takes it) and nothing is
 * stored. Debian's Postfix gets the same payloads, for comparison.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpLineClient } from '../delivery/clients.ts';
import { startPostfix, type Postfix } from '../helpers/postfix.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { storedIn } from './spam-support.ts';

/** Fake ends of data, each followed by a smuggled transaction. */
const FAKE_ENDS: Array<[string, string]> = [
  ['<LF>.<LF>', '\n.\n'],
  ['<LF>.<CR><LF>', '\n.\r\n'],
  ['<CR><LF>.<LF>', '\r\n.\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<CR>.<CR><LF>', '\r.\r\n'],
  ['<CR><LF>.<CR>', '\r\n.\r'],
  ['<LF>.<CR>', '\n.\r'],
  ['<CR><LF><NUL>.<CR><LF>', '\r\n\0.\r\n'],
  ['<CR><LF>.<SP><CR><LF>', '\r\n. \r\n'],
];

let server: TestServer;
let refusing: TestServer;
let alice: string;
let bob: string;

beforeAll(async () => {
  server = await startTestServer({ MALLARD_SPAM_ENABLED: 'false' });
  alice = await server.addUser('alice', 'secret');
  bob = await server.addUser('bob', 'secret');
  await server.server.store.addAddress(alice, 'alice@example.test');
  await server.server.store.addAddress(bob, 'bob@example.test');
  refusing = await startTestServer({ MALLARD_INBOUND_BARE_LF: 'refuse', MALLARD_SPAM_ENABLED: 'false' });
  await refusing.server.store.addAddress(await refusing.addUser('alice', 'secret'), 'alice@example.test');
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await refusing?.stop();
});

/** The message with a fake end and a whole smuggled transaction in its body, and the real end. */
function smuggling(subject: string, fakeEnd: string): Buffer {
  return Buffer.from(
    `From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n\r\nbefore the fake end` +
      fakeEnd +
      `MAIL FROM:<ceo@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n` +
      `From: ceo@example.test\r\nSubject: smuggled ${subject}\r\n\r\nsmuggled body\r\n.\r\n`,
    'latin1',
  );
}

/** Sends a smuggling message in one write; returns the replies up to NOOP's. */
async function send(target: TestServer, protocol: 'smtp' | 'lmtp', raw: Buffer): Promise<string[]> {
  return sendTo(protocol === 'smtp' ? target.smtpPort : target.lmtpPort, protocol, raw);
}

async function sendTo(port: number, protocol: 'smtp' | 'lmtp', raw: Buffer): Promise<string[]> {
  const { client } = await SmtpLineClient.connect(port);
  try {
    expect(await client.command(`${protocol === 'smtp' ? 'EHLO' : 'LHLO'} client.test`)).toMatch(/^250/);
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command('DATA')).toMatch(/^354 /);
    client.line.send(raw);
    const replies = [await client.reply(10_000)];
    client.line.send('NOOP\r\n');
    // Anything the server ran from the smuggled text would answer before the NOOP does.
    for (;;) {
      const reply = await client.reply(10_000);
      replies.push(reply);
      if (/^250 [^\r\n]*OK/i.test(reply) && replies.length > 1) break;
    }
    return replies;
  } finally {
    client.close();
  }
}

async function subjects(target: TestServer, userId: string): Promise<string[]> {
  return (await storedIn(target, userId, 'INBOX')).map(
    (stored) => /\r\nSubject: ([^\r\n]*)/.exec(stored.toString('latin1'))?.[1] ?? '',
  );
}

for (const protocol of ['smtp', 'lmtp'] as const) {
  describe(`smuggling over ${protocol.toUpperCase()}`, () => {
    it.each(FAKE_ENDS)(
      '%s does not end the message: one message, nothing smuggled',
      async (name, fakeEnd) => {
        const subject = `${protocol} ${name}`;
        const replies = await send(server, protocol, smuggling(subject, fakeEnd));
        // One reply for the message, then NOOP's: no reply to a smuggled MAIL, RCPT or DATA.
        expect(replies).toHaveLength(2);
        expect(replies[0]).toMatch(/^250 /);
        expect(replies[1]).toMatch(/^250 .*OK/i);
        expect(await subjects(server, bob)).toEqual([]);
        const stored = (await storedIn(server, alice, 'INBOX')).find((copy) =>
          copy.includes(`Subject: ${subject}\r\n`),
        )!;
        // The smuggled text is inside it, as body: the line ends CRLF (bare LF normalized), bare CRs kept.
        const body = stored.toString('latin1').split('\r\n\r\n').slice(1).join('\r\n\r\n');
        expect(body).toContain('MAIL FROM:<ceo@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n');
        expect(body.endsWith('smuggled body\r\n')).toBe(true);
        expect(body).not.toMatch(/[^\r]\n/);
      },
    );
  });
}

describe('inbound.bare_lf: refuse', () => {
  it('a message with a bare LF gets 554 5.6.0 over SMTP, and nothing is stored', async () => {
    const replies = await send(refusing, 'smtp', smuggling('refused smtp', '\n.\n'));
    expect(replies).toHaveLength(2);
    expect(replies[0]).toMatch(/^554 5\.6\.0 /);
    const alice = (await refusing.server.store.getUserByUsername('alice'))!.id;
    expect(await subjects(refusing, alice)).toEqual([]);
  });

  it('LMTP (a local MTA) still hands such a message over: one message, stored with CRLF', async () => {
    const replies = await send(refusing, 'lmtp', smuggling('kept lmtp', '\n.\n'));
    expect(replies[0]).toMatch(/^250 /);
    const alice = (await refusing.server.store.getUserByUsername('alice'))!.id;
    expect(await subjects(refusing, alice)).toEqual(['kept lmtp']);
  });

  it('bare CR alone is not a line end and is kept as it was: accepted', async () => {
    const replies = await send(refusing, 'smtp', smuggling('lone cr', '\r.\r'));
    expect(replies[0]).toMatch(/^250 /);
  });
});

/**
 * The same payloads against Debian's Postfix (3.7.11, as installed: its smtpd_forbid_bare_newline
 * defaults to "no", but this release already ends DATA only at <CR><LF>.<CR><LF>), for comparison:
 * it too keeps each one a single message, and runs nothing smuggled.
 */
describe('Postfix, for comparison', () => {
  let postfix: Postfix;

  beforeAll(async () => {
    postfix = await startPostfix({
      host: '127.0.0.1',
      mailboxes: ['alice@example.test', 'bob@example.test'],
    });
  }, 60_000);

  afterAll(async () => {
    await postfix?.stop();
  });

  it.each(FAKE_ENDS)('Postfix: %s is one message, as with Mallard', async (name, fakeEnd) => {
    const replies = await sendTo(postfix.port, 'smtp', smuggling(`postfix ${name}`, fakeEnd));
    expect(replies).toHaveLength(2);
    expect(replies[0]).toMatch(/^250 /);
  });
});
