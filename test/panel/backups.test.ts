/**
 * The Backups page against a real `mallard panel` (and its server) in headless Chromium: "Back up
 * now" makes a backup that the page lists with its size and last success, without a reload; when
 * the destination is gone (a file where the folder was, as an unplugged disk leaves it) the run
 * fails, the page shows why and the dashboard raises it. "Restore…" brings a mailbox deleted over
 * IMAP back under its old UIDs, seen again by an IMAP client.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBackup } from '../../server/backup/verify.ts';
import { makeDataDir } from '../helpers/cli.ts';
import { openPanelPage, screenshot, type Chromium, type RunningPanel } from '../helpers/panel.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let errors: string[];
let parent: string;
let destination: string;

beforeAll(async () => {
  parent = makeDataDir('mallard-backup-panel-');
  destination = path.join(parent, 'backups');
  ({ panel, browser, page, errors } = await openPanelPage({
    configYaml: `backup:\n  destination: ${JSON.stringify(destination)}`,
  }));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
  fs.rmSync(parent, { recursive: true, force: true });
});

const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim() ?? '';

describe('Backups page', () => {
  it('backs up now and lists the backup, with its size and the next run', async () => {
    await page.getByRole('link', { name: 'Backups' }).click();
    await page.getByTestId('backup-card').waitFor();
    expect(await text('backup-last-success')).toBe('Last success: never');
    expect(await text('backup-next-run')).toMatch(/^Next run: .*\d/);
    await page.getByTestId('backup-now').click();
    await page.getByTestId('backup-row').first().waitFor({ timeout: 60_000 });
    const files = fs.readdirSync(destination).filter((name) => name.endsWith('.mbk'));
    expect(files).toHaveLength(1);
    expect(await page.getByTestId('backup-row').first().textContent()).toContain(files[0]);
    await page.getByTestId('backup-last-success').filter({ hasNotText: 'never' }).waitFor();
    expect(await text('backup-last-success')).toMatch(/ · [\d.]+ (B|KiB|kB|KB)$/);
    expect((await verifyBackup(path.join(destination, files[0]!), null)).ok).toBe(true);
    await screenshot(page, 'backups');
  });

  it('restores a mailbox deleted over IMAP from the page, under its old UIDs', async () => {
    const admin = (method: string, route: string, body: unknown) =>
      fetch(`http://127.0.0.1:${panel.ports.admin}${route}`, {
        method,
        headers: { authorization: `Bearer ${panel.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await admin('POST', '/api/domains', { name: 'example.test' })).status).toBe(201);
    const account = { user: 'carol@example.test', pass: 'a long right password' };
    expect(
      (await admin('POST', '/api/users', { username: account.user, password: account.pass })).status,
    ).toBe(201);
    const connect = async () => {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: panel.ports.imap,
        secure: false,
        doSTARTTLS: false,
        auth: account,
        logger: false,
      });
      await client.connect();
      return client;
    };
    const uidsOf = async (client: ImapFlow) => {
      const lock = await client.getMailboxLock('Projects');
      try {
        const seen: Array<{ uid: number; subject: string }> = [];
        for await (const m of client.fetch('1:*', { uid: true, envelope: true }))
          seen.push({ uid: m.uid, subject: m.envelope?.subject ?? '' });
        return { uidValidity: Number((client.mailbox as { uidValidity: bigint }).uidValidity), seen };
      } finally {
        lock.release();
      }
    };
    let client = await connect();
    await client.mailboxCreate('Projects');
    for (let i = 1; i <= 5; i++)
      await client.append('Projects', `Subject: project ${i}\r\nFrom: a@example.net\r\n\r\nnotes ${i}\r\n`);
    // Two expunged: the UIDs left are not 1..n, so new UIDs would show.
    const lock = await client.getMailboxLock('Projects');
    await client.messageDelete('2,4', { uid: true });
    lock.release();
    const before = await uidsOf(client);
    expect(before.seen.map((m) => m.uid)).toEqual([1, 3, 5]);

    const earlier = new Set(fs.readdirSync(destination));
    await page.getByTestId('backup-now').click();
    await expect
      .poll(() => fs.readdirSync(destination).find((name) => name.endsWith('.mbk') && !earlier.has(name)), {
        timeout: 60_000,
      })
      .toBeDefined();
    const name = fs.readdirSync(destination).find((n) => n.endsWith('.mbk') && !earlier.has(n))!;

    await client.mailboxDelete('Projects');
    expect((await client.list()).map((m) => m.path)).not.toContain('Projects');
    await client.logout();

    const row = page.getByTestId('backup-row').filter({ hasText: name });
    await row.waitFor({ timeout: 30_000 });
    await row.getByTestId('restore-open').click();
    await page.getByTestId('restore-user').fill(account.user);
    await page.getByTestId('restore-mailbox').fill('Projects');
    await page.getByTestId('restore-confirm').click();
    const status = page.getByTestId('restore-status');
    await page.locator('[data-testid="restore-status"][data-phase="done"]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('restore-mailbox-result').textContent()).toBe(
      'Projects: 3 restored — UIDs kept',
    );
    expect(await status.textContent()).toContain(`Restore of ${account.user} Projects from ${name}`);
    await screenshot(page, 'backups-restored');

    client = await connect();
    try {
      expect(await uidsOf(client)).toEqual(before);
    } finally {
      await client.logout();
    }
    // The whole server is a command, said in the dialog.
    await row.getByTestId('restore-open').click();
    await page.getByTestId('restore-scope').getByText('Whole server').click();
    expect(await page.getByTestId('restore-server-help').textContent()).toContain(
      `mallard backup restore ${destination}/${name}`,
    );
    await page.getByTestId('restore-close').click();
  }, 180_000);

  it('shows a failed run with its reason, on the page and the dashboard', async () => {
    fs.rmSync(destination, { recursive: true, force: true });
    fs.writeFileSync(destination, 'the disk is gone');
    await page.getByTestId('backup-now').click();
    const error = page.getByTestId('backup-error');
    await error.waitFor({ timeout: 60_000 });
    expect(await error.textContent()).toMatch(/EEXIST|ENOTDIR|not a directory|file already exists/);
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const warning = page.getByTestId('backup-warning');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/The earlier backups are untouched/);
    await warning.getByRole('link', { name: 'Backups page' }).click();
    await page.getByTestId('backup-card').waitFor();
    expect(errors).toEqual([]);
  });
});
