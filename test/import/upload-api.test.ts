/**
 * Uploading mail files through the admin API (POST /api/users/{id}/imports/upload) to a running
 * Mallard, over real HTTP streamed from disk: a Thunderbird mbox, a .tar.gz of a Maildir (made by
 * GNU tar) and a .zip of mbox folders (made by Info-ZIP). Each becomes a job followed to its end;
 * then an IMAP client at Mallard sees the messages with their flags. Refused: a file over
 * limits.max_import_upload (413, nothing left behind), an upload while an import runs, a re-run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminHarness, type AdminHarness } from '../admin/harness.ts';
import { makeDataDir } from '../helpers/cli.ts';

const LIMIT = 200_000;
const WAIT = { timeout: 60_000, interval: 100 };
let harness: AdminHarness;
let files: string;

function message(subject: string): string {
  return `From: a@example.net\nTo: someone@example.org\nSubject: ${subject}\nMessage-ID: <${subject.replace(/\W/g, '')}@example.net>\n\nBody of ${subject}\n`;
}

/** POSTs the file as the panel does: its bytes streamed, its name in the query. */
async function upload(userId: string, file: string, name = path.basename(file)) {
  const url = new URL(`${harness.url}/api/users/${userId}/imports/upload?name=${encodeURIComponent(name)}`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer, read loosely
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${harness.token}`,
        'content-type': 'application/octet-stream',
        'content-length': fs.statSync(file).size,
      },
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
    });
    request.on('error', reject);
    pipeline(fs.createReadStream(file), request).catch(() => {}); // a refusal may close it early
  });
}

async function finished(userId: string, jobId: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer, read loosely
  let job: any;
  await expect
    .poll(async () => {
      job = (await harness.call('GET', `/api/users/${userId}/imports`)).body.jobs.find(
        (j: { id: string }) => j.id === jobId,
      );
      return job.state;
    }, WAIT)
    .not.toBe('running');
  return job;
}

/** Subject → flags of every message of a mailbox, over IMAP at Mallard. */
async function mailbox(login: string, name: string): Promise<Map<string, string[]>> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: harness.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user: login, pass: 'uploader password' },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  const seen = new Map<string, string[]>();
  try {
    const lock = await client.getMailboxLock(name, { readOnly: true });
    try {
      for await (const m of client.fetch('1:*', { flags: true, envelope: true })) {
        expect(seen.has(m.envelope!.subject!), 'a message arrived twice').toBe(false);
        seen.set(m.envelope!.subject!, [...(m.flags ?? [])].filter((flag) => flag !== '\\Recent').sort());
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
  return seen;
}

async function newUser(name: string): Promise<{ id: string; login: string }> {
  const login = `${name}@example.org`;
  return { id: await harness.addUser(login, 'uploader password'), login };
}

beforeAll(async () => {
  const dataDir = makeDataDir('mallard-upload-');
  fs.writeFileSync(path.join(dataDir, 'mallard.yaml'), `limits:\n  max_import_upload: ${LIMIT}\n`);
  harness = await startAdminHarness({ dataDir });
  files = makeDataDir('mallard-upload-files-');
  // Thunderbird's Inbox: read; read + flagged; replied; a deleted one not compacted away.
  fs.writeFileSync(
    path.join(files, 'Inbox'),
    `From - Mon Mar  4 09:15:00 2024\nX-Mozilla-Status: 0001\n${message('tb read')}\n` +
      `From - Tue Mar  5 09:15:00 2024\nX-Mozilla-Status: 0005\n${message('tb flagged')}\n` +
      `From - Wed Mar  6 09:15:00 2024\nX-Mozilla-Status: 0002\n${message('tb replied')}\n` +
      `From - Thu Mar  7 09:15:00 2024\nX-Mozilla-Status: 0009\n${message('tb deleted')}\n`,
  );
  // A Maildir with flags in file names, as a .tar.gz.
  const maildir = path.join(files, 'md', 'Maildir');
  for (const dir of ['cur', 'new', 'tmp', '.Lists/cur'])
    fs.mkdirSync(path.join(maildir, dir), { recursive: true });
  fs.writeFileSync(path.join(maildir, 'cur', '1700000000.M1P1.host:2,FS'), message('md flagged'));
  fs.writeFileSync(path.join(maildir, 'cur', '1700000001.M2P1.host:2,RS'), message('md answered'));
  fs.writeFileSync(path.join(maildir, '.Lists', 'cur', '1700000002.M3P1.host:2,'), message('md list'));
  execFileSync('tar', ['-czf', path.join(files, 'maildir.tar.gz'), '-C', path.join(files, 'md'), 'Maildir']);
  // Apple Mail's export, zipped.
  const apple = path.join(files, 'apple', 'Travel.mbox');
  fs.mkdirSync(apple, { recursive: true });
  fs.writeFileSync(
    path.join(apple, 'mbox'),
    `From a@example.net Sun Mar 10 14:00:00 2024\nStatus: RO\nX-Status: F\n${message('apple travel')}\n`,
  );
  execFileSync('zip', ['-q', '-r', path.join(files, 'apple.zip'), '.'], { cwd: path.join(files, 'apple') });
  // Over the limit.
  fs.writeFileSync(path.join(files, 'big'), `From - Mon Mar  4 09:15:00 2024\n${'x'.repeat(LIMIT)}\n`);
});

afterAll(() => harness.stop());

describe('upload an mbox, a tar or a zip to import', () => {
  it('imports an uploaded Thunderbird mbox: IMAP sees the messages with their flags', async () => {
    const user = await newUser('tb');
    const started = await upload(user.id, path.join(files, 'Inbox'));
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({ kind: 'file', source: null, file: { name: 'Inbox' } });
    const job = await finished(user.id, started.body.id);
    expect(job).toMatchObject({ state: 'done', error: null, messages: { imported: 3 } });
    expect(job.skipped.map((s: { reason: string }) => s.reason)).toEqual([
      expect.stringMatching(/deleted in Thunderbird/),
    ]);
    expect(await mailbox(user.login, 'INBOX')).toEqual(
      new Map([
        ['tb read', ['\\Seen']],
        ['tb flagged', ['\\Flagged', '\\Seen']],
        ['tb replied', ['\\Answered']],
      ]),
    );
    // The uploaded file goes once the job is over.
    expect(fs.readdirSync(path.join(harness.dataDir, 'uploads'))).toEqual([]);
    const rerun = await harness.call('POST', `/api/imports/${started.body.id}/rerun`, { body: {} });
    expect(rerun.status).toBe(400);
    expect(rerun.body.error.message).toMatch(/upload it again/);
  });

  it('imports an uploaded .tar.gz of a Maildir and a .zip of an Apple Mail export', async () => {
    const user = await newUser('archives');
    const tar = await upload(user.id, path.join(files, 'maildir.tar.gz'));
    expect(tar.status, JSON.stringify(tar.body)).toBe(201);
    expect(await finished(user.id, tar.body.id)).toMatchObject({ state: 'done', messages: { imported: 3 } });
    const zip = await upload(user.id, path.join(files, 'apple.zip'));
    expect(zip.status, JSON.stringify(zip.body)).toBe(201);
    expect(await finished(user.id, zip.body.id)).toMatchObject({ state: 'done', messages: { imported: 1 } });
    expect(await mailbox(user.login, 'INBOX')).toEqual(
      new Map([
        ['md flagged', ['\\Flagged', '\\Seen']],
        ['md answered', ['\\Answered', '\\Seen']],
      ]),
    );
    expect(await mailbox(user.login, 'Lists')).toEqual(new Map([['md list', []]]));
    expect(await mailbox(user.login, 'Travel')).toEqual(new Map([['apple travel', ['\\Flagged', '\\Seen']]]));
  });

  it('refuses a file over limits.max_import_upload, leaving nothing behind', async () => {
    const user = await newUser('big');
    const refused = await upload(user.id, path.join(files, 'big'));
    expect(refused.status).toBe(413);
    expect(refused.body.error.message).toMatch(/larger than 200000 bytes/);
    expect((await harness.call('GET', `/api/users/${user.id}/imports`)).body.jobs).toEqual([]);
    expect(fs.readdirSync(path.join(harness.dataDir, 'uploads'))).toEqual([]);
  });

  it('refuses an upload while an import of the user runs', async () => {
    const user = await newUser('busy');
    // A source that accepts the connection and never greets: the IMAP job runs until cancelled.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const imap = await harness.call('POST', `/api/users/${user.id}/imports`, {
        body: { host: '127.0.0.1', port, security: 'plain', login: 'x', password: 'y' },
      });
      expect(imap.status).toBe(201);
      const refused = await upload(user.id, path.join(files, 'Inbox'));
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/already running/);
      expect(fs.readdirSync(path.join(harness.dataDir, 'uploads'))).toEqual([]);
      await harness.call('POST', `/api/imports/${imap.body.id}/cancel`);
      await finished(user.id, imap.body.id);
    } finally {
      silent.close();
    }
  });
});
