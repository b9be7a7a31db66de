/**
 * The first-run wizard against a real `mallard panel` and the server it supervises, in headless
 * Chromium: a new install opens the wizard by itself; the admin adds the mail domain, sets the
 * public name (the server restarts and greets with it), creates the first account, makes a
 * certificate with the local CA that covers the name, and finishes; the dashboard then lists what is
 * still missing (the DNS check). Each step's checks change as the work is done.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openPanelPage, screenshot, type Chromium, type RunningPanel } from '../helpers/panel.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let errors: string[];

const WAIT = { timeout: 30_000 };

beforeAll(async () => {
  ({ panel, browser, page, errors } = await openPanelPage({ firstRun: true }));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

/** The check line of the wizard or dashboard with this id: "true" when done. */
const checkState = (id: string) =>
  page.locator(`[data-testid="setup-check"][data-id="${id}"]`).first().getAttribute('data-ok');

/** The first line the SMTP listener sends. */
function smtpGreeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.once('data', (line: string) => {
      socket.end('QUIT\r\n');
      resolve(line.trim());
    });
    socket.once('error', reject);
  });
}

describe('first-run wizard', () => {
  it('opens by itself on a new install, with everything still to do', async () => {
    await page.waitForURL(/\/setup$/, WAIT);
    await page.getByRole('heading', { name: 'Set up your mail server' }).waitFor();
    await expect.poll(() => checkState('domains')).toBe('false');
    await screenshot(page, 'setup-1-domains');
  });

  it('adds the mail domain, refusing a name without a dot as it is typed', async () => {
    const input = page.getByTestId('setup-domain-input');
    await input.fill('home');
    await page.getByText('A domain has a dot (example.org)').waitFor();
    await input.fill('example.org');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect
      .poll(() => page.getByTestId('setup-domains').textContent(), WAIT)
      .toBe('Mail domains: example.org');
    await expect.poll(() => checkState('domains')).toBe('true');
  });

  it('sets the public name: the server restarts and greets with it', async () => {
    expect(await smtpGreeting(panel.ports.smtp)).toMatch(/^220 localhost /);
    await page.getByTestId('setup-next').click();
    await expect.poll(() => checkState('public-name')).toBe('false');
    const input = page.getByTestId('setup-hostname-input');
    await input.fill('vm');
    await page.getByText('A DNS name with a dot').waitFor();
    expect(await page.getByTestId('setup-hostname-save').isDisabled()).toBe(true);
    await input.fill('mail.example.org');
    await page.getByTestId('setup-hostname-save').click();
    await expect
      .poll(() => page.getByTestId('setup-running-hostname').textContent(), { timeout: 90_000 })
      .toBe('mail.example.org');
    await expect.poll(() => checkState('public-name')).toBe('true');
    expect(await smtpGreeting(panel.ports.smtp)).toMatch(/^220 mail\.example\.org /);
    await screenshot(page, 'setup-2-public-name');
  });

  it('creates the first account', async () => {
    await page.getByTestId('setup-next').click();
    await expect.poll(() => checkState('accounts')).toBe('false');
    await page.getByTestId('setup-add-account').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Username').fill('ada@example.org');
    await dialog.getByTestId('create-user').click();
    await dialog.getByTestId('generated-password').waitFor(WAIT);
    await page.keyboard.press('Escape');
    await expect.poll(() => checkState('accounts'), WAIT).toBe('true');
  });

  it('makes a certificate with the local CA that covers the public name', async () => {
    await page.getByTestId('setup-next').click();
    await expect.poll(() => checkState('certificate')).toBe('false');
    await page.getByTestId('setup-local-certificate').click();
    await page.getByTestId('wizard-ca-name').fill('Setup Test CA');
    await page.getByTestId('wizard-next').click();
    // Prefilled with the public name just set.
    await page.getByTestId('wizard-step-names').getByText('mail.example.org', { exact: true }).waitFor(WAIT);
    await page.getByTestId('wizard-next').click();
    await page.getByTestId('wizard-generate').click();
    await page.getByTestId('wizard-done').waitFor(WAIT);
    await page.getByTestId('wizard-activate').click();
    await page.getByTestId('wizard-activated').waitFor(WAIT);
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await expect.poll(() => checkState('certificate'), WAIT).toBe('true');
    await screenshot(page, 'setup-4-certificate');
  });

  it('finishes: the dashboard lists what is still missing, and the wizard no longer opens by itself', async () => {
    await page.getByTestId('setup-next').click();
    await page.getByTestId('setup-dns-domain').first().waitFor();
    await page.getByTestId('setup-finish').click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor(WAIT);
    const missing = page.getByTestId('setup-missing');
    await missing.getByText('DNS not checked for example.org').waitFor(WAIT);
    expect(await missing.getByText('No account yet').count()).toBe(0);
    await screenshot(page, 'setup-dashboard-missing');
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor(WAIT);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(errors).toEqual([]);
  });
});
