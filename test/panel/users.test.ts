/**
 * The Users, User and Connect-a-device pages in Chromium against `mallard panel` with the real
 * server: create a user with a generated password and log in as that user over IMAP with the
 * password read from the page, quota edits and the bar, aliases (a duplicate is an error on the
 * page), app passwords with their QR code, disable, delete with the typed confirmation, and the
 * .mobileconfig / autoconfig downloads parsed back.
 */
import fs from 'node:fs';
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
import { parsePlist } from './plist-parse.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let cookie: string;
let errors: string[];
/** Console errors the test provokes on purpose (the 409 of a duplicate alias). */
const expectedErrors: RegExp[] = [];
const failedResponses: string[] = [];

const USER = 'ada@example.org';
const WAIT = { timeout: 15_000, interval: 100 };

// playwright-core has no web-first assertions: these poll with vitest's expect.poll instead.
const text = (locator: Locator) => expect.poll(async () => (await locator.textContent())?.trim(), WAIT);
const count = (locator: Locator) => expect.poll(() => locator.count(), WAIT);
const attr = (locator: Locator, name: string) => expect.poll(() => locator.getAttribute(name), WAIT);
const disabled = (locator: Locator) => expect.poll(() => locator.isDisabled(), WAIT);
let userId = '';
let generated = '';

