/**
 * kill -9 of a real `mallard serve` in the middle of a submission burst: every message answered
 * with 250 is in the outbound queue after the crash, with its bytes, exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/password.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { MALLARD_BIN, ROOT, makeDataDir } from '../helpers/cli.ts';
import { freePort } from '../helpers/ports.ts';
import { SmtpLineClient } from '../delivery/clients.ts';

const BURST = 1000;
const KILL_AFTER = 400;
let dataDir = '';
let child: ChildProcess | null = null;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function listening(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the server did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the outbound queue across kill -9', () => {
  it('keeps every message acknowledged with 250, once', async () => {
    dataDir = makeDataDir();
    const store = await SqliteStore.open(dataDir);
    await store.createUser({ username: 'alice@example.test', passwordHash: await hashPassword('secret') });
    await store.close();
    const port = await freePort('127.0.0.1');
    child = spawn(process.execPath, [MALLARD_BIN, 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        MALLARD_CONFIG: '',
        MALLARD_DATA_DIR: dataDir,
        MALLARD_HOSTNAME: 'localhost',
        MALLARD_LOG_LEVEL: 'warn',
        MALLARD_IMAP_ENABLED: 'false',
        MALLARD_POP3_ENABLED: 'false',
        MALLARD_LMTP_ENABLED: 'false',
        MALLARD_SMTP_ENABLED: 'false',
        MALLARD_ADMIN_PORT: '0',
        MALLARD_SUBMISSION_HOST: '127.0.0.1',
        MALLARD_SUBMISSION_PORT: String(port),
        MALLARD_SUBMISSION_TLS_PORT: '0',
        MALLARD_SUBMISSION_MAX_MESSAGES_PER_HOUR: '100000',
        // Nothing answers: messages stay queued (deferred), none leaves the machine.
        MALLARD_DNS_SERVERS: '127.0.0.1:9',
        MALLARD_DKIM_ENABLED: 'false',
        // One process, so that kill -9 hits the one that holds the sessions (test/workers/ kills a worker).
        MALLARD_SERVER_WORKERS: '1',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    await listening(port);

    const { client } = await SmtpLineClient.connect(port);
    await client.command('EHLO client.test');
    expect(
      await client.command(`AUTH PLAIN ${Buffer.from('\0alice@example.test\0secret').toString('base64')}`),
    ).toMatch(/^235 /);
    const acknowledged = new Map<string, number>();
    let killed = false;
    for (let n = 0; n < BURST; n += 1) {
      try {
        if (!(await client.command('MAIL FROM:<alice@example.test>')).startsWith('250')) break;
        if (!(await client.command(`RCPT TO:<r${n % 7}@remote.test>`)).startsWith('250')) break;
        const raw = Buffer.from(
          `From: alice@example.test\r\nTo: r@remote.test\r\nSubject: burst ${n}\r\n\r\nmessage ${n}\r\n`,
        );
        const [reply] = await client.data(raw);
        const queued = /^250 .*queued as (\S+)/.exec(reply ?? '');
        if (!queued) break;
        acknowledged.set(queued[1]!, n);
      } catch {
        break; // the connection died with the server
      }
      if (acknowledged.size === KILL_AFTER && !killed) {
        // The next transaction is on its way while the process dies.
        killed = true;
        setImmediate(() => child!.kill('SIGKILL'));
      }
    }
    client.close();
    expect(killed).toBe(true);
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER);

    const after = await SqliteStore.open(dataDir);
    try {
      const queued = await after.listOutbound();
      const ids = queued.map((message) => message.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const [id, n] of acknowledged) {
        const raw = (await after.readOutboundRaw(id)).toString('latin1');
        expect(raw).toContain(`Subject: burst ${n}\r\n`);
      }
      // At most the one in flight at the kill was stored without its 250 reaching us.
      expect(queued.length - acknowledged.size).toBeLessThanOrEqual(1);
    } finally {
      await after.close();
    }
  }, 120_000);
});
