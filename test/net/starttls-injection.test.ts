/**
 * STARTTLS command injection (CVE-2011-0411 and its 2021 family): a client, or a man in the middle,
 * sends STARTTLS and more commands in the same packet. Those bytes arrived in plaintext; run inside
 * the TLS session they would act for the real client (a MAIL FROM or a LOGIN it never sent). Each
 * protocol must drop them: over real TCP, against every listener that offers STARTTLS (SMTP on port
 * 25, submission, LMTP, POP3's STLS, IMAP), the first reply inside TLS answers the client's own
 * first command there, and nothing injected took effect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';
import { inboxCount } from '../delivery/clients.ts';

let server: TestServer;
let alice: string;
let submissionPort: number;

beforeAll(async () => {
  server = await startTestServer({ MALLARD_SPAM_ENABLED: 'false', MALLARD_INBOUND_VERIFY_SENDERS: 'false' });
  alice = await server.addUser('alice@example.test', 'secret');
  submissionPort = server.server.submission.listeners.find((listener) => !listener.implicitTls)!.port;
}, 60_000);
afterAll(() => server?.stop());

/** An SMTP-like reply: every line up to the last ("NNN text"). */
const reply = (client: LineClient) => client.readUntil(/^\d{3}(?: |$)/, 10_000);

/** A whole transaction the client never sent inside TLS; stored, it would reach alice's INBOX. */
const INJECTED_TRANSACTION =
  'MAIL FROM:<forger@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n' +
  'From: forger@remote.test\r\nSubject: injected\r\n\r\ninjected\r\n.\r\n';

describe('STARTTLS with commands in the same packet', () => {
  for (const protocol of ['smtp', 'submission', 'lmtp'] as const) {
    it(`${protocol}: nothing after STARTTLS runs inside TLS`, async () => {
      const port =
        protocol === 'smtp' ? server.smtpPort : protocol === 'lmtp' ? server.lmtpPort : submissionPort;
      const hello = protocol === 'lmtp' ? 'LHLO' : 'EHLO';
      const before = await inboxCount(server, alice);
      const client = await LineClient.connect(port);
      try {
        await reply(client); // greeting
        client.send(`${hello} client.test\r\n`);
        expect(await reply(client)).toMatch(/^250[ -]STARTTLS$/m);
        client.send(`STARTTLS\r\n${hello} injected.test\r\n${INJECTED_TRANSACTION}`);
        expect(await reply(client)).toMatch(/^220 /);
        await client.startTls();
        // Our first command inside TLS: its reply is the first one, nothing answers the injected lines.
        client.send('NOOP\r\n');
        expect(await reply(client)).toMatch(/^250 /);
        // RFC 3207 4.2: a new session; a MAIL FROM without EHLO is refused, as no injected EHLO ran.
        client.send('MAIL FROM:<alice@example.test>\r\n');
        expect(await reply(client)).toMatch(/^503 /);
        client.send(`${hello} client.test\r\n`);
        const features = await reply(client);
        expect(features).toMatch(/^250 /m);
        expect(features).not.toMatch(/STARTTLS/);
        client.send('QUIT\r\n');
        expect(await reply(client)).toMatch(/^221 /);
      } finally {
        client.close();
      }
      expect(await inboxCount(server, alice)).toBe(before);
    });
  }

  it('pop3: nothing after STLS runs inside TLS', async () => {
    const client = await LineClient.connect(server.pop3Port);
    try {
      expect(await client.readUntil(/^\+OK/)).toMatch(/^\+OK/);
      client.send('STLS\r\nUSER alice@example.test\r\nPASS secret\r\nSTAT\r\n');
      expect(await client.readUntil(/^(\+OK|-ERR)/)).toMatch(/^\+OK/);
      await client.startTls();
      // Had USER/PASS run inside TLS, the session would be logged in and STAT answer +OK.
      client.send('STAT\r\n');
      expect(await client.readUntil(/^(\+OK|-ERR)/)).toMatch(/^-ERR/);
      client.send('QUIT\r\n');
      expect(await client.readUntil(/^(\+OK|-ERR)/)).toMatch(/^\+OK/);
    } finally {
      client.close();
    }
  });

  it('imap: nothing after STARTTLS runs inside TLS', async () => {
    const client = await LineClient.connect(server.imapPort);
    try {
      await client.readUntil(/^\* OK/);
      client.send('a STARTTLS\r\nb LOGIN alice@example.test secret\r\nc SELECT INBOX\r\n');
      expect(await client.readUntil(/^a /)).toMatch(/^a OK/m);
      await client.startTls();
      client.send('d NOOP\r\n');
      // The first tagged reply inside TLS is ours: b and c never ran, so nobody is logged in.
      const first = await client.readUntil(/^[a-z] /);
      expect(first).toMatch(/^d OK/m);
      expect(first).not.toMatch(/^[bc] /m);
      client.send('e SELECT INBOX\r\n');
      expect(await client.readUntil(/^e /)).toMatch(/^e (NO|BAD)/m);
      client.send('f LOGOUT\r\n');
      await client.readUntil(/^f /);
    } finally {
      client.close();
    }
  });
});
