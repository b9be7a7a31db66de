/**
 * The Settings page's "Spam filtering" section, in Chromium against `mallard panel` with the real
 * server running two worker processes and a real rspamd (Debian's, with its Redis) on loopback:
 * Detect finds rspamd at the URL typed and says its version and thresholds (and says so when
 * nothing answers), a mistake is shown as typed, and Save puts the settings in force at once, in
 * every worker, without a restart: GTUBE, accepted while filtering was off, is then refused by
 * rspamd on every connection (node:cluster hands consecutive connections to different workers).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loginCookie,
  openPanelPage,
  screenshot,
  type Chromium,
  type RunningPanel,
} from '../helpers/panel.ts';
import { freePort } from '../helpers/ports.ts';
import { startRspamd, type Rspamd } from '../helpers/rspamd.ts';
import { GTUBE, sendSmtp, testMessage } from '../inbound/spam-support.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let cookie: string;
let errors: string[];
let rspamd: Rspamd;

const USER = 'ivy@example.test';
const WAIT = { timeout: 20_000, interval: 100 };

async function apiCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${panel.url}${path}`, {
    method,
    headers: { cookie, 'X-Mallard-Panel': '1', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const gtube = (subject: string) =>
  sendSmtp(panel.ports.smtp, 'sender@remote.test', [USER], testMessage('sender@remote.test', subject, GTUBE));

/** The server's log lines (the admin API's tail holds every worker's lines). */
async function logLines(): Promise<Array<Record<string, unknown>>> {
  const { lines } = await apiCall<{ lines: Array<Record<string, unknown>> }>('GET', '/api/logs?lines=1000');
  return lines;
}

beforeAll(async () => {
  rspamd = await startRspamd();
  ({ panel, browser, page, errors } = await openPanelPage({
    configYaml: 'server: {workers: 2}\nspam: {enabled: false}\ninbound: {verify_senders: false}',
    beforeBrowser: async (started) => {
      panel = started;
      cookie = await loginCookie(panel.url, panel.adminToken);
      await apiCall('POST', '/api/domains', { name: USER.split('@')[1] });
      await apiCall('POST', '/api/users', { username: USER, password: 'a long password' });
    },
  }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
  await rspamd?.stop();
});

describe('Spam filtering on the Settings page', () => {
  it('Detect says when nothing answers, and finds rspamd at the URLs typed with its version', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    const section = page.getByTestId('spam-section');
    await section.waitFor();
    const nobody = `http://127.0.0.1:${await freePort()}`;
    await page.getByTestId('spam-rspamd-url').fill(nobody);
    await page.getByTestId('spam-detect').click();
    const result = page.getByTestId('spam-detect-result');
    await expect.poll(() => result.textContent(), WAIT).toContain(`No rspamd answered at ${nobody}`);

    await page.getByTestId('spam-rspamd-url').fill(rspamd.scanUrl);
    await page.getByTestId('spam-rspamd-controller-url').fill(rspamd.controllerUrl);
    await page.getByTestId('spam-detect').click();
    await expect
      .poll(() => result.textContent(), WAIT)
      .toMatch(
        /^rspamd 3\.\d+: scanning at http:\/\/127\.0\.0\.1:\d+, controller at http:\/\/127\.0\.0\.1:\d+/,
      );
    expect(await result.textContent()).toMatch(/reject at 15/);
    await screenshot(page, 'settings-spam-detected');
  });

  it('shows a mistake as typed and does not save it', async () => {
    await page.getByTestId('spam-dnsbl').fill('zen.spamhaus.org\nnot a zone!');
    await page.getByText('"zone!" is not a DNS zone such as zen.spamhaus.org').waitFor();
    expect(await page.getByTestId('spam-save').isDisabled()).toBe(true);
    await page.getByTestId('spam-dnsbl').fill('');
  });

  it('Save applies at once in every worker: GTUBE, accepted while off, is refused by rspamd', async () => {
    const before = await gtube('gtube while off');
    expect(before.data).toMatch(/^250 /);

    await page.getByTestId('spam-enabled').click({ force: true });
    await page.getByTestId('spam-save').click();
    await page.getByTestId('spam-saved').waitFor({ timeout: 20_000 });
    await screenshot(page, 'settings-spam-saved');

    // No restart: the same processes answer, with the new settings from the next message on.
    for (let n = 0; n < 4; n++) {
      expect((await gtube(`gtube after save ${n}`)).data).toMatch(/^550 5\.7\.1 Message refused as spam/);
    }
    // The log line of a refusal may reach the file just after the reply reached the client.
    const refusedByRspamd = async () =>
      (await logLines()).filter(
        (line) => line.msg === 'message refused' && JSON.stringify(line.reasons).includes('by rspamd'),
      );
    await expect.poll(async () => (await refusedByRspamd()).length, WAIT).toBeGreaterThanOrEqual(4);
    const byRspamd = await refusedByRspamd();
    // Both workers refused some: every process took the settings.
    expect(new Set(byRspamd.map((line) => line.pid)).size).toBe(2);

    const settings = await apiCall<{ spam: { enabled: boolean; rspamd_url: string } }>(
      'GET',
      '/api/settings',
    );
    expect(settings.spam).toMatchObject({ enabled: true, rspamd_url: rspamd.scanUrl });
    expect(errors).toEqual([]);
  });

  it('the Logs page says why: the refusal with its reply and rspamd’s verdict', async () => {
    await page.getByRole('link', { name: 'Logs', exact: true }).click();
    await page.getByTestId('logs-filter').fill('message refused');
    const view = page.locator('[data-testid="log-lines"]');
    await expect
      .poll(() => view.textContent(), WAIT)
      .toMatch(
        /message refused.*reply=550 5\.7\.1 Message refused as spam.*spam: score 15\.0 by rspamd \[GTUBE\]/,
      );
    await screenshot(page, 'logs-spam-refused');
  });
});
