/**
 * The Filters page in Chromium against `mallard panel` with the real server: a filter made in the
 * editor files mail delivered over LMTP into its label, as an IMAP client sees it; reordering and
 * "test against recent messages"; the vacation reply set in the page answers a sender once (the
 * reply waits in the outbound queue); the raw Sieve editor shows an error at its line and column;
 * mistakes get readable messages.
 */
import { ImapFlow } from 'imapflow';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpLineClient } from '../delivery/clients.ts';
import {
  loginCookie,
  openPanelPage,
  screenshot,
  type Chromium,
  type RunningPanel,
} from '../helpers/panel.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let cookie: string;
let errors: string[];
let userId = '';

const USER = 'ada@example.org';
const PASSWORD = 'a-long-password';
const WAIT = { timeout: 15_000, interval: 100 };
const text = (locator: Locator) => expect.poll(async () => (await locator.textContent())?.trim(), WAIT);
const count = (locator: Locator) => expect.poll(() => locator.count(), WAIT);

async function apiCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${panel.url}${path}`, {
    method,
    headers: { cookie, 'X-Mallard-Panel': '1', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

async function lmtp(subject: string, from = 'friend@remote.example'): Promise<void> {
  const { client } = await SmtpLineClient.connect(panel.ports.lmtp);
  try {
    expect(await client.command('LHLO client.test')).toMatch(/^250 /m);
    expect(await client.command(`MAIL FROM:<${from}>`)).toMatch(/^250 /);
    expect(await client.command(`RCPT TO:<${USER}>`)).toMatch(/^250 /);
    const id = `${Date.now()}.${Math.random()}@remote.example`;
    const raw = `From: ${from}\r\nTo: ${USER}\r\nSubject: ${subject}\r\nMessage-ID: <${id}>\r\n\r\nHello.\r\n`;
    expect(await client.data(Buffer.from(raw))).toEqual([expect.stringMatching(/^250 /)]);
  } finally {
    client.close();
  }
}

/** Subjects and flags in a mailbox, over IMAPS as the user. */
async function mailbox(path: string): Promise<{ subject: string; flags: string[] }[]> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: panel.ports.imaps,
    secure: true,
    auth: { user: USER, pass: PASSWORD },
    logger: false,
    disableAutoIdle: true,
    tls: { rejectUnauthorized: false },
  });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.mailboxOpen(path);
    const found: { subject: string; flags: string[] }[] = [];
    for await (const item of client.fetch('1:*', { envelope: true, flags: true }))
      found.push({
        subject: item.envelope?.subject ?? '',
        flags: [...(item.flags ?? [])].filter((flag) => flag !== '\\Recent').sort(),
      });
    return found;
  } finally {
    await client.logout().catch(() => {});
  }
}

beforeAll(async () => {
  ({ panel, browser, page, errors } = await openPanelPage({
    beforeBrowser: async (started) => {
      panel = started;
      cookie = await loginCookie(panel.url, panel.adminToken);
      await apiCall('POST', '/api/domains', { name: 'example.org' });
      const created = await apiCall<{ user: { id: string } }>('POST', '/api/users', {
        username: USER,
        password: PASSWORD,
      });
      userId = created.user.id;
    },
  }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe('the Filters page', () => {
  it('is reached from the user page; a filter made there files delivered mail into its label', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.locator(`[data-testid="user-row"][data-username="${USER}"] a`).click();
    await page.getByTestId('filters-link').click();
    await page.getByTestId('filter-create').click();
    const dialog = page.getByTestId('filter-editor');
    // Nothing filled in: a readable reason, nothing sent.
    await dialog.getByTestId('filter-save').click();
    await text(dialog.getByTestId('filter-problem')).toBe('Give at least one condition.');
    await dialog.getByTestId('filter-subject').fill('invoice');
    await dialog.getByTestId('filter-save').click();
    await text(dialog.getByTestId('filter-problem')).toBe('Choose at least one thing to do.');
    await dialog.getByTestId('filter-name').fill('Bills');
    await dialog.getByTestId('filter-label').fill('Bills');
    await dialog.getByTestId('filter-skipInbox').check();
    await dialog.getByTestId('filter-star').check();
    await dialog.getByTestId('filter-save').click();
    await count(page.getByTestId('filter-row')).toBe(1);
    await text(page.getByTestId('filter-summary')).toBe(
      'subject "invoice" → label Bills, skip the inbox, star',
    );
    await screenshot(page, 'filters-list');

    await lmtp('Your invoice 42');
    await lmtp('Lunch on Friday?');
    await expect
      .poll(() => mailbox('Bills'), WAIT)
      .toEqual([{ subject: 'Your invoice 42', flags: ['\\Flagged'] }]);
    expect(await mailbox('INBOX')).toEqual([{ subject: 'Lunch on Friday?', flags: [] }]);
  });

  it('reorders filters and tests them against the recent messages', async () => {
    await page.getByTestId('filter-create').click();
    const dialog = page.getByTestId('filter-editor');
    await dialog.getByTestId('filter-from').fill('friend@');
    await dialog.getByTestId('filter-markRead').check();
    await dialog.getByTestId('filter-save').click();
    await count(page.getByTestId('filter-row')).toBe(2);
    await page.getByRole('button', { name: 'Move filter 2 up' }).click();
    await text(page.getByTestId('filter-summary').first()).toBe('from friend@ → mark as read');
    const saved = await apiCall<{ settings: { filters: { conditions: object }[] } }>(
      'GET',
      `/api/users/${userId}/filters`,
    );
    expect(saved.settings.filters.map((filter) => filter.conditions)).toEqual([
      { from: 'friend@' },
      { subject: 'invoice' },
    ]);

    await page.getByTestId('filters-test').click();
    const rows = page.getByTestId('filters-test-row');
    await count(rows).toBe(1);
    // The INBOX holds the lunch message only: filter 1 (from friend@) matches it, and it would be read.
    expect(await rows.first().getAttribute('data-matched')).toBe('1');
    await text(rows.first().locator('td').nth(2)).toBe('keep in INBOX (flags \\Seen)');
    await screenshot(page, 'filters-test');
  });

  it('sets a vacation reply with a preview, which answers a sender once', async () => {
    await page.getByTestId('tab-away').click();
    await page.getByTestId('vacation-subject').fill('Away until Monday');
    await page.getByTestId('vacation-body').fill('I am away; I will answer on Monday.');
    await page.getByTestId('vacation-until').fill('2999-12-31');
    await page.getByTestId('vacation-addresses').fill('ada@old-provider.example, ada.lovelace@example.org');
    await text(page.getByTestId('vacation-preview')).toMatch(
      /Subject: Away until Monday\n[^]*I am away; I will answer on Monday\.$/,
    );
    await page.getByTestId('vacation-save').click();
    await text(page.getByTestId('vacation-state')).toBe(
      'On, until 2999-12-31: each sender gets the reply at most once every 7 days.',
    );
    await screenshot(page, 'filters-vacation');
    // The other addresses went into the vacation command (RFC 5230 :addresses).
    const saved = await apiCall<{ settings: { vacation: { addresses: string[] } | null } }>(
      'GET',
      `/api/users/${userId}/filters`,
    );
    expect(saved.settings.vacation?.addresses).toEqual([
      'ada@old-provider.example',
      'ada.lovelace@example.org',
    ]);

    await lmtp('Are you there?', 'asker@remote.example');
    await lmtp('Hello again?', 'asker@remote.example');
    const repliesTo = async (address: string) =>
      (
        await apiCall<{ messages: { recipients: { address: string }[] }[] }>('GET', '/api/queue')
      ).messages.filter((message) => message.recipients.some((recipient) => recipient.address === address))
        .length;
    await expect.poll(() => repliesTo('asker@remote.example'), WAIT).toBe(1);
    // Both messages arrived; the second got no second reply.
    expect((await mailbox('INBOX')).map((entry) => entry.subject)).toContain('Hello again?');
    expect(await repliesTo('asker@remote.example')).toBe(1);
  });

  it('refuses a bad forwarding address with a readable message', async () => {
    await page.getByTestId('forwarding-address').fill('not an address');
    await page.getByTestId('forwarding-save').click();
    await text(page.getByRole('alert').filter({ hasText: 'Forwarding was not saved' })).toMatch(
      /must be an email address/,
    );
    await page.getByTestId('forwarding-address').fill('ada@elsewhere.example');
    await page.getByTestId('forwarding-save').click();
    await text(page.getByTestId('forwarding-state')).toBe(
      'All mail is forwarded to ada@elsewhere.example, and a copy kept here.',
    );
  });

  it('shows a Sieve error at its line and column in the raw editor', async () => {
    await page.getByTestId('tab-raw').click();
    await expect
      .poll(() => page.getByTestId('raw-script').inputValue(), WAIT)
      .toMatch(/^# Made by Mallard's Filters page/);
    await page
      .getByTestId('raw-script')
      .fill('require "fileinto";\nif header :is "subject" "x" {\n  fileinto "Lists"\n}\n');
    await page.getByTestId('raw-check').click();
    await text(page.getByTestId('raw-error')).toMatch(
      /Line 4, column 1: expected ";" or "\{", found punct "\}"$/,
    );
    await screenshot(page, 'filters-raw-error');
    await page
      .getByTestId('raw-script')
      .fill('require "fileinto";\nif header :is "subject" "x" {\n  fileinto "Lists";\n}\n');
    await page.getByTestId('raw-save').click();
    await text(page.getByTestId('raw-ok')).toBe('Saved and active as "my-filters".');
    // The Filters page now says its settings are not in force, and saves only when told to replace.
    await page.reload();
    await text(page.getByTestId('filters-conflict')).toMatch(
      /The active Sieve script is "my-filters", written by hand/,
    );
  });

  it('logged no unexpected errors in the browser', () => {
    // 400s the tests provoked on purpose show as failed resources.
    expect(errors.filter((error) => !/Failed to load resource/.test(error))).toEqual([]);
  });
});
