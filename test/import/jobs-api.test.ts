/**
 * IMAP import jobs through the admin API, with Debian's Dovecot on loopback as the source: start a
 * job, follow its progress to the end, see the mail over IMAP at Mallard (bytes exact, flags, dates),
 * re-run it with the kept password (nothing twice, only what is new), and the clear errors: a
 * wrong password, a re-run without a password kept, an unknown job, two jobs at once.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminHarness, type AdminHarness } from '../admin/harness.ts';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';

const NOBODY = 65534;
const SOURCE = 'zoe@source.example';
const SOURCE_PASSWORD = 'zoe-source-secret';
const TARGET = 'zoe@example.org';
const TARGET_PASSWORD = 'zoe-target-password';
const WAIT = { timeout: 60_000, interval: 200 };

let dovecot: DovecotServer;
let harness: AdminHarness;
let userId: string;
/** Body hash → flags and date each imported message must keep. */
const expected = new Map<string, { flags: string[]; date: number }>();

function writeMessages(from: number, to: number): void {
  const dir = path.join(dovecot.dir, 'mail', SOURCE);
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  for (let n = from; n <= to; n++) {
    const raw = Buffer.from(
      `From: bob@elsewhere.example\r\nTo: ${SOURCE}\r\nSubject: job ${n}\r\nMessage-ID: <job-${n}@elsewhere.example>\r\n\r\nBody ${n}\r\n`,
    );
    const letters = `${n % 3 === 0 ? 'F' : ''}${n % 2 === 0 ? 'S' : ''}`;
    const file = path.join(dir, 'cur', `${1_780_000_000 + n}.M${n}P1.source:2,${letters}`);
    fs.writeFileSync(file, raw);
    const date = new Date(Date.UTC(2021, 0, 1) + n * 3_600_000);
    fs.utimesSync(file, date, date);
    const flags = [
      ...(letters.includes('F') ? ['\\Flagged'] : []),
      ...(letters.includes('S') ? ['\\Seen'] : []),
    ];
    expected.set(createHash('sha256').update(raw).digest('hex'), { flags, date: date.getTime() });
  }
  for (const file of [dir, ...['cur', 'new', 'tmp'].map((sub) => path.join(dir, sub))]) {
    fs.chownSync(file, NOBODY, NOBODY);
    if (path.basename(file) === 'cur')
      for (const name of fs.readdirSync(file)) fs.chownSync(path.join(file, name), NOBODY, NOBODY);
  }
}

