/**
 * Spam in the panel, in Chromium against `mallard panel` with the real server: the User page's
 * allow and block lists (checked as typed, added, moved between lists, removed; the API agrees),
 * and the Sessions page's incoming-mail verdicts, live, for mail sent over real SMTP: GTUBE
 * refused with its reply and reasons, a blocked sender filed as Junk.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loginCookie,
  openPanelPage,
  screenshot,
  type Chromium,
  type RunningPanel,
} from '../helpers/panel.ts';
import { GTUBE, sendSmtp, testMessage } from '../inbound/spam-support.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let cookie: string;
let errors: string[];
let userId = '';

const USER = 'grace@example.test';
const WAIT = { timeout: 15_000, interval: 100 };
const count = (locator: Locator) => expect.poll(() => locator.count(), WAIT);
const text = (locator: Locator) => expect.poll(async () => (await locator.textContent())?.trim(), WAIT);

async function apiCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${panel.url}${path}`, {
    method,
    headers: { cookie, 'X-Mallard-Panel': '1', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

const row = (pattern: string) => page.locator(`[data-testid="spam-list-row"][data-pattern="${pattern}"]`);

beforeAll(async () => {
  ({ panel, browser, page, errors } = await openPanelPage({
    beforeBrowser: async (started) => {
      panel = started;
      cookie = await loginCookie(panel.url, panel.adminToken);
      await apiCall('POST', '/api/domains', { name: 'example.test' });
      const created = await apiCall<{ user: { id: string } }>('POST', '/api/users', {
        username: USER,
        password: 'a long password',
      });
      userId = created.user.id;
    },
  }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe('spam lists on the User page', () => {
  it('adds an allowed address and a blocked domain, checked as typed; moves and removes them', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByText(USER).first().click();
    const input = page.getByTestId('spam-sender-input');
    await input.waitFor();
    await input.fill('not a sender');
    await page.getByText('A sender address (name@example.com) or a domain (example.com)').waitFor();
    await input.fill('Friend@Pals.test');
    await page.getByTestId('add-spam-sender').click();
    await row('friend@pals.test').waitFor();
    expect(await row('friend@pals.test').getAttribute('data-list')).toBe('allow');

    await page.getByTestId('spam-list-kind').getByText('Block').click();
    await input.fill('@bulk.test');
    await page.getByTestId('add-spam-sender').click();
    await row('bulk.test').waitFor();
    expect(await row('bulk.test').getAttribute('data-list')).toBe('block');
    await screenshot(page, 'user-spam-lists');

    const listed = await apiCall<{ entries: Array<{ pattern: string; list: string }> }>(
      'GET',
      `/api/users/${encodeURIComponent(userId)}/spam-lists`,
    );
    expect(listed.entries.map((entry) => [entry.pattern, entry.list])).toEqual([
      ['bulk.test', 'block'],
      ['friend@pals.test', 'allow'],
    ]);

    // Blocking the allowed address moves it.
    await input.fill('friend@pals.test');
    await page.getByTestId('add-spam-sender').click();
    await expect.poll(() => row('friend@pals.test').getAttribute('data-list'), WAIT).toBe('block');
    await page.getByRole('button', { name: 'Remove friend@pals.test' }).click();
    await count(row('friend@pals.test')).toBe(0);
  });
});

describe('incoming mail on the Sessions page', () => {
  it('shows, live, a GTUBE message refused with its reply and why, and a blocked sender filed as Junk', async () => {
    await page.getByRole('link', { name: 'Sessions' }).first().click();
    await page.getByTestId('mail-verdicts-empty').waitFor();

    const refused = await sendSmtp(
      panel.ports.smtp,
      'sender@remote.test',
      [USER],
      testMessage('sender@remote.test', 'gtube', GTUBE),
    );
    expect(refused.data).toMatch(/^550 5\.7\.1 /);
    const first = page.getByTestId('mail-verdict-row').first();
    await text(first.getByTestId('mail-verdict-outcome')).toBe('refused');
    await text(first.getByTestId('mail-verdict-recipient')).toBe(USER);
    await text(first.getByTestId('mail-verdict-reasons')).toMatch(
      /^550 5\.7\.1 Message refused as spam · .*spam: score 1000\.0 by mallard \[GTUBE\] → reject/,
    );

    const junked = await sendSmtp(
      panel.ports.smtp,
      'news@mail.bulk.test',
      [USER],
      testMessage('news@mail.bulk.test', 'newsletter'),
    );
    expect(junked.data).toMatch(/^250 /);
    await count(page.getByTestId('mail-verdict-row')).toBe(2);
    const newest = page.getByTestId('mail-verdict-row').first();
    await text(newest.getByTestId('mail-verdict-outcome')).toBe('Junk');
    await text(newest.getByTestId('mail-verdict-reasons')).toContain(
      `spam: bulk.test on ${USER}'s block list`,
    );
    await screenshot(page, 'sessions-incoming-mail');
    expect(errors).toEqual([]);
  });
});