async function apiCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${panel.url}${path}`, {
    method,
    headers: { cookie, 'X-Mallard-Panel': '1', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** Logs in over IMAPS (the server's own certificate) and lists the mailboxes; throws when refused. */
async function imapLogin(user: string, pass: string): Promise<string[]> {
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
    return (await client.list()).map((mailbox) => mailbox.path);
  } finally {
    await client.logout().catch(() => {});
  }
}

/** The capabilities an IMAP client is offered once logged in. */
async function imapCapabilities(user: string, pass: string): Promise<string[]> {
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
    return [...client.capabilities.keys()];
  } finally {
    await client.logout().catch(() => {});
  }
}

async function imapRefused(user: string, pass: string): Promise<boolean> {
  try {
    await imapLogin(user, pass);
    return false;
  } catch {
    return true;
  }
}

beforeAll(async () => {
  ({ panel, browser, page, errors } = await openPanelPage({
    // A local CA and a server certificate it signs, so the device profile carries the CA. Made before
    // the browser opens: the key generation holds the server's event loop for seconds.
    beforeBrowser: async (started) => {
      panel = started;
      cookie = await loginCookie(panel.url, panel.adminToken);
      // Users go only into local domains.
      await apiCall('POST', '/api/domains', { name: 'example.org' });
      await apiCall('POST', '/api/certificates', { type: 'server', names: ['localhost'], activate: true });
    },
  }));
  // Which requests failed, to tell what a "Failed to load resource" console error was about.
  page.on('response', (response) => {
    if (response.status() >= 400) {
      failedResponses.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe('users in the panel', () => {
  it('shows an empty users table, then creates a user with a generated password', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByTestId('users-empty').waitFor();
    await page.getByTestId('add-user').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Username').fill('not an address');
    await dialog.getByText('An email address, like name@example.com').waitFor();
    // Taken, but with a warning: no other server can send mail to a domain without a dot.
    await dialog.getByLabel('Username').fill('ada@localhost');
    await expect(dialog.getByTestId('address-warning').textContent()).resolves.toMatch(
      /^"localhost" has no dot: mail from other servers cannot reach it/,
    );
    await dialog.getByLabel('Username').fill(USER);
    expect(await dialog.getByTestId('address-warning').count()).toBe(0);
    await dialog.getByLabel('Display name').fill('Ada Lovelace');
    await dialog.getByRole('textbox', { name: 'Quota' }).fill('1');
    await dialog.getByLabel('Unit').selectOption('GB');
    await shot('users-add-form');
    await dialog.getByTestId('create-user').click();
    const secret = dialog.getByTestId('generated-password');
    await secret.waitFor();
    generated = (await secret.textContent())!.trim();
    expect(generated).toMatch(/^[A-Za-z0-9_-]{20}$/);
    await dialog.getByText('it will not be shown again').waitFor();
    await shot('users-add-generated-password');
  });

  it('logs in over IMAP as the new user with the password read from the page', async () => {
    const mailboxes = await imapLogin(USER, generated);
    expect(mailboxes).toContain('INBOX');
    expect(await imapRefused(USER, `${generated}x`)).toBe(true);
  });

  it('lists the user with its quota bar; search and paging are done by the server', async () => {
    await page.getByRole('dialog').getByTestId('close-created').click();
    const row = page.locator('[data-testid="user-row"][data-username="ada@example.org"]');
    await row.waitFor();
    await text(row.getByTestId('quota-label')).toMatch(/ of 1(\.0)? GB \(0 %\)$/);
    // 26 more users: two pages of 25.
    for (let i = 1; i <= 26; i++) {
      const n = String(i).padStart(2, '0');
      await apiCall('POST', '/api/users', { username: `user${n}@example.org`, password: 'a-long-password' });
    }
    // In-app navigation, no reload: the list is fetched again when the page mounts.
    await page.getByRole('link', { name: 'Connection rules' }).click();
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await text(page.getByTestId('user-total')).toBe('27 users');
    await count(page.getByTestId('user-row')).toBe(25);
    await page.getByRole('button', { name: '2', exact: true }).click();
    await count(page.getByTestId('user-row')).toBe(2);
    await page.getByTestId('user-search').fill('user1');
    await text(page.getByTestId('user-total')).toBe('10 users found');
    await count(page.getByTestId('user-row')).toBe(10);
    await page.getByTestId('user-search').fill('lovelace');
    await count(page.getByTestId('user-row')).toBe(1);
    await page.getByTestId('user-search').fill('');
    await count(page.getByTestId('user-row')).toBe(25);
    await shot('users-list');
  });

  it('edits the quota and the bar follows the usage', async () => {
    // 200 KiB of mail, appended over IMAP.
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: panel.ports.imaps,
      secure: true,
      auth: { user: USER, pass: generated },
      logger: false,
      tls: { rejectUnauthorized: false },
    });
    client.on('error', () => {});
    await client.connect();
    const body = 'x'.repeat(76) + '\r\n';
    const message = `From: a@example.org\r\nTo: ${USER}\r\nSubject: big\r\n\r\n${body.repeat(2600)}`;
    await client.append('INBOX', message);
    await client.logout();

    await page.locator('[data-testid="user-row"][data-username="ada@example.org"] a').click();
    await page.getByTestId('user-title').waitFor();
    userId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const inbox = page.locator('[data-testid="mailbox-row"][data-path="INBOX"]');
    await text(inbox.locator('td').nth(1)).toBe('1');
    await page.getByTestId('edit-quota-unit').selectOption('MB');
    await page.getByRole('textbox', { name: 'Quota' }).fill('0.22');
    await page.getByTestId('save-user').click();
    const detail = await waitForQuota(Math.round(0.22 * 1024 * 1024));
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const percent = (detail.quota.usedBytes / detail.quota.limitBytes) * 100;
    expect(percent).toBeGreaterThan(80);
    const bar = page.getByTestId('quota-bar').first();
    await attr(bar, 'data-percent').toBe(String(percent));
    const label = await bar.getByTestId('quota-label').textContent();
    expect(label).toMatch(new RegExp(`^[\\d.]+ KB of 225 KB \\(${Math.round(percent)} %\\)$`));
  });

  it('counts the open sessions live from the event stream', async () => {
    const summary = page.getByTestId('user-summary');
    await text(summary).toMatch(/0 open sessions$/);
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: panel.ports.imaps,
      secure: true,
      auth: { user: USER, pass: generated },
      logger: false,
      disableAutoIdle: true,
      tls: { rejectUnauthorized: false },
    });
    client.on('error', () => {});
    await client.connect();
    await text(summary).toMatch(/1 open session$/);
    await client.logout();
    await text(summary).toMatch(/0 open sessions$/);
  });

  it('adds an alias checked as typed, and shows a duplicate as an error', async () => {
    const input = page.getByTestId('alias-input');
    await input.fill('sales');
    await page.getByText('An email address, like name@example.com').waitFor();
    await disabled(page.getByTestId('add-alias')).toBe(true);
    await input.fill('sales@example.org');
    await page.getByTestId('add-alias').click();
    await page.locator('[data-testid="alias-row"][data-address="sales@example.org"]').waitFor();
    expectedErrors.push(/status of 409/);
    await input.fill('sales@example.org');
    await page.getByTestId('add-alias').click();
    const alert = page.getByRole('alert').filter({ hasText: 'The alias was not added' });
    await text(alert).toContain('sales@example.org is taken');
    const addresses = await apiCall<{ addresses: { address: string }[] }>(
      'GET',
      `/api/users/${encodeURIComponent(userId)}/aliases`,
    );
    expect(addresses.addresses.map((entry) => entry.address)).toEqual([USER, 'sales@example.org']);
    await shot('user-page');
    await page.getByRole('button', { name: 'Remove sales@example.org' }).click();
    await count(page.locator('[data-testid="alias-row"][data-address="sales@example.org"]')).toBe(0);
  });

  it('sets a new generated password, shown once, which logs in while the old one no longer does', async () => {
    await page.getByTestId('change-password').click();
    const shown = page.getByTestId('changed-password');
    await shown.waitFor();
    const fresh = (await shown.textContent())!.trim();
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(fresh).not.toBe(generated);
    expect(await imapLogin(USER, fresh)).toContain('INBOX');
    expect(await imapRefused(USER, generated)).toBe(true);
    generated = fresh;
  });

  it('creates an app password shown once with a QR code, which logs in; revokes it after asking', async () => {
    await page.getByTestId('app-password-label').fill('Phone');
    await page.getByTestId('create-app-password').click();
    const secret = (await page.getByTestId('app-password-secret').textContent())!.trim();
    await page.getByTestId('app-password-secret-qr').waitFor();
    const qr = await page.getByTestId('app-password-secret-qr').getAttribute('src');
    expect(qr).toMatch(/^data:image\/png;base64,/);
    await shot('user-app-password-qr');
    expect(await imapLogin(USER, secret)).toContain('INBOX');

    await page
      .locator('[data-testid="app-password-row"][data-label="Phone"]')
      .getByTestId('revoke-app-password')
      .click();
    const dialog = page.getByRole('dialog');
    await text(dialog).toContain('Revoke "Phone"?');
    await dialog.getByTestId('revoke-confirm').click();
    await count(page.getByTestId('app-password-row')).toBe(0);
    expect(await imapRefused(USER, secret)).toBe(true);
  });

  it('turns "save a copy to Sent" on and off (off for a new user)', async () => {
    const toggle = page.getByTestId('toggle-save-sent');
    await expect.poll(() => toggle.isChecked(), WAIT).toBe(false);
    await toggle.click({ force: true });
    await expect.poll(() => toggle.isChecked(), WAIT).toBe(true);
    await expect
      .poll(
        async () => (await apiCall<{ saveSentCopy: boolean }>('GET', `/api/users/${userId}`)).saveSentCopy,
        WAIT,
      )
      .toBe(true);
    await toggle.click({ force: true });
    await expect
      .poll(
        async () => (await apiCall<{ saveSentCopy: boolean }>('GET', `/api/users/${userId}`)).saveSentCopy,
        WAIT,
      )
      .toBe(false);
  });

  it('offers IMAP UIDONLY per user: off, on, and back to the server default', async () => {
    const choice = page.getByTestId('uidonly-choice');
    const stored = async () =>
      (await apiCall<{ uidOnly: boolean | null }>('GET', `/api/users/${userId}`)).uidOnly;
    expect(await stored()).toBeNull();
    expect(await imapCapabilities(USER, generated)).toContain('UIDONLY');
    await choice.getByText('Off', { exact: true }).click();
    await expect.poll(stored, WAIT).toBe(false);
    // What the user's mail client sees at its next login: no UIDONLY offered.
    expect(await imapCapabilities(USER, generated)).not.toContain('UIDONLY');
    await choice.getByText('On', { exact: true }).click();
    await expect.poll(stored, WAIT).toBe(true);
    await choice.getByText('Server default', { exact: true }).click();
    await expect.poll(stored, WAIT).toBeNull();
    expect(await imapCapabilities(USER, generated)).toContain('UIDONLY');
  });

  it('disables and enables the user', async () => {
    await page.getByTestId('toggle-disabled').click();
    await page.getByTestId('user-disabled-badge').waitFor();
    expect(await imapRefused(USER, generated)).toBe(true);
    await page.getByTestId('toggle-disabled').click();
    await count(page.getByTestId('user-disabled-badge')).toBe(0);
    expect(await imapLogin(USER, generated)).toContain('INBOX');
  });
});

describe('connect a device', () => {
  it('shows the server settings and downloads a .mobileconfig with the right host and ports', async () => {
    await page.getByTestId('connect-device-link').click();
    await page.waitForURL(/\/devices\?user=ada%40example\.org$/);
    await text(page.getByTestId('setting-hostname')).toBe('localhost');
    await text(page.getByTestId('setting-username')).toBe(USER);
    const endpoint = (protocol: string, security: string) =>
      page.locator(
        `[data-testid="setting-endpoint"][data-protocol="${protocol}"][data-security="${security}"]`,
      );
    await attr(endpoint('imap', 'ssl'), 'data-port').toBe(String(panel.ports.imaps));
    await attr(endpoint('imap', 'starttls'), 'data-port').toBe(String(panel.ports.imap));
    await attr(endpoint('pop3', 'ssl'), 'data-port').toBe(String(panel.ports.pop3s));
    await attr(endpoint('pop3', 'starttls'), 'data-port').toBe(String(panel.ports.pop3));
    await text(page.getByTestId('setting-smtp-in')).toContain(`Port ${panel.ports.smtp}`);
    await expect.poll(() => page.getByTestId('profile-include-ca').isChecked(), WAIT).toBe(true);
    await shot('devices');

    await page.getByTestId('outgoing-host').fill('smtp.provider.example');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-mobileconfig').click(),
    ]);
    expect(download.suggestedFilename()).toBe('ada@example.org.mobileconfig');
    const tree = parsePlist(fs.readFileSync((await download.path())!, 'utf8'));
    const payloads = tree.PayloadContent as Record<string, unknown>[];
    const mail = payloads.find((payload) => payload.PayloadType === 'com.apple.mail.managed')!;
    expect(mail).toMatchObject({
      EmailAccountType: 'EmailTypeIMAP',
      IncomingMailServerHostName: 'localhost',
      IncomingMailServerPortNumber: panel.ports.imaps,
      IncomingMailServerUseSSL: true,
      IncomingMailServerUsername: USER,
      EmailAccountName: 'Ada Lovelace',
      OutgoingMailServerHostName: 'smtp.provider.example',
      OutgoingMailServerPortNumber: 587,
      OutgoingMailServerAuthentication: 'EmailAuthPassword',
    });
    expect(mail).not.toHaveProperty('IncomingPassword');
    const root = payloads.find((payload) => payload.PayloadType === 'com.apple.security.root')!;
    const der = Buffer.from(
      await (
        await fetch(`${panel.url}/api/certificates/authority.der`, { headers: { cookie } })
      ).arrayBuffer(),
    );
    expect(Buffer.from((root.PayloadContent as { $data: string }).$data, 'base64').equals(der)).toBe(true);
  });

  it('downloads a Thunderbird autoconfig with every port, and the CA for phones', async () => {
    const [autoconfig] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-autoconfig').click(),
    ]);
    expect(autoconfig.suggestedFilename()).toBe('config-v1.1.xml');
    const xml = fs.readFileSync((await autoconfig.path())!, 'utf8');
    for (const port of [panel.ports.imaps, panel.ports.imap, panel.ports.pop3s, panel.ports.pop3]) {
      expect(xml).toContain(`<port>${port}</port>`);
    }
    expect(xml).toContain('<username>%EMAILADDRESS%</username>');
    expect(xml).toContain('<hostname>smtp.provider.example</hostname>');

    // The same CA card as on the Certificates page: one name and one format per link.
    const [pem] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('authority-pem').click(),
    ]);
    expect(pem.suggestedFilename()).toBe('mallard-ca.pem');
    expect(fs.readFileSync((await pem.path())!, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const [der] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('authority-der').click(),
    ]);
    expect(der.suggestedFilename()).toBe('mallard-ca.crt');
    // DER: an ASN.1 SEQUENCE, not text.
    expect(fs.readFileSync((await der.path())!)[0]).toBe(0x30);
    expect(await page.getByText('Settings → General → VPN & Device Management').count()).toBe(1);
  });

  it('picks another user from the searchable select, and renders in dark mode', async () => {
    await page.getByTestId('device-user').click();
    await page.getByTestId('device-user').fill('user07');
    await page.getByRole('option', { name: 'user07@example.org' }).click();
    await page.waitForURL(/user=user07%40example\.org/);
    await text(page.getByTestId('setting-username')).toBe('user07@example.org');
    await page.getByRole('button', { name: 'Switch to dark mode' }).click();
    await attr(page.locator('html'), 'data-mantine-color-scheme').toBe('dark');
    await shot('devices-dark');
    await page.getByRole('button', { name: 'Switch to light mode' }).click();
    await attr(page.locator('html'), 'data-mantine-color-scheme').toBe('light');
  });
});

describe('deleting a user', () => {
  it('asks for the username, deletes, and the user can no longer log in', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByTestId('user-search').fill('ada');
    await count(page.getByTestId('user-row')).toBe(1);
    await page.getByRole('link', { name: USER }).click();
    await page.getByTestId('delete-user').click();
    const dialog = page.getByRole('dialog');
    await text(dialog).toContain(`Delete ${USER}?`);
    await disabled(dialog.getByTestId('delete-confirm')).toBe(true);
    await dialog.getByTestId('delete-confirm-input').fill('ada@example.com');
    await disabled(dialog.getByTestId('delete-confirm')).toBe(true);
    await dialog.getByTestId('delete-confirm-input').fill(USER);
    await dialog.getByTestId('delete-confirm').click();
    await page.waitForURL(/\/users$/);
    await text(page.getByTestId('user-total')).toBe('26 users');
    await count(page.locator('[data-testid="user-row"][data-username="ada@example.org"]')).toBe(0);
    expect(await imapRefused(USER, generated)).toBe(true);
  });

  it('had no console errors on any page but the ones provoked', () => {
    const unexpected = errors.filter((error) => !expectedErrors.some((pattern) => pattern.test(error)));
    expect({ unexpected, failedResponses }).toEqual({
      unexpected: [],
      failedResponses: failedResponses.filter((line) => line.startsWith('409 POST')),
    });
  });
});

/** A full-page screenshot from the top (scrolled, the fixed header would land mid-page). */
async function shot(name: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  await screenshot(page, name);
}

async function waitForQuota(limit: number) {
  for (let i = 0; i < 50; i++) {
    const detail = await apiCall<{ quota: { usedBytes: number; limitBytes: number } }>(
      'GET',
      `/api/users/${encodeURIComponent(userId)}`,
    );
    if (detail.quota.limitBytes === limit) return detail;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the quota never became ${limit}`);
}