async function inboxAtMallard(): Promise<Map<string, { flags: string[]; date: number }>> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: harness.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user: TARGET, pass: TARGET_PASSWORD },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  const seen = new Map<string, { flags: string[]; date: number }>();
  try {
    const lock = await client.getMailboxLock('INBOX', { readOnly: true });
    try {
      if ((client.mailbox as { exists: number }).exists > 0)
        for await (const m of client.fetch('1:*', { flags: true, internalDate: true, source: true })) {
          const hash = createHash('sha256').update(m.source!).digest('hex');
          expect(seen.has(hash), 'a message arrived twice').toBe(false);
          seen.set(hash, {
            flags: [...(m.flags ?? [])].filter((flag) => flag !== '\\Recent').sort(),
            date: new Date(m.internalDate!).getTime(),
          });
        }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
  return seen;
}

const start = (body: Record<string, unknown>) =>
  harness.call('POST', `/api/users/${userId}/imports`, {
    body: { host: '127.0.0.1', port: dovecot.port, security: 'plain', login: SOURCE, ...body },
  });

async function finished(jobId: string) {
  let job: { state: string } | undefined;
  await expect
    .poll(async () => {
      const listed = await harness.call('GET', `/api/users/${userId}/imports`);
      job = (listed.body.jobs as Array<{ id: string; state: string }>).find((j) => j.id === jobId);
      return job?.state;
    }, WAIT)
    .not.toBe('running');
  return job as unknown as {
    state: string;
    error: string | null;
    passwordKept: boolean;
    etaSeconds: number | null;
    messages: { total: number; done: number; imported: number; duplicates: number };
    bytes: { total: number; done: number };
  };
}

describe.skipIf(!dovecotAvailable())('IMAP import jobs in the admin API', () => {
  beforeAll(async () => {
    dovecot = await startDovecot([[SOURCE, SOURCE_PASSWORD]]);
    writeMessages(1, 30);
    harness = await startAdminHarness();
    userId = await harness.addUser(TARGET, TARGET_PASSWORD);
  }, 120_000);

  afterAll(async () => {
    await harness?.stop();
    await dovecot?.stop();
  });

  it('runs a job to the end; the mail is at Mallard with flags and dates', async () => {
    const started = await start({ password: SOURCE_PASSWORD, keepPassword: true });
    expect(started.status).toBe(201);
    expect(started.body.state).toBe('running');
    expect(JSON.stringify(started.body)).not.toContain(SOURCE_PASSWORD);
    const job = await finished(started.body.id);
    expect(job).toMatchObject({
      state: 'done',
      error: null,
      passwordKept: true,
      etaSeconds: 0,
      messages: { total: 30, done: 30, imported: 30, duplicates: 0 },
    });
    expect(job.bytes.done).toBe(job.bytes.total);
    expect(await inboxAtMallard()).toEqual(expected);
  });

  it('re-runs with the kept password: only what is new arrives', async () => {
    writeMessages(31, 35);
    const listed = await harness.call('GET', `/api/users/${userId}/imports`);
    const rerun = await harness.call('POST', `/api/imports/${listed.body.jobs[0].id}/rerun`, { body: {} });
    expect(rerun.status).toBe(201);
    const job = await finished(rerun.body.id);
    expect(job.messages).toEqual({ total: 5, done: 5, imported: 5, duplicates: 0 });
    expect(await inboxAtMallard()).toEqual(expected);
  });

  it('says what went wrong', async () => {
    const wrong = await start({ password: 'not-the-password' });
    expect(wrong.status).toBe(201);
    const failed = await finished(wrong.body.id);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/the source refused the login zoe@source\.example/);
    // Its password was not kept: a re-run needs it again.
    const noPassword = await harness.call('POST', `/api/imports/${wrong.body.id}/rerun`, { body: {} });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.error.message).toBe('the password was not kept: give it again to re-run');
    const unknown = await harness.call('POST', '/api/imports/nope/cancel');
    expect(unknown.status).toBe(404);
    const missing = await harness.call('POST', `/api/users/${userId}/imports`, {
      body: { host: '127.0.0.1' },
    });
    expect(missing.status).toBe(400);
    expect((await harness.call('DELETE', `/api/imports/${wrong.body.id}`)).status).toBe(204);
    expect((await harness.call('DELETE', `/api/imports/${wrong.body.id}`)).status).toBe(404);
  });

  it('cancels a running job between two messages; a re-run brings the rest, nothing twice', async () => {
    const otherId = await harness.addUser('yan@example.org', TARGET_PASSWORD);
    const started = await harness.call('POST', `/api/users/${otherId}/imports`, {
      body: {
        host: '127.0.0.1',
        port: dovecot.port,
        security: 'plain',
        login: SOURCE,
        password: SOURCE_PASSWORD,
        keepPassword: true,
        maxRate: 5,
      },
    });
    expect(started.status).toBe(201);
    const jobs = async () =>
      (await harness.call('GET', `/api/users/${otherId}/imports`)).body.jobs as Array<{
        id: string;
        state: string;
        etaSeconds: number | null;
        messages: { done: number; imported: number; duplicates: number; total: number };
      }>;
    await expect.poll(async () => (await jobs())[0]!.messages.done, WAIT).toBeGreaterThan(2);
    const running = (await jobs())[0]!;
    expect(running.state).toBe('running');
    expect(running.etaSeconds).toBeGreaterThan(0);
    const twice = await harness.call('POST', `/api/users/${otherId}/imports`, {
      body: {
        host: '127.0.0.1',
        port: dovecot.port,
        security: 'plain',
        login: SOURCE,
        password: SOURCE_PASSWORD,
      },
    });
    expect(twice.status).toBe(409);
    expect((await harness.call('POST', `/api/imports/${started.body.id}/cancel`)).status).toBe(200);
    await expect.poll(async () => (await jobs())[0]!.state, WAIT).toBe('cancelled');
    const cut = (await jobs())[0]!.messages.imported;
    expect(cut).toBeLessThan(35);

    const rerun = await harness.call('POST', `/api/imports/${started.body.id}/rerun`, { body: {} });
    expect(rerun.status).toBe(201);
    await expect.poll(async () => (await jobs())[0]!.state, WAIT).toBe('done');
    const rest = (await jobs())[0]!.messages;
    // The last UID is recorded with each stored batch: the re-run starts after what was stored,
    // and nothing is read twice.
    expect(rest.imported + cut).toBe(35);
    expect(rest.duplicates).toBe(0);
  }, 120_000);
});
