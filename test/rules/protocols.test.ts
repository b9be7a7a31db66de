/**
 * A denied CIDR is refused on every protocol, each in its own words, with nothing about the rule in
 * the reply. The rule comes from the configuration (`rules:` via MALLARD_RULES), seeded into the
 * new store at start-up.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** Everything the server sends until it closes the connection (at most 5 s). */
function readUntilClosed(port: number, secure: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = secure
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`port ${port} still open after 5 s; got: ${text}`));
    }, 5000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

describe('a denied CIDR is refused on every protocol', () => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer({
      MALLARD_RULES: JSON.stringify([{ kind: 'deny', cidrs: ['127.0.0.0/8', '::1'], note: 'test' }]),
      MALLARD_LMTP_HOST: '127.0.0.1',
      MALLARD_SMTP_HOST: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await test?.stop();
  });

  const portOf = (name: 'lmtp' | 'smtp') => test.server[name].listeners[0]!.port;

  it('was seeded from the configuration', async () => {
    const rules = await test.server.store.listRules();
    expect(rules.map((rule) => [rule.kind, rule.cidrs, rule.note])).toEqual([
      ['deny', ['127.0.0.0/8', '::1'], 'test'],
    ]);
  });

  it.each([
    ['IMAP', () => test.imapPort, false, /^\* BYE Connection refused\r\n$/],
    // The IMAP connection destroys a TLS socket right after writing the BYE, which can lose it.
    ['IMAP over TLS', () => test.imapsPort, true, /^(\* BYE Connection refused\r\n)?$/],
    ['POP3', () => test.pop3Port, false, /^-ERR \[SYS\/PERM\] Connection refused\r\n$/],
    ['POP3 over TLS', () => test.pop3sPort, true, /^-ERR \[SYS\/PERM\] Connection refused\r\n$/],
    ['LMTP', () => portOf('lmtp'), false, /^554 Connection refused\r\n$/],
    ['SMTP', () => portOf('smtp'), false, /^554 Connection refused\r\n$/],
  ])('%s', async (_name, port, secure, expected) => {
    const rule = (await test.server.store.listRules())[0]!;
    const before = test.server.rules!.counters().get(rule.id)?.deny ?? 0;
    const reply = await readUntilClosed(port(), secure);
    expect(reply).toMatch(expected);
    expect(reply).not.toMatch(/127\.0|::1|deny|rule|test/i);
    expect(test.server.rules!.counters().get(rule.id)?.deny).toBe(before + 1);
  });

  it('leaves no connection counted', async () => {
    await expect.poll(() => test.server.rules!.openConnections).toBe(0);
  });
});

/** The first line the server sends, keeping the connection open. */
function openAndGreet(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('data', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('a refusal that may pass by itself is temporary in the protocols that can say so', () => {
  let test: TestServer;

  beforeAll(async () => {
    test = await startTestServer({
      MALLARD_RULES: JSON.stringify([{ kind: 'max-conn', cidrs: [], limit: 1, note: 'one at a time' }]),
      MALLARD_LMTP_HOST: '127.0.0.1',
      MALLARD_SMTP_HOST: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await test?.stop();
  });

  it.each([
    ['POP3', () => test.pop3Port, /^-ERR \[SYS\/TEMP\] /],
    ['LMTP', () => test.server.lmtp.listeners[0]!.port, /^421 /],
    ['SMTP', () => test.server.smtp.listeners[0]!.port, /^421 /],
  ])('%s: the second connection from one address', async (_name, port, expected) => {
    const first = await openAndGreet(port());
    try {
      expect(await readUntilClosed(port(), false)).toMatch(expected);
    } finally {
      first.destroy();
    }
    await expect.poll(() => test.server.rules!.openConnections).toBe(0);
  });
});
