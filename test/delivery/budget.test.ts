/**
 * What one SMTP or LMTP connection may spend (server/smtp/budget.ts), over real TCP against a real
 * server with small limits: a client dripping bytes into a command line, a transaction or DATA is
 * cut with 421 4.4.2 and nothing is stored; a fast big message still gets through; error replies
 * and junk commands close the connection with 421 4.7.0; max_recipients gives 452 4.5.3; a bare LF
 * is refused with 554 5.6.0 when inbound.bare_lf says so; past max_connection_recipients RCPTs
 * (over several transactions) or max_commands commands a connection is closed with 421 4.7.0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { inboxCount, SmtpLineClient } from './clients.ts';

let server: TestServer;
let alice: string;

beforeAll(async () => {
  server = await startTestServer({
    MALLARD_LIMITS_COMMAND_TIMEOUT: '1',
    MALLARD_LIMITS_TRANSACTION_TIMEOUT: '2',
    MALLARD_LIMITS_MIN_DATA_RATE: '500',
    MALLARD_INBOUND_MAX_ERRORS: '3',
    MALLARD_INBOUND_MAX_RECIPIENTS: '2',
    MALLARD_INBOUND_BARE_LF: 'refuse',
    MALLARD_INBOUND_MAX_CONNECTION_RECIPIENTS: '4',
    MALLARD_INBOUND_MAX_COMMANDS: '120',
  });
  alice = await server.addUser('alice@example.test', 'secret');
  await server.addUser('bob@example.test', 'secret');
  await server.addUser('carol@example.test', 'secret');
});
afterAll(() => server.stop());

const MESSAGE = 'From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: budget\r\n\r\n';

async function smtp(port = server.smtpPort, hello = 'EHLO client.test'): Promise<SmtpLineClient> {
  const { client } = await SmtpLineClient.connect(port);
  expect(await client.command(hello)).toMatch(/^250 /m);
  return client;
}

/** Sends `text` one byte every `everyMs` until the server answers; returns that answer. */
async function drip(client: SmtpLineClient, text: string, everyMs: number): Promise<string> {
  let at = 0;
  const timer = setInterval(() => {
    if (at < text.length && !client.closed) client.line.send(text[at++]!);
  }, everyMs);
  try {
    return await client.reply(15_000);
  } finally {
    clearInterval(timer);
  }
}

describe('time budget', () => {
  it('cuts a command line dripped in byte by byte', async () => {
    const client = await smtp();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    const answer = await drip(client, 'RCPT TO:<alice@example.test>'.repeat(10), 150);
    expect(answer).toMatch(/^421 4\.4\.2 /);
    await client.line.waitClosed();
  });

  it('cuts a transaction kept alive with commands past transaction_timeout, storing nothing', async () => {
    const before = await inboxCount(server, alice);
    const client = await smtp();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    let answer = '';
    // Each NOOP is answered at once, so the per-command time never runs out: only the transaction's.
    while (!(answer = await client.command('NOOP')).startsWith('421')) {
      expect(answer).toMatch(/^250 /);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(answer).toMatch(/^421 4\.4\.2 /);
    expect(await inboxCount(server, alice)).toBe(before);
  });

  it('cuts DATA dripped in slower than min_data_rate; the message is not stored', async () => {
    const before = await inboxCount(server, alice);
    const client = await smtp();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command('DATA')).toMatch(/^354 /);
    expect(await drip(client, `${MESSAGE}${'x'.repeat(200)}\r\n.\r\n`, 100)).toMatch(/^421 4\.4\.2 /);
    expect(await inboxCount(server, alice)).toBe(before);
  });

  it('lets a big message that arrives fast through, whatever the timeouts', async () => {
    const before = await inboxCount(server, alice);
    const client = await smtp();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    const body = `${'y'.repeat(76)}\r\n`.repeat(4000);
    const [reply] = await client.data(Buffer.from(`${MESSAGE}${body}`));
    expect(reply).toMatch(/^250 /);
    expect(await inboxCount(server, alice)).toBe(before + 1);
    expect(await client.command('QUIT')).toMatch(/^221 /);
  });

  it('cuts an LMTP message dripped in', async () => {
    const client = await smtp(server.lmtpPort, 'LHLO client.test');
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command('DATA')).toMatch(/^354 /);
    expect(await drip(client, `${MESSAGE}${'x'.repeat(200)}\r\n.\r\n`, 100)).toMatch(/^421 4\.4\.2 /);
  });
});

