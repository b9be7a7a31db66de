/**
 * The Export card of a user's page in Chromium against `mallard panel` with the real server: mail
 * appended over IMAP (flags, dates, a folder with a non-ASCII name) downloads as a Maildir tar
 * that carries the flags in its file names and the dates as mtimes, and one mailbox downloads as
 * an mbox tar; the API answers a bad format or an unknown mailbox with a clear error. The Import
 * card starts an IMAP import from Debian's Dovecot on loopback, shows it running to the end with
 * its counts, and re-runs it with the kept password (nothing twice). The Import from a file card
 * uploads an mbox, and its job runs to the end in the import card.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import type { Page } from 'playwright-core';
import { list as listTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { loginCookie, openPanelPage, type Chromium, type RunningPanel } from '../helpers/panel.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let cookie: string;
let userId = '';
const USER = 'eve@example.org';
const PASSWORD = 'eve-export-password';

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${panel.url}${path}`, {
    method,
    headers: { cookie, 'X-Mallard-Panel': '1', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Every entry of a tar: path, size and mtime, and the text of the small ones. */
async function entries(file: string): Promise<Array<{ path: string; mtime: number; text: string }>> {
  const found: Array<{ path: string; mtime: number; text: string }> = [];
  await listTar({
    file,
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () =>
        found.push({
          path: entry.path,
          mtime: entry.mtime?.getTime() ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    },
  });
  return found;
}

beforeAll(async () => {
  ({ panel, browser, page } = await openPanelPage({
    beforeBrowser: async (started) => {
      panel = started;
      cookie = await loginCookie(panel.url, panel.adminToken);
      expect((await api('POST', '/api/domains', { name: 'example.org' })).status).toBe(201);
      const created = await api('POST', '/api/users', { username: USER, password: PASSWORD });
      expect(created.status).toBe(201);
      userId = ((await created.json()) as { user: { id: string } }).user.id;
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: panel.ports.imap,
        secure: false,
        doSTARTTLS: false,
        auth: { user: USER, pass: PASSWORD },
        logger: false,
        disableAutoIdle: true,
      });
      await client.connect();
      try {
        const raw = (n: number) =>
          `From: friend@example.net\r\nTo: ${USER}\r\nSubject: note ${n}\r\nMessage-ID: <n${n}@example.net>\r\n\r\nFrom the top, note ${n}\r\n`;
        await client.append('INBOX', raw(1), ['\\Seen', '\\Flagged'], new Date('2023-05-01T08:00:00Z'));
        await client.append('INBOX', raw(2), [], new Date('2023-05-02T09:00:00Z'));
        await client.mailboxCreate('Reisen/Zürich');
        await client.append(
          'Reisen/Zürich',
          raw(3),
          ['\\Answered', 'trip'],
          new Date('2023-06-01T10:00:00Z'),
        );
      } finally {
        await client.logout();
      }
    },
  }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
  await dovecot?.stop();
});

let dovecot: DovecotServer | undefined;
const SOURCE = 'old@source.example';
const SOURCE_PASSWORD = 'old-source-secret';

/** Four messages in the source's INBOX, written straight into its Maildir. */
function fillSource(server: DovecotServer): void {
  const dir = path.join(server.dir, 'mail', SOURCE);
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  for (let n = 1; n <= 4; n++) {
    fs.writeFileSync(
      path.join(dir, 'cur', `${1_700_000_000 + n}.M${n}P1.src:2,S`),
      `From: old@source.example\r\nSubject: moved ${n}\r\nMessage-ID: <moved-${n}@source.example>\r\n\r\nHi ${n}\r\n`,
    );
  }
  execFileSync('chown', ['-R', '65534:65534', dir]);
}

describe('export on the user page', () => {
  it('downloads every mailbox as a Maildir tar', async () => {
    await page.goto(`${panel.url}/users/${userId}`);
    const card = page.getByTestId('export-card');
    await card.waitFor({ timeout: 30_000 });
    await card.getByText('Maildir', { exact: true }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByTestId('export-download').click(),
    ]);
    expect(download.suggestedFilename()).toBe('eve@example.org-maildir.tar');
    const files = await entries((await download.path())!);
    const messages = files.filter((entry) => /\/cur\/[^/]+$/.test(entry.path));
    expect(
      messages.map((entry) => [
        entry.path.replace(/\/cur\/\d+\.M\d+P(\d+)\.mallard,S=\d+/, '/cur/$1'),
        entry.mtime,
      ]),
    ).toEqual([
      ['Maildir/cur/1:2,FS', Date.parse('2023-05-01T08:00:00Z')],
      ['Maildir/cur/2:2,', Date.parse('2023-05-02T09:00:00Z')],
      ['Maildir/.Reisen.Z&APw-rich/cur/1:2,Ra', Date.parse('2023-06-01T10:00:00Z')],
    ]);
    expect(files.find((entry) => entry.path === 'Maildir/.Reisen.Z&APw-rich/dovecot-keywords')?.text).toBe(
      '0 trip\n',
    );
  });

  it('downloads one mailbox as an mbox tar', async () => {
    const card = page.getByTestId('export-card');
    await card.getByText('mbox', { exact: true }).click();
    await card.getByTestId('export-mailbox').click();
    await page.getByRole('option', { name: 'Reisen/Zürich' }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByTestId('export-download').click(),
    ]);
    expect(download.suggestedFilename()).toBe('eve@example.org-Reisen_Z_rich-mbox.tar');
    const files = await entries((await download.path())!);
    expect(files.map((entry) => entry.path)).toEqual(['mbox/Reisen/Zürich.mbox']);
    expect(files[0]!.text).toBe(
      'From MAILER-DAEMON Thu Jun  1 10:00:00 2023\nStatus: O\nX-Status: A\nX-Keywords: trip\n' +
        `From: friend@example.net\nTo: ${USER}\nSubject: note 3\nMessage-ID: <n3@example.net>\n\n>From the top, note 3\n\n`,
    );
  });

  it('answers a bad format or an unknown mailbox with a clear error', async () => {
    const badFormat = await api('GET', `/api/users/${userId}/export?format=zip`);
    expect(badFormat.status).toBe(400);
    const noMailbox = await api('GET', `/api/users/${userId}/export?format=mbox&mailbox=Nope`);
    expect(noMailbox.status).toBe(404);
    expect(((await noMailbox.json()) as { error: { message: string } }).error.message).toBe(
      'no such mailbox Nope',
    );
  });
});

