/**
 * The dashboard's password-guessing warning against a real `mallard panel` and the server it
 * supervises, in headless Chromium: wrong IMAP passwords for an account (from several loopback
 * addresses) raise the server's `auth.alert`, and the dashboard shows the account at once.
 */
import net from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPanelPage, screenshot, type Chromium, type RunningPanel } from '../helpers/panel.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let errors: string[];

beforeAll(async () => {
  ({ panel, browser, page, errors } = await openPanelPage({
    configYaml: 'auth: {base_delay_ms: 1, max_delay_ms: 5, account_alert_after: 4}',
  }));
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

/** One wrong IMAP login from `localAddress`; resolves with the tagged reply. */
function wrongLogin(localAddress: string, username: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: panel.ports.imap, host: '127.0.0.1', localAddress });
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.startsWith('* OK') && !buffer.includes('a LOGIN') && buffer.includes('\r\n')) {
        buffer += 'a LOGIN sent\r\n';
        socket.write(`a LOGIN ${username} "${password}"\r\n`);
      }
      const tagged = /^a (OK|NO|BAD).*$/m.exec(buffer.replace('a LOGIN sent', ''));
      if (tagged) {
        socket.destroy();
        resolve(tagged[0]);
      }
    });
    socket.on('error', reject);
  });
}

describe('the dashboard', () => {
  it('shows an account under attack as soon as the server reports it', async () => {
    // Users go only into local domains.
    const domain = await fetch(`http://127.0.0.1:${panel.ports.admin}/api/domains`, {
      method: 'POST',
      headers: { authorization: `Bearer ${panel.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'example.test' }),
    });
    expect(domain.status).toBe(201);
    const created = await fetch(`http://127.0.0.1:${panel.ports.admin}/api/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${panel.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'target@example.test', password: 'a long right password' }),
    });
    expect(created.status).toBe(201);
    expect(await page.getByTestId('guessing-warning').count()).toBe(0);

    for (let index = 0; index < 4; index++) {
      const reply = await wrongLogin(`127.0.0.${10 + index}`, 'target@example.test', `guess ${index}`);
      expect(reply).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
    }
    const warning = page.getByTestId('guessing-warning');
    await warning.waitFor({ timeout: 15_000 });
    const account = await warning.getByTestId('guessed-account').textContent();
    expect(account).toContain('target@example.test');
    expect(account).toMatch(/4 failed logins from 4 addresses/);
    await screenshot(page, 'dashboard-guessing');
    expect(errors).toEqual([]);
  });
});
