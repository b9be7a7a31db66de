/**
 * The Outgoing mail (queue) page in Chromium against a real `mallard panel`: a message queued in
 * the server's store shows with its recipient's state and last error; Retry now and Delete act on
 * it through the admin API. The delivery history (dashboard and this page) counts the deferred
 * attempts and a `mallard deliver` from the command line, live on the dashboard, whose connection
 * counts include submission.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/password.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { MALLARD_BIN, ROOT } from '../helpers/cli.ts';
import { freePort } from '../helpers/ports.ts';
import { runProcess } from '../helpers/process.ts';
import { SmtpLineClient } from '../delivery/clients.ts';
import { openPanelPage, screenshot, type Chromium, type RunningPanel } from '../helpers/panel.ts';

let panel: RunningPanel;
let chromium: Chromium;
let page: Page;
let consoleErrors: string[];
let submissionPort: number;

beforeAll(async () => {
  submissionPort = await freePort('127.0.0.1');
  ({
    panel,
    browser: chromium,
    page,
    errors: consoleErrors,
  } = await openPanelPage({
    configYaml: `submission: {enabled: true, port: ${submissionPort}, tls_port: 0}`,
  }));
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await panel?.stop();
});

describe('Outgoing mail page', () => {
  it('shows queued messages with each recipient state and error, retries and deletes', async () => {
    await page.goto(`${panel.url}/queue`);
    await page.getByTestId('queue-empty').waitFor();
    // Only this page's messages count (the dashboard the login lands on has its own).
    consoleErrors.splice(0);

    // The supervised server shares the store: a message queued there is the server's queue.
    const store = await SqliteStore.open(panel.dataDir);
    try {
      await store.enqueueOutbound({
        userId: null,
        sender: 'olga@example.test',
        recipients: ['friend@nowhere.test'],
        raw: Buffer.from('Subject: hello\r\n\r\nhi\r\n'),
      });
    } finally {
      await store.close();
    }
    // The server tries it at once; its DNS (loopback, nothing there) fails: deferred with the reason.
    await page.getByRole('link', { name: 'Outgoing mail' }).click();
    await page.reload();
    await page.getByTestId('queue-state').getByText('deferred').waitFor({ timeout: 30_000 });
    await page
      .getByTestId('queue-error')
      .getByText(/DNS lookup of nowhere\.test failed/)
      .waitFor();
    await page.getByTestId('queue-row').getByText('olga@example.test').waitFor();
    // The attempt is in the history below the queue.
    await page
      .getByTestId('delivery-history-totals')
      .getByText(/deferred 1\b/)
      .waitFor();
    expect(await page.getByTestId('delivery-history').getAttribute('data-days')).toBe('30');
    await screenshot(page, 'queue');

    await page.getByTestId('queue-retry').click();
    // Tried again at once: two attempts now.
    await page
      .getByTestId('queue-recipient')
      .getByText(/2 attempts/)
      .waitFor({ timeout: 30_000 });

    await page.getByTestId('queue-delete').click();
    await page.getByTestId('queue-empty').waitFor();
    expect(consoleErrors).toEqual([]);
  }, 120_000);

  it("shows today's deliveries on the dashboard, live, counting a delivery from the command line", async () => {
    const store = await SqliteStore.open(panel.dataDir);
    try {
      await store.createUser({ username: 'olga@example.test', passwordHash: await hashPassword('secret') });
    } finally {
      await store.close();
    }
    await page.goto(`${panel.url}/`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByTestId('deliveries').getByText('0', { exact: true }).waitFor({ timeout: 30_000 });
    consoleErrors.splice(0);

    const delivered = await runProcess(process.execPath, [MALLARD_BIN, 'deliver', 'olga@example.test'], {
      cwd: ROOT,
      input: 'From: a@b.test\r\nSubject: by the CLI\r\n\r\nhello\r\n',
      timeoutMs: 60_000,
      env: { ...process.env, MALLARD_CONFIG: panel.configFile, MALLARD_LOG_LEVEL: 'warn' },
    });
    expect(delivered.status, delivered.stderr).toBe(0);
    // The server's status event carries today's counts from the store: no reload.
    await page.getByTestId('deliveries').getByText('1', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await page.getByText(/stored here 1 · sent 0 · deferred \d+ · bounced 0/).count()).toBe(1);
    await page.reload();
    await page
      .getByTestId('delivery-history-totals')
      .getByText(/stored here 1\b/)
      .waitFor({ timeout: 30_000 });
    await screenshot(page, 'dashboard-deliveries');

    // A mail client on submission shows among the connections, live.
    const { client } = await SmtpLineClient.connect(submissionPort);
    await page
      .getByTestId('connections-submission')
      .getByText('1', { exact: true })
      .waitFor({ timeout: 30_000 });
    await page.getByTestId('connections-total').getByText('1', { exact: true }).waitFor();
    client.close();
    await page
      .getByTestId('connections-submission')
      .getByText('0', { exact: true })
      .waitFor({ timeout: 30_000 });
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
