/**
 * The Domains page and the domain picker of "Add user" in Chromium against `mallard panel` with the
 * real server: with no domain the add-user dialog points to the Domains page; a domain is added
 * (a name without a dot and a duplicate are refused with words), a user is made through the
 * picker and logs in over IMAP, the catch-all sends mail for unknown names to that user (an address
 * nobody has is refused), the DKIM record is shown to copy and goes when signing is turned off, and
 * a domain in use cannot be removed while an empty one can.
 */
import { ImapFlow } from 'imapflow';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loginCookie,
  openPanelPage,
  screenshot,
  type Chromium,
  type RunningPanel,
} from '../helpers/panel.ts';
import { sendSmtp, testMessage } from '../inbound/spam-support.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let cookie: string;
let errors: string[];
let password = '';

const WAIT = { timeout: 15_000, interval: 100 };
const text = (locator: Locator) => expect.poll(async () => (await locator.textContent())?.trim(), WAIT);
const count = (locator: Locator) => expect.poll(() => locator.count(), WAIT);
const card = (domain: string) => page.locator(`[data-testid="domain-card"][data-domain="${domain}"]`);

async function apiGet<T>(path: string): Promise<T> {
  const response = await fetch(`${panel.url}${path}`, { headers: { cookie, 'X-Mallard-Panel': '1' } });
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function inboxSubjects(user: string, pass: string): Promise<string[]> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: panel.ports.imaps,
    secure: true,
    auth: { user, pass },
    logger: false,
    disableAutoIdle: true,
    tls: { rejectUnauthorized: false },
  });
  client.on('error', () => {});
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const subjects: string[] = [];
      for await (const message of client.fetch('1:*', { envelope: true }))
        subjects.push(message.envelope?.subject ?? '');
      return subjects;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => {});
  }
}

