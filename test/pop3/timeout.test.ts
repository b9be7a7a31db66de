/**
 * The POP3 idle timer, with a timeout of a fraction of a second (the config's minimum is RFC 1939's
 * ten minutes, so the service gets an override): it runs only while the server waits for the client,
 * restarts with every command, is paused while a reply is being written — a client reading a large
 * RETR far more slowly than the timeout still gets all of it — and closes an idle session without
 * committing its deletions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginGuard } from '../../server/auth/login-guard.ts';
import { ALLOW_ALL } from '../../server/hooks/types.ts';
import { startPop3, type Pop3Service } from '../../server/pop3/server.ts';
import { message, Pop3Client, pop3Account } from '../helpers/pop3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TIMEOUT_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: TestServer;
let pop3: Pop3Service;
let port: number;

beforeAll(async () => {
  server = await startTestServer();
  const services = {
    config: server.config,
    store: server.server.store,
    hooks: ALLOW_ALL,
    guard: new LoginGuard(),
    logger: server.server.logger,
  };
  pop3 = await startPop3(
    services,
    server.server.tls,
    { port: -1, tlsPort: 0 },
    { idleTimeoutMs: TIMEOUT_MS },
  );
  port = pop3.listeners[0]!.port;
});
afterAll(async () => {
  await pop3.stop();
  await server.stop();
});

/** A message of about `megabytes` MB, 78-byte lines, some starting with a dot. */
function largeMessage(megabytes: number): Buffer {
  const lines = ['From: big@example.test', 'Subject: large', ''];
  const count = Math.ceil((megabytes * 1024 * 1024) / 78);
  for (let index = 0; index < count; index++) {
    lines.push(`${index % 97 === 0 ? '.' : 'L'}${String(index).padStart(9, '0')}${'x'.repeat(66)}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

describe('the idle timer', () => {
  it('closes an idle session, also in the middle of AUTH, and keeps a session alive while commands come', async () => {
    const account = await pop3Account(server, [message('one')]);
    const idle = await Pop3Client.open(port);
    const started = Date.now();
    expect(await idle.readLine(TIMEOUT_MS * 5)).toBe('-ERR Disconnected for inactivity');
    await idle.waitClosed();
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);

    const authenticating = await Pop3Client.open(port);
    expect(await authenticating.command('AUTH PLAIN')).toBe('+ ');
    expect(await authenticating.readLine(TIMEOUT_MS * 5)).toBe('-ERR Disconnected for inactivity');
    await authenticating.waitClosed();

    const busy = await Pop3Client.open(port);
    await busy.login(account.username, account.password);
    for (let elapsed = 0; elapsed < TIMEOUT_MS * 4; elapsed += TIMEOUT_MS / 2) {
      expect(await busy.command('NOOP')).toBe('+OK Done');
      await sleep(TIMEOUT_MS / 2);
    }
    expect(busy.closed).toBe(false);
    busy.close();
  });

  it('does not commit deletions when the session times out', async () => {
    const account = await pop3Account(server, [message('one'), message('two')]);
    const client = await Pop3Client.open(port);
    await client.login(account.username, account.password);
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    await client.waitClosed(TIMEOUT_MS * 5);
    expect((await server.server.store.listMessages(account.inboxId)).map((summary) => summary.uid)).toEqual([
      1, 2,
    ]);
  });

  it('never cuts off a slow RETR of a large message; the timer starts again once it is sent', async () => {
    const raw = largeMessage(16);
    const account = await pop3Account(server, [raw]);
    const client = await Pop3Client.open(port);
    await client.login(account.username, account.password);
    client.send('RETR 1\r\n');
    const connection = [...pop3.connections].find(
      (candidate) => candidate.user?.username === account.username,
    )!;
    // Stop reading for several timeouts, twice: the server is blocked on a full socket meanwhile
    // (the socket buffers hold far less than the message) and must not count that as idle.
    for (let pause = 0; pause < 2; pause++) {
      const before = client.pending().length;
      while (client.pending().length < before + 64 * 1024) await sleep(2);
      client.socket.pause();
      await sleep(TIMEOUT_MS * 3);
      expect(client.closed).toBe(false);
      expect(connection.answering).toBe(true);
      client.socket.resume();
    }
    expect(await client.readLine()).toBe(`+OK ${raw.length} octets`);
    const body = await client.readMultiline(30_000);
    // At once (the timer started when the last byte was sent), then check what came.
    expect(await client.command('NOOP')).toBe('+OK Done');
    expect(body.length).toBeGreaterThan(raw.length); // dot-stuffed
    expect(body.equals(raw)).toBe(false);
    const unstuffed = Buffer.from(body.toString('latin1').replace(/(^|\r\n)\.\./g, '$1.'), 'latin1');
    expect(unstuffed.equals(raw)).toBe(true);
    // Now idle: closed after the timeout.
    expect(await client.readLine(TIMEOUT_MS * 5)).toBe('-ERR Disconnected for inactivity');
    await client.waitClosed();
  });
});
