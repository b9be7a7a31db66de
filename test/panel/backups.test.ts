/**
 * The Backups page against a real `mallard panel` (and its server) in headless Chromium: "Back up
 * now" makes a backup that the page lists with its size and last success, without a reload; when
 * the destination is gone (a file where the folder was, as an unplugged disk leaves it) the run
 * fails, the page shows why and the dashboard raises it.
 */
import fs from 'node:fs';
import path from 'node:path';
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
