/**
 * The delivery history: every path counts (LMTP, submission to a local user, `mallard deliver`
 * from the CLI, the outbound worker's results), `GET /api/deliveries` and the status show it, and
 * it is still there after the server is stopped and started again on the same data directory.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { dayOf } from '../../server/store/history.ts';
import { startAdminHarness, type AdminHarness } from '../admin/harness.ts';
import { SmtpLineClient } from '../delivery/clients.ts';
import { MALLARD_BIN, ROOT, makeDataDir, runMallard } from '../helpers/cli.ts';
import { runProcess } from '../helpers/process.ts';

const dataDir = makeDataDir('mallard-history-');
let h: AdminHarness | null = null;

afterAll(async () => {
  await h?.stop(true);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const message = (subject: string) =>
  Buffer.from(`From: alice@example.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`);

async function lmtpDeliver(port: number): Promise<void> {
  const { client } = await SmtpLineClient.connect(port);
  await client.command('LHLO client.test');
  expect(await client.command('MAIL FROM:<someone@elsewhere.test>')).toMatch(/^250 /);
  expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
  expect(await client.data(message('by lmtp'))).toEqual([expect.stringMatching(/^250 /)]);
  client.close();
}

/** Submission (loopback, no TLS needed) to one local and one remote recipient. */
async function submit(port: number): Promise<void> {
  const { client } = await SmtpLineClient.connect(port);
  await client.command('EHLO client.test');
  const token = Buffer.from('\0alice@example.test\0secret').toString('base64');
  expect(await client.command(`AUTH PLAIN ${token}`)).toMatch(/^235 /);
  expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
  expect(await client.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
  // Nothing answers DNS for this domain in tests (dns.servers is a closed port): deferred.
  expect(await client.command('RCPT TO:<bob@remote.test>')).toMatch(/^250 /);
  expect(await client.data(message('by submission'))).toEqual([expect.stringMatching(/^250 /)]);
  client.close();
}

/** `mallard` beside the running server (spawnSync would block the server in this process). */
function mallard(args: string[], options: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}) {
  return runProcess(process.execPath, [MALLARD_BIN, ...args], {
    cwd: ROOT,
    input: options.input,
    timeoutMs: 60_000,
    env: {
      ...process.env,
      MALLARD_CONFIG: '',
      MALLARD_DATA_DIR: dataDir,
      MALLARD_LOG_LEVEL: 'warn',
      ...options.env,
    },
  });
}

async function today(harness: AdminHarness) {
  const answer = await harness.call('GET', '/api/deliveries?days=30');
  expect(answer.status).toBe(200);
  expect(answer.body.days).toHaveLength(30);
  return answer.body.days.at(-1);
}

describe('delivery history', () => {
  it('counts every delivery path per day and keeps the counts across a restart', async () => {
    h = await startAdminHarness({ dataDir });
    await h.addUser('alice@example.test', 'secret');
    const submissionPort = h.server.submission.listeners.find((listener) => !listener.implicitTls)!.port;

    await lmtpDeliver(h.lmtpPort);
    await submit(submissionPort);
    const cli = await mallard(['deliver', 'alice@example.test'], { input: message('by the CLI') });
    expect(cli.status, cli.stderr).toBe(0);

    const expected = { day: dayOf(new Date()), local: 3, sent: 0, deferred: 1, bounced: 0 };
    await expect.poll(() => today(h!), { timeout: 30_000 }).toEqual(expected);
    const days = (await h.call('GET', '/api/deliveries?days=30')).body.days;
    expect(days.slice(0, -1).every((day: { local: number }) => day.local === 0)).toBe(true);
    expect((await h.call('GET', '/api/status')).body.today).toEqual(expected);
    expect((await h.call('GET', '/api/deliveries?days=0')).status).toBe(400);
    expect((await h.call('GET', '/api/deliveries?days=many')).status).toBe(400);

    await h.stop(true);
    h = null;
    // The CLI reads the history from the store while no server runs.
    const stopped = runMallard(['status'], { dataDir });
    expect(stopped.text).toContain('today: 3 stored here, 0 sent, 1 deferred, 0 bounced');

    h = await startAdminHarness({ dataDir });
    await h.server.outbound.stop(); // no new attempt for bob: the counts stay as they were
    expect(await today(h)).toEqual(expected);
    expect((await h.call('GET', '/api/status')).body.today).toEqual(expected);
    const port = new URL(h.url).port;
    const running = await mallard(['status'], { env: { MALLARD_ADMIN_PORT: port } });
    expect(running.stdout).toContain('running since');
    expect(running.stdout).toContain('today: 3 stored here, 0 sent, 1 deferred, 0 bounced');
  });
});