describe('error budget', () => {
  it('closes the connection at max_errors error replies', async () => {
    const client = await smtp();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<nobody1@example.test>')).toMatch(/^550 5\.1\.1 /);
    expect(await client.command('RCPT TO:<nobody2@example.test>')).toMatch(/^550 5\.1\.1 /);
    expect(await client.command('RCPT TO:<nobody3@example.test>')).toMatch(/^550 5\.1\.1 /);
    expect(await client.reply()).toMatch(/^421 4\.7\.0 /);
    await client.line.waitClosed();
  });

  it('counts NOOP, RSET, VRFY and HELP past 100 as errors', async () => {
    const client = await smtp();
    for (let index = 0; index < 100; index++) expect(await client.command('NOOP')).toMatch(/^250 /);
    expect(await client.command('NOOP')).toMatch(/^250 /);
    expect(await client.command('RSET')).toMatch(/^250 /);
    expect(await client.command('NOOP')).toMatch(/^421 4\.7\.0 /);
    await client.line.waitClosed();
  });

  it('refuses recipients past max_recipients with 452 4.5.3', async () => {
    const client = await smtp();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<carol@example.test>')).toMatch(/^452 4\.5\.3 /);
    expect(await client.command('QUIT')).toMatch(/^221 /);
  });
});

describe('volume budget', () => {
  it('closes the connection past max_connection_recipients RCPTs, over several transactions', async () => {
    const client = await smtp();
    for (let transaction = 0; transaction < 2; transaction++) {
      expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 /);
      expect(await client.command('RSET')).toMatch(/^250 /);
    }
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(
      /^421 4\.7\.0 \S+ Error: too many recipients in one connection/,
    );
    await client.line.waitClosed();
  });

  it('closes the connection past max_commands commands, harmless ones included', async () => {
    const client = await smtp(); // its EHLO is the first command
    for (let index = 1; index < 120; index++)
      expect(await client.command('EHLO client.test')).toMatch(/^250 /m);
    expect(await client.command('EHLO client.test')).toMatch(
      /^421 4\.7\.0 \S+ Error: too many commands in one connection/,
    );
    await client.line.waitClosed();
  });

  it('does not hold LMTP (a local MTA) to them', async () => {
    const client = await smtp(server.lmtpPort, 'LHLO client.test');
    for (let transaction = 0; transaction < 3; transaction++) {
      expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
      expect(await client.command('RCPT TO:<bob@example.test>')).toMatch(/^250 /);
      expect(await client.command('RSET')).toMatch(/^250 /);
    }
    expect(await client.command('QUIT')).toMatch(/^221 /);
  });
});

describe('bare LF', () => {
  it('refuses a message with a bare LF on SMTP with 554 5.6.0 and stores nothing', async () => {
    const before = await inboxCount(server, alice);
    const client = await smtp();
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    const [reply] = await client.data(Buffer.from(`${MESSAGE}line one\nline two\r\n`));
    expect(reply).toMatch(/^554 5\.6\.0 /);
    expect(await inboxCount(server, alice)).toBe(before);
  });

  it('still takes it over LMTP (a local MTA), stored with CRLF', async () => {
    const before = await inboxCount(server, alice);
    const client = await smtp(server.lmtpPort, 'LHLO client.test');
    expect(await client.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
    expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
    const [reply] = await client.data(Buffer.from(`${MESSAGE}line one\nline two\r\n`));
    expect(reply).toMatch(/^250 /);
    expect(await inboxCount(server, alice)).toBe(before + 1);
  });
});
