/**
 * The maildrop lock across server processes: a second `mallard serve` on the same data directory
 * (a separate process, as a second server on one MongoDB would be) refuses a maildrop that a
 * session of the test's own server holds, and hands it over once that session QUITs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MALLARD_BIN, ROOT } from '../helpers/cli.ts';
import { message, Pop3Client, pop3Account } from '../helpers/pop3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { freePort } from '../helpers/ports.ts';

let server: TestServer;
let other: ChildProcess | null = null;
let otherPort = 0;
let otherOutput = '';

/** Connects to the child's POP3 port as soon as it listens (it needs a few seconds to start). */
async function openOther(): Promise<Pop3Client> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await Pop3Client.open(otherPort);
    } catch (error) {
      if (Date.now() > deadline || other?.exitCode !== null) {
        throw new Error(`second server not reachable: ${(error as Error).message}\n${otherOutput}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

beforeAll(async () => {
  server = await startTestServer();
  otherPort = await freePort();
  other = spawn(process.execPath, [MALLARD_BIN, 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      MALLARD_CONFIG: '',
      MALLARD_DATA_DIR: server.config.data_dir,
      MALLARD_HOSTNAME: 'localhost',
      MALLARD_LOG_LEVEL: 'warn',
      MALLARD_POP3_HOST: '127.0.0.1',
      MALLARD_POP3_PORT: String(otherPort),
      MALLARD_POP3_TLS_PORT: '0',
      MALLARD_IMAP_ENABLED: 'false',
      MALLARD_LMTP_ENABLED: 'false',
      MALLARD_SMTP_ENABLED: 'false',
      MALLARD_SUBMISSION_ENABLED: 'false',
      MALLARD_WEB_ENABLED: 'false',
      MALLARD_MANAGESIEVE_ENABLED: 'false',
      MALLARD_ADMIN_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  other.stdout!.on('data', (chunk: Buffer) => (otherOutput += chunk.toString()));
  other.stderr!.on('data', (chunk: Buffer) => (otherOutput += chunk.toString()));
}, 60_000);

afterAll(async () => {
  if (other && other.exitCode === null) {
    const exited = new Promise((resolve) => other!.once('exit', resolve));
    other.kill('SIGTERM');
    await exited;
  }
  await server?.stop();
}, 30_000);

describe('the maildrop lock across server processes', () => {
  it('gives [IN-USE] in the other process while a session holds the maildrop, until it QUITs', async () => {
    const account = await pop3Account(server, [message('one')]);
    const first = await Pop3Client.open(server.pop3Port);
    await first.login(account.username, account.password);

    const second = await openOther();
    await second.command(`USER ${account.username}`);
    expect(await second.command(`PASS ${account.password}`)).toBe(
      '-ERR [IN-USE] Mailbox is locked by another POP3 session',
    );

    expect(await first.command('QUIT')).toMatch(/^\+OK/);
    await first.waitClosed();
    await second.login(account.username, account.password);
    expect(await second.command('STAT')).toMatch(/^\+OK 1 /);

    // And the other way round: the other process's session now keeps this process out.
    const third = await Pop3Client.open(server.pop3Port);
    await third.command(`USER ${account.username}`);
    expect(await third.command(`PASS ${account.password}`)).toMatch(/^-ERR \[IN-USE\]/);
    expect(await second.command('QUIT')).toMatch(/^\+OK/);
    await second.waitClosed();
    await third.login(account.username, account.password);
    expect(await third.command('QUIT')).toMatch(/^\+OK/);
  }, 60_000);

  it('releases the maildrop at once when the holder drops without QUIT, after a refused login', async () => {
    const account = await pop3Account(server, [message('one')]);
    for (const [holderOpen, intruderOpen] of [
      [() => openOther(), () => Pop3Client.open(server.pop3Port)],
      [() => Pop3Client.open(server.pop3Port), () => openOther()],
    ] as const) {
      const holder = await holderOpen();
      await holder.login(account.username, account.password);
      const intruder = await intruderOpen();
      await intruder.command(`USER ${account.username}`);
      expect(await intruder.command(`PASS ${account.password}`)).toMatch(/^-ERR \[IN-USE\]/);
      intruder.close();
      // The holder's phone loses its connection: no QUIT.
      holder.close();
      // A closed connection releases its lease as soon as its server sees the close; the next
      // login gets in (a refusal here would last until the two-minute lease expired).
      const deadline = Date.now() + 5000;
      let reply = '';
      for (;;) {
        const next = await intruderOpen();
        await next.command(`USER ${account.username}`);
        reply = await next.command(`PASS ${account.password}`);
        next.close();
        if (reply.startsWith('+OK') || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(reply).toMatch(/^\+OK/);
    }
  }, 60_000);
});
