/**
 * The Outgoing mail (queue) page in Chromium against a real `mallard panel`: a message queued in
 * the server's store shows with its recipient's state and last error; Retry now and Delete act on
 * it through the admin API.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { openPanelPage, screenshot, type Chromium, type RunningPanel } from '../helpers/panel.ts';

let panel: RunningPanel;
let chromium: Chromium;
let page: Page;
let consoleErrors: string[];

beforeAll(async () => {
  ({ panel, browser: chromium, page, errors: consoleErrors } = await openPanelPage());
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
});