describe.skipIf(!dovecotAvailable())('IMAP import on the user page', () => {
  it('starts an import, shows it to the end, and re-runs it with the kept password', async () => {
    dovecot = await startDovecot([[SOURCE, SOURCE_PASSWORD]]);
    fillSource(dovecot);
    await page.goto(`${panel.url}/users/${userId}`);
    const card = page.getByTestId('import-card');
    await card.waitFor({ timeout: 30_000 });
    await card.getByTestId('import-host').fill('127.0.0.1');
    await card.getByTestId('import-security').click();
    await page.getByRole('option', { name: 'None (143)' }).click();
    await card.getByTestId('import-port').fill(String(dovecot.port));
    await card.getByTestId('import-login').fill(SOURCE);
    await card.getByTestId('import-password').fill(SOURCE_PASSWORD);
    await card.getByTestId('import-keep-password').check();
    await card.getByTestId('import-start').click();
    const job = card.getByTestId('import-job').first();
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 60_000, interval: 200 }).toBe('done');
    await expect
      .poll(async () => job.getByTestId('import-progress').textContent(), { timeout: 15_000 })
      .toMatch(/^4\/4 messages, .* · 4 imported, 0 already here, 0 skipped$/);
    // The password field was emptied once the job started.
    expect(await card.getByTestId('import-password').inputValue()).toBe('');

    await job.getByTestId('import-rerun').click();
    await expect.poll(() => card.getByTestId('import-job').count(), { timeout: 15_000 }).toBe(2);
    const again = card.getByTestId('import-job').first();
    await expect
      .poll(() => again.getAttribute('data-state'), { timeout: 60_000, interval: 200 })
      .toBe('done');
    await expect
      .poll(async () => again.getByTestId('import-progress').textContent(), { timeout: 15_000 })
      .toMatch(/^0\/0 messages, .* · 0 imported, 0 already here, 0 skipped$/);
    const inbox = (await (await api('GET', `/api/users/${userId}`)).json()) as {
      mailboxes: Array<{ path: string; messages: number }>;
    };
    expect(inbox.mailboxes.find((m) => m.path === 'INBOX')?.messages).toBe(6);
  });
});

describe('Import from a file on the user page', () => {
  it('uploads an mbox with a progress bar and lists its job to the end', async () => {
    const mbox = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-panel-upload-')), 'Uploaded.mbox');
    fs.writeFileSync(
      mbox,
      `From - Mon Mar  4 09:15:00 2024\nX-Mozilla-Status: 0005\nFrom: a@example.net\nTo: ${USER}\nSubject: uploaded 1\n\nOne\n\n` +
        `From - Tue Mar  5 09:15:00 2024\nFrom: a@example.net\nTo: ${USER}\nSubject: uploaded 2\n\nTwo\n`,
    );
    await page.goto(`${panel.url}/users/${userId}`);
    const card = page.getByTestId('import-upload');
    await card.waitFor({ timeout: 30_000 });
    await card.locator('input[type=file]').setInputFiles(mbox);
    await card.getByTestId('import-upload-start').click();
    const job = page.getByTestId('import-card').getByTestId('import-job').first();
    await expect
      .poll(async () => (await job.textContent()) ?? '', { timeout: 60_000, interval: 200 })
      .toMatch(/^Uploaded\.mbox \(.*uploaded\)done/);
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 60_000, interval: 200 }).toBe('done');
    expect(await job.getByTestId('import-progress').textContent()).toMatch(/^2\/2 messages, .* · 2 imported/);
    const user = (await (await api('GET', `/api/users/${userId}`)).json()) as {
      mailboxes: Array<{ path: string; messages: number }>;
    };
    expect(user.mailboxes.find((m) => m.path === 'Uploaded')?.messages).toBe(2);
  });
});
