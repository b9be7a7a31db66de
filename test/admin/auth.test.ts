/**
 * The admin token (file, permissions, kept across restarts), throttling of wrong tokens, the
 * WebSocket's ways to present the token, and the log tail.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogBuffer } from '../../server/admin/log-buffer.ts';
import { EVENTS_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../../server/admin/openapi.ts';
import { spawn } from 'node:child_process';
import { MALLARD_BIN, ROOT, makeDataDir } from '../helpers/cli.ts';
import { LineClient } from '../helpers/server.ts';
import { EventClient, startAdminHarness, type AdminHarness } from './harness.ts';

const LOCKOUT_MS = 4000;

/** The real `mallard` command, without blocking this process (the server in it must answer). */
function runMallardAsync(
  args: string[],
  options: { dataDir: string; env?: Record<string, string> },
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MALLARD_BIN, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        MALLARD_CONFIG: '',
        MALLARD_DATA_DIR: options.dataDir,
        MALLARD_LOG_LEVEL: 'warn',
        MALLARD_CLI_OFFLINE: '',
        ...options.env,
      },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
    child.stdin.end();
  });
}
let h: AdminHarness;
let logs: LogBuffer;

beforeAll(async () => {
  logs = new LogBuffer(200);
  h = await startAdminHarness({
    logger: pino({ level: 'debug' }, logs),
    logBuffer: logs,
    admin: {
      throttle: {
        baseDelayMs: 100,
        maxDelayMs: 400,
        lockoutAfter: 4,
        lockoutMs: LOCKOUT_MS,
        windowMs: LOCKOUT_MS,
      },
    },
  });
});
afterAll(() => h.stop());

describe('the token file', () => {
  it('is made on first start in the data directory, readable by its owner only, and kept across restarts', async () => {
    const file = path.join(h.dataDir, 'admin.token');
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(h.token);
    expect(h.token).toMatch(/^[\w-]{43}$/);
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const again = await startAdminHarness({ dataDir: h.dataDir });
    try {
      expect(again.token).toBe(h.token);
      expect((await again.call('GET', '/api/status')).status).toBe(200);
    } finally {
      await again.stop(true);
    }
  });

  it('is not needed when the admin API is off (admin.port 0)', async () => {
    const { loadConfig } = await import('../../server/config/load.ts');
    const { startServer } = await import('../../server/main.ts');
    const { makeDataDir } = await import('../helpers/cli.ts');
    const dataDir = makeDataDir('mallard-admin-off-');
    const config = loadConfig({
      env: { MALLARD_DATA_DIR: dataDir, MALLARD_ADMIN_PORT: '0', MALLARD_HOSTNAME: 'localhost' },
    });
    const server = await startServer(config, { ephemeralPorts: true, logger: pino({ level: 'silent' }) });
    try {
      expect(server.admin).toBeNull();
      expect(fs.existsSync(path.join(dataDir, 'admin.token'))).toBe(false);
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('throttling', () => {
  it('delays wrong tokens more and more, then answers them 429 for a while; the right token always works', async () => {
    // Requests without a token are refused at once and do not count.
    for (let index = 0; index < 6; index++) {
      expect((await h.call('GET', '/api/status', { token: null })).status).toBe(401);
    }
    expect((await h.call('GET', '/api/status')).status).toBe(200);

    const timings: number[] = [];
    for (let index = 0; index < 4; index++) {
      const started = Date.now();
      const result = await h.call('GET', '/api/status', { token: `wrong-${index}` });
      timings.push(Date.now() - started);
      expect(result.status).toBe(401);
      expect(result.body.error.code).toBe('unauthorized');
      expect(result.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(timings[0]).toBeGreaterThanOrEqual(90);
    expect(timings[2]!).toBeGreaterThanOrEqual(timings[0]!);

    // The address is throttled now, but the right token (the panel, the CLI) still gets in, at once.
    const started = Date.now();
    expect((await h.call('GET', '/api/status')).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(90);
    const stream = await EventClient.connect(h);
    stream.close();

    // Wrong tokens: 429 at once, with Retry-After, on HTTP and on the event stream.
    const locked = await h.call('GET', '/api/status', { token: 'wrong-again' });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('rate_limited');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    await expect(
      EventClient.connect(h, { protocols: [EVENTS_SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}wrong`] }),
    ).rejects.toMatchObject({ status: 429 });

    // The CLI with a wrong token says the server refused it, not that no server runs.
    const dir = makeDataDir();
    try {
      fs.writeFileSync(path.join(dir, 'admin.token'), 'wrong\n', { mode: 0o600 });
      const refused = await runMallardAsync(['sessions'], {
        dataDir: dir,
        env: { MALLARD_ADMIN_PORT: String(new URL(h.url).port) },
      });
      expect(refused.stderr).toMatch(/refused the admin token .*too many wrong tokens/);
      expect(refused.stderr).not.toMatch(/no server/);
      expect(refused.status).toBe(77);
      // ... and with the right token it works while the address is throttled.
      fs.writeFileSync(path.join(dir, 'admin.token'), `${h.token}\n`, { mode: 0o600 });
      const listed = await runMallardAsync(['sessions'], {
        dataDir: dir,
        env: { MALLARD_ADMIN_PORT: String(new URL(h.url).port) },
      });
      // Listed (no session is open: stdout is empty and stderr says so), not refused.
      expect(listed.stderr).toBe('no live sessions\n');
      expect(listed.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }

    await new Promise((resolve) => setTimeout(resolve, LOCKOUT_MS + 100));
    expect((await h.call('GET', '/api/status', { token: 'wrong-later' })).status).toBe(401);
  });
});

describe('the event stream', () => {
  it('takes the token in the Authorization header or as a subprotocol (browsers), never echoing it', async () => {
    const byHeader = await EventClient.connect(h);
    byHeader.close();
    const byProtocol = await EventClient.connect(h, {
      protocols: [EVENTS_SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${h.token}`],
    });
    expect(byProtocol.socket.protocol).toBe(EVENTS_SUBPROTOCOL);
    byProtocol.close();
  });

  it('refuses a missing or wrong token, a page of another origin, and other paths', async () => {
    await expect(EventClient.connect(h, { protocols: [EVENTS_SUBPROTOCOL] })).rejects.toMatchObject({
      status: 401,
    });
    await expect(
      EventClient.connect(h, { protocols: [EVENTS_SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}nope`] }),
    ).rejects.toMatchObject({ status: 401 });
    await expect(
      EventClient.connect(h, { header: `Bearer ${h.token}`, origin: 'http://evil.example' }),
    ).rejects.toMatchObject({ status: 403 });
    const panel = await EventClient.connect(h, {
      header: `Bearer ${h.token}`,
      origin: `http://127.0.0.1:${h.server.config.panel.port}`,
    });
    panel.close();
  });
});

describe('the log tail', () => {
  it('serves the newest lines, without passwords', async () => {
    await h.addUser('erin@example.test', 'erin secret password');
    const client = await LineClient.connect(h.imapPort);
    await client.readUntil(/^\* OK/);
    await client.command('L', 'LOGIN erin@example.test "erin secret password"');
    client.close();
    const result = await h.call('GET', '/api/logs?lines=50');
    expect(result.status).toBe(200);
    const lines = result.body.lines as Array<{ msg: string; level: string; time: string }>;
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(50);
    expect(lines.some((line) => line.msg === 'authenticated')).toBe(true);
    expect(
      lines.every((line) => typeof line.level === 'string' && !Number.isNaN(Date.parse(line.time))),
    ).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('erin secret password');
  });
});