beforeAll(async () => {
  ({ panel, browser, page, errors } = await openPanelPage({
    beforeBrowser: async (started) => {
      cookie = await loginCookie(started.url, started.adminToken);
    },
  }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe('the Domains page', () => {
  it('with no domain, "Add user" points to the Domains page instead of a form', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByTestId('add-user').click();
    const notice = page.getByTestId('add-user-no-domain');
    await notice.waitFor(WAIT);
    expect(await page.getByTestId('new-username').count()).toBe(0);
    await notice.getByRole('link', { name: 'Domains page' }).click();
    await page.getByRole('heading', { name: 'Domains', level: 2 }).waitFor(WAIT);
    expect(new URL(page.url()).pathname).toBe('/domains');
    await page.getByTestId('domains-empty').waitFor(WAIT);
  });

  it('adds domains; a name without a dot and a duplicate are refused with words', async () => {
    const input = page.getByTestId('domain-add-input');
    await input.fill('example');
    await page.getByText('A domain has a dot (example.org)').waitFor(WAIT);
    expect(await page.getByTestId('domain-add').isDisabled()).toBe(true);
    for (const name of ['example.org', 'Example.NET']) {
      await input.fill(name);
      await page.getByTestId('domain-add').click();
      await card(name.toLowerCase()).waitFor(WAIT);
      await text(input).toBe('');
    }
    await input.fill('example.org');
    await page.getByTestId('domain-add').click();
    const refusal = page.getByRole('alert').filter({ hasText: 'The domain was not added' });
    await refusal.waitFor(WAIT);
    expect(await refusal.textContent()).toMatch(/example\.org/);
    await count(page.getByTestId('domain-card')).toBe(2);
    await text(card('example.org').getByTestId('domain-usage')).toBe('0 users, 0 aliases');
    const listed = await apiGet<{ domains: Array<{ name: string }> }>('/api/domains');
    expect(listed.domains.map((domain) => domain.name)).toEqual(['example.net', 'example.org']);
    await screenshot(page, 'domains-list');
  });

  it('adds a user through the domain picker, who then logs in over IMAP', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByTestId('add-user').click();
    const dialog = page.getByRole('dialog');
    const picker = dialog.getByTestId('new-domain');
    await picker.waitFor(WAIT);
    // The first domain is picked; both are offered.
    expect(await picker.inputValue()).toBe('example.net');
    expect(await picker.locator('option').allTextContents()).toEqual(['@example.net', '@example.org']);
    await dialog.getByLabel('Username').fill('bea');
    await picker.selectOption('example.org');
    await dialog.getByText('The address bea@example.org: both the login name').waitFor(WAIT);
    await screenshot(page, 'domains-add-user-picker');
    await picker.selectOption('example.net');
    await dialog.getByTestId('create-user').click();
    const secret = dialog.getByTestId('generated-password');
    await secret.waitFor(WAIT);
    await text(dialog.getByTestId('created-username')).toBe('bea@example.net');
    password = (await secret.textContent())!.trim();
    await dialog.getByTestId('close-created').click();
    expect(await inboxSubjects('bea@example.net', password)).toEqual([]);
  });

  it('a full address typed keeps its own domain and the picker steps aside', async () => {
    await page.getByTestId('add-user').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Username').fill('cy@example.org');
    expect(await dialog.getByTestId('new-domain').isDisabled()).toBe(true);
    await dialog.getByTestId('create-user').click();
    await text(dialog.getByTestId('created-username')).toBe('cy@example.org');
    await dialog.getByTestId('close-created').click();
  });

  it('sets and clears a catch-all; an address nobody has is refused', async () => {
    await page.getByRole('link', { name: 'Domains' }).click();
    const net = card('example.net');
    // The users just made are counted on their domains.
    await text(net.getByTestId('domain-usage')).toBe('1 user, 0 aliases');
    await text(card('example.org').getByTestId('domain-usage')).toBe('1 user, 0 aliases');
    const input = net.getByTestId('domain-catchall-input');
    await input.fill('nobody@example.net');
    await net.getByTestId('domain-catchall-save').click();
    await net.getByText('No user has the address nobody@example.net').waitFor(WAIT);
    await input.fill('bea@example.net');
    await net.getByTestId('domain-catchall-save').click();
    await text(net.getByTestId('domain-catchall-badge')).toBe('catch-all → bea@example.net');

    // Mail to a name nobody has now reaches bea.
    const sent = await sendSmtp(
      panel.ports.smtp,
      'sender@remote.test',
      ['whoever@example.net'],
      testMessage('sender@remote.test', 'to the catch-all'),
    );
    expect(sent.rcpt[0]).toMatch(/^250/);
    await expect.poll(() => inboxSubjects('bea@example.net', password), WAIT).toEqual(['to the catch-all']);

    await input.fill('');
    await net.getByRole('button', { name: 'Clear catch-all' }).click();
    await count(net.getByTestId('domain-catchall-badge')).toBe(0);
    const { domain } = await apiGet<{ domain: { catchAll: string | null } }>('/api/domains/example.net');
    expect(domain.catchAll).toBeNull();
    const refused = await sendSmtp(
      panel.ports.smtp,
      'sender@remote.test',
      ['whoever@example.net'],
      testMessage('sender@remote.test', 'nobody'),
    );
    expect(refused.rcpt[0]).toMatch(/^550/);
  });

  it('shows the DKIM record ready to copy, and drops it when signing is turned off', async () => {
    const org = card('example.org');
    await org.getByTestId('domain-records-toggle').click();
    const dkim = org.locator('[data-testid="dns-record"][data-purpose="DKIM"]');
    await count(dkim).toBeGreaterThan(0);
    expect(await dkim.first().getByTestId('dns-value').textContent()).toMatch(
      /^v=DKIM1; k=(rsa|ed25519); p=/,
    );
    await count(org.locator('[data-testid="dns-record"][data-purpose="MX"]')).toBe(1);
    await screenshot(page, 'domains-dns-records');
    await org.getByTestId('domain-dkim').click();
    await count(dkim).toBe(0);
    const { domain } = await apiGet<{ domain: { dkim: boolean } }>('/api/domains/example.org');
    expect(domain.dkim).toBe(false);
    await org.getByTestId('domain-dkim').click();
    await count(dkim).toBeGreaterThan(0);
  });

  it('refuses to remove a domain that has users, and removes an empty one', async () => {
    await card('example.net').getByTestId('domain-remove').click();
    const modal = page.getByRole('dialog');
    await modal.getByText('It still has 1 user, 0 aliases').waitFor(WAIT);
    await modal.getByTestId('domain-remove-modal-confirm').click();
    await modal.getByText('Domain example.net is used by 1 user').waitFor(WAIT);
    await modal.getByRole('button', { name: 'Cancel' }).click();
    await count(card('example.net')).toBe(1);

    await page.getByTestId('domain-add-input').fill('spare.example');
    await page.getByTestId('domain-add').click();
    await card('spare.example').getByTestId('domain-remove').click();
    await page.getByRole('dialog').getByTestId('domain-remove-modal-confirm').click();
    await count(card('spare.example')).toBe(0);
    await count(page.getByTestId('domain-card')).toBe(2);
    // The page's own requests refused on purpose (409s) are the only console errors.
    expect(errors.filter((error) => !/status of 409|status of 404/.test(error))).toEqual([]);
  });
});
