/**
 * Port 25 against strangers, over real TCP: HELO/EHLO must name a domain or an address literal
 * (501 5.5.2, counted as an error), a message sent in the same go as DATA (before our 354) is never
 * taken (554 5.5.0, closed, nothing stored; commands before DATA may still be pipelined), and the
 * Received header names the client's forward-confirmed reverse DNS name, looked up on a real
 * dnsmasq. Submission and LMTP are not held to the HELO syntax (a local MTA, our users' programs).
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';
import { inboxCount, newestInInbox, SmtpLineClient } from './clients.ts';

let server: TestServer;
let alice: string;

beforeAll(async () => {
  server = await startTestServer({ MALLARD_SPAM_ENABLED: 'false', MALLARD_INBOUND_VERIFY_SENDERS: 'false' });
  alice = await server.addUser('alice@example.test', 'secret');
}, 60_000);
afterAll(() => server?.stop());

const MESSAGE = 'From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: hardening\r\n\r\nHello.\r\n';

async function hello(line: string, port = server.smtpPort): Promise<string> {
  const { client } = await SmtpLineClient.connect(port);
  try {
    return await client.command(line);
  } finally {
    client.close();
  }
}

describe('HELO/EHLO syntax on port 25', () => {
  it.each([
    ['EHLO mail.example.org'],
    ['HELO mail.example.org'],
    ['EHLO localhost'],
    ['EHLO DESKTOP-4F2_PC'],
    ['EHLO [192.0.2.1]'],
    ['EHLO [IPv6:2001:db8::1]'],
    ['EHLO 192.0.2.1'],
    ['EHLO bücher.example'],
  ])('%s is taken', async (line) => {
    expect(await hello(line)).toMatch(/^250[ -]/);
  });

  it.each([
    ['EHLO', /^501 5\.5\.2 Syntax: EHLO needs your domain name or an address literal/],
    ['HELO', /^501 5\.5\.2 Syntax: HELO needs your domain name/],
    ['EHLO -bad.example', /^501 5\.5\.2 Syntax: EHLO -bad\.example: not a domain name or an address literal/],
    ['EHLO bad..example', /^501 5\.5\.2 /],
    ['EHLO mail.example.org.', /^501 5\.5\.2 /],
    ['EHLO [192.0.2.300]', /^501 5\.5\.2 /],
    ['EHLO [2001:db8::1]', /^501 5\.5\.2 /],
    ['EHLO <script>', /^501 5\.5\.2 /],
    ['EHLO user@example.org', /^501 5\.5\.2 /],
  ])('%s is refused with a clear 501 5.5.2', async (line, reply) => {
    expect(await hello(line)).toMatch(reply);
  });

  it('a refused EHLO leaves no name behind: MAIL FROM still needs one', async () => {
    const { client } = await SmtpLineClient.connect(server.smtpPort);
    try {
      expect(await client.command('EHLO ex ample')).toMatch(/^501 /);
      expect(await client.command('EHLO a_b!c')).toMatch(/^501 5\.5\.2 /);
      expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^503 /);
      expect(await client.command('EHLO client.test')).toMatch(/^250 /m);
      expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    } finally {
      client.close();
    }
  });

  it('counts toward the error budget: the connection closes at inbound.max_errors', async () => {
    const { client } = await SmtpLineClient.connect(server.smtpPort);
    try {
      for (let tries = 0; tries < server.config.inbound.max_errors; tries++) {
        expect(await client.command('EHLO !')).toMatch(/^501 5\.5\.2 /);
      }
      expect(await client.reply()).toMatch(/^421 4\.7\.0 /);
      await client.line.waitClosed();
    } finally {
      client.close();
    }
  });

  it('LMTP and submission take any name, as before', async () => {
    expect(await hello('LHLO host_name!', server.lmtpPort)).toMatch(/^250[ -]/);
    const submission = server.server.submission.listeners.find((listener) => !listener.implicitTls)!.port;
    expect(await hello('EHLO [not-an-address]', submission)).toMatch(/^250[ -]/);
  });
});

describe('pipelining on port 25', () => {
  it('a message sent with DATA, before the 354, gets 554 5.5.0 and the connection is closed; nothing is stored', async () => {
    const before = await inboxCount(server, alice);
    const client = await LineClient.connect(server.smtpPort);
    try {
      await client.readUntil(/^220 /);
      client.send('EHLO client.test\r\n');
      await client.readUntil(/^250 /);
      client.send(
        `MAIL FROM:<sender@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n${MESSAGE}.\r\nQUIT\r\n`,
      );
      const replies = await client.readUntil(/^554 /);
      expect(replies).toMatch(/^250 .*\r\n250 .*\r\n354 /);
      expect(replies).toMatch(/^554 5\.5\.0 Error: SMTP protocol synchronization/m);
      await client.waitClosed();
    } finally {
      client.close();
    }
    expect(await inboxCount(server, alice)).toBe(before);
  });

  it('MAIL, RCPT and DATA in one go are fine, and the message after the 354 is taken', async () => {
    const before = await inboxCount(server, alice);
    const client = await LineClient.connect(server.smtpPort);
    try {
      await client.readUntil(/^220 /);
      client.send('EHLO client.test\r\n');
      await client.readUntil(/^250 /);
      client.send('MAIL FROM:<sender@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n');
      expect(await client.readUntil(/^354 /)).toMatch(/^250 [^\r]*\r\n250 [^\r]*\r\n354 /);
      client.send(`${MESSAGE}.\r\n`);
      expect(await client.readUntil(/^\d{3} /)).toMatch(/^250 /);
    } finally {
      client.close();
    }
    expect(await inboxCount(server, alice)).toBe(before + 1);
  });
});

/** A non-loopback IPv4 address of this machine (loopback clients are never looked up). */
function externalAddress(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? [])
      if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  throw new Error('this test needs a non-loopback IPv4 address on the machine');
}

describe('reverse DNS in Received', () => {
  let dns: Dnsmasq;
  let named: TestServer;
  let bob: string;
  const address = externalAddress();

  beforeAll(async () => {
    // --host-record gives the PTR and the A record that confirms it.
    dns = await startDnsmasq({ zones: ['rdns.test'], a: [{ name: 'client.rdns.test', address }] });
    named = await startTestServer({
      MALLARD_SMTP_HOST: address,
      MALLARD_DNS_SERVERS: dns.server,
      MALLARD_SPAM_ENABLED: 'false',
      MALLARD_INBOUND_VERIFY_SENDERS: 'false',
    });
    bob = await named.addUser('bob@example.test', 'secret');
  }, 60_000);
  afterAll(async () => {
    await named?.stop();
    await dns?.stop();
  });

  it('names the client by its forward-confirmed PTR name beside its address', async () => {
    const client = await LineClient.connect(named.smtpPort, false, address);
    try {
      await client.readUntil(/^220 /);
      client.send('EHLO helo.example\r\n');
      await client.readUntil(/^250 /);
      client.send('MAIL FROM:<sender@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n');
      await client.readUntil(/^354 /);
      client.send(`${MESSAGE}.\r\n`);
      expect(await client.readUntil(/^\d{3} /)).toMatch(/^250 /);
    } finally {
      client.close();
    }
    const stored = (await newestInInbox(named, bob)).toString('latin1');
    expect(stored).toContain(`Received: from helo.example (client.rdns.test [${address}])\r\n`);
  });
});
