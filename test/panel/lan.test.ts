/**
 * The panel from a phone (panel.lan): `mallard panel` serving loopback as usual and HTTPS on
 * 127.0.0.2, which plays the LAN. Desktop and phone are two Chromium contexts (two cookie jars).
 * The desktop turns LAN access on and enrols TOTP on the Settings page; the phone logs in with
 * password + TOTP, is refused a wrong code, uses a recovery code once, and opens a device link that
 * works once and reaches no admin API; an expired link is refused with a page that says so.
 */
import crypto from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  ensureRendererBuilt,
  loginCookie,
  startPanel,
  type RunningPanel,
} from '../helpers/panel.ts';
import { freePort } from '../helpers/ports.ts';

const PASSWORD = 'correct horse battery';
const LAN_HOST = '127.0.0.2';

let panel: RunningPanel;
let lan: string;
let browser: Browser;
let desktop: BrowserContext;
let cookie: string;
let secret = '';
let recoveryCodes: string[] = [];

/** What the phone's app shows `offsetSeconds` from now. */
function codeAt(offsetSeconds: number): string {
  const totp = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
  return totp.generate({ timestamp: Date.now() + offsetSeconds * 1000 });
}

/** A request to the LAN listener, certificate not checked (the CA is not installed here). */
function lanRequest(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      `${lan}${path}`,
      {
        method,
        rejectUnauthorized: false,
        headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1', ...headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
        );
      },
    );
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The SHA-256 fingerprint of the certificate the LAN listener serves now. */
function servedFingerprint(): Promise<string> {
  const { port } = new URL(lan);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: LAN_HOST, port: Number(port), rejectUnauthorized: false }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new crypto.X509Certificate(der).fingerprint256);
    });
    socket.on('error', reject);
  });
}

async function panelApi<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${panel.url}${path}`, {
    method,
    headers: { cookie, 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function phone(): Promise<BrowserContext> {
  return browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 } });
}

beforeAll(async () => {
  await ensureRendererBuilt();
  const lanPort = await freePort();
  panel = await startPanel({
    // Off, as by default: the first test turns it on from the Settings page.
    configYaml: `panel: {lan: {enabled: false, host: '${LAN_HOST}', port: ${lanPort}}}`,
  });
  lan = `https://${LAN_HOST}:${lanPort}`;
  cookie = await loginCookie(panel.url, panel.adminToken);
  await panelApi('POST', '/panel/password', { password: PASSWORD });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  desktop = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await desktop.newPage();
  await page.goto(panel.loginLink);
  await page.getByRole('navigation').first().waitFor({ timeout: 60_000 });
  await page.close();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe('the panel on the LAN', { timeout: 120_000 }, () => {
  it('is off until the switch on the Settings page turns it on', async () => {
    await expect(lanRequest('GET', '/')).rejects.toThrow(/ECONNREFUSED/);
    const page = await desktop.newPage();
    await page.goto(`${panel.url}/settings`);
    const section = page.getByRole('region', { name: 'The panel from a phone' });
    const toggle = section.getByRole('switch', { name: 'Reachable from the local network' });
    await expect.poll(() => toggle.isChecked(), { timeout: 30_000 }).toBe(false);
    await toggle.click();
    await expect.poll(() => toggle.isChecked(), { timeout: 30_000 }).toBe(true);
    await section.getByText('Anyone on your network can reach the login page').waitFor({ timeout: 30_000 });
    await expect.poll(() => section.getByText(`${lan}/`).count()).toBeGreaterThan(0);
    await page.close();
    const reached = await lanRequest('GET', '/');
    expect(reached.status).toBe(200);
    const state = await panelApi<{ enabled: boolean; url: string }>('GET', '/panel/lan');
    expect(state).toMatchObject({ enabled: true, url: lan });
  });

  it('says so and refuses logins until two-factor authentication is enrolled', async () => {
    const context = await phone();
    const page = await context.newPage();
    const response = await page.goto(`${lan}/`);
    expect(response?.headers()['strict-transport-security']).toBe('max-age=31536000');
    await expect
      .poll(() => page.getByText('Two-factor authentication is not set up').count(), { timeout: 30_000 })
      .toBe(1);
    const refused = await lanRequest('POST', '/panel/login', { password: PASSWORD, code: '123456' });
    expect(refused.status).toBe(403);
    expect(refused.text).toMatch(/two-factor authentication is set up/);
    await context.close();
  });

  it('serves the server’s active certificate over HTTPS and follows a new one without a restart', async () => {
    const before = await servedFingerprint();
    const issued = await panelApi<{ fingerprint: string }>('POST', '/api/certificates', {
      type: 'server',
      names: [LAN_HOST, 'localhost'],
      activate: true,
    });
    expect(issued.fingerprint).not.toBe(before);
    await expect.poll(servedFingerprint, { timeout: 30_000 }).toBe(issued.fingerprint);
  });

  it('enrols TOTP from the Settings page on the desktop: a QR code, then 10 recovery codes shown once', async () => {
    const page = await desktop.newPage();
    await page.goto(`${panel.url}/settings`);
    const section = page.getByRole('region', { name: 'The panel from a phone' });
    await expect.poll(() => section.getByRole('switch').isChecked(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => section.getByText(`${lan}/`).count()).toBeGreaterThan(0);
    await section.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    await section.getByAltText('QR code for the authenticator app').waitFor();
    secret = (await section.getByTestId('totp-secret').textContent())!.trim();
    await section.getByLabel('Code from the app').fill(codeAt(-300));
    await section.getByRole('button', { name: 'Confirm' }).click();
    await section.getByText('Not confirmed').waitFor();
    await section.getByLabel('Code from the app').fill(codeAt(0));
    await section.getByRole('button', { name: 'Confirm' }).click();
    const list = section.getByTestId('recovery-codes');
    await list.waitFor();
    recoveryCodes = (await list.getByRole('listitem').allTextContents()).map((text) => text.trim());
    expect(recoveryCodes).toHaveLength(10);
    await expect.poll(() => section.getByText('set up (10 recovery codes left).').count()).toBe(1);
    await page.close();
  });

  it('logs the phone in with password + TOTP, refuses a wrong code, the token and one-time links', async () => {
    const context = await phone();
    const page = await context.newPage();
    await page.goto(`${lan}/`);
    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByLabel('Code from your authenticator app').fill(codeAt(-300));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('wrong password or code', { exact: false }).waitFor();
    // The next step's code (the enrolment used this one's): allowed for clock drift, used once.
    await page.getByLabel('Code from your authenticator app').fill(codeAt(30));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation').first().waitFor({ timeout: 30_000 });
    const cookies = await context.cookies(lan);
    expect(cookies.find((one) => one.name === 'mallard_panel')).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'Strict',
    });
    // Over the LAN the panel manages the server but not its own network access.
    expect(await page.evaluate(async () => (await fetch('/api/users')).status)).toBe(200);
    expect(await page.evaluate(async () => (await fetch('/panel/lan')).status)).toBe(403);
    await context.close();

    const token = await lanRequest('POST', '/panel/login', { token: panel.adminToken });
    expect(token.status).toBe(403);
    expect(token.text).toMatch(/token does not work over the network/);
    const link = new URL(panel.loginLink);
    const oneTime = await lanRequest('GET', `${link.pathname}${link.search}`);
    expect(oneTime.status).toBe(403);
    const crossOrigin = await lanRequest('POST', '/panel/logout', undefined, {
      Origin: 'https://evil.example',
    });
    expect(crossOrigin.status).toBe(403);
    expect(panel.output()).toMatch(
      /"level":"warn".*"msg":"panel login over the network failed: wrong two-factor code".*"address":"127\./,
    );
    expect(panel.output()).toMatch(
      /"level":"info".*"msg":"panel login over the network".*"secondFactor":"totp"/,
    );
  });

  it('takes a recovery code once', async () => {
    for (const expected of ['in', 'refused'] as const) {
      const context = await phone();
      const page = await context.newPage();
      await page.goto(`${lan}/`);
      await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
      await page.getByLabel('Admin password').fill(PASSWORD);
      await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
      await page.getByRole('button', { name: 'Log in' }).click();
      if (expected === 'in') await page.getByRole('navigation').first().waitFor({ timeout: 30_000 });
      else await page.getByText('wrong password or code', { exact: false }).waitFor();
      await context.close();
    }
    const state = await panelApi<{ recoveryCodesLeft: number }>('GET', '/panel/lan');
    expect(state.recoveryCodesLeft).toBe(9);
  });

  it('gives a phone a one-time device link: the set-up page and downloads once, and no admin API', async () => {
    await panelApi('POST', '/api/domains', { name: 'example.org' });
    const created = await panelApi<{ user: { id: string } }>('POST', '/api/users', {
      username: 'kim@example.org',
      password: 'a long password 1',
    });
    const page = await desktop.newPage();
    await page.goto(`${panel.url}/devices?user=${encodeURIComponent('kim@example.org')}`);
    const card = page.getByRole('region', { name: 'Set up a phone with a QR code' });
    await card.getByRole('button', { name: 'Make a link for the phone' }).click({ timeout: 30_000 });
    await card.getByAltText('QR code of the device link').waitFor();
    const url = (await card.getByTestId('device-link').textContent())!.trim();
    expect(url).toMatch(new RegExp(`^${lan.replace(/\./g, '\\.')}/device/[\\w-]{20,}$`));
    await page.close();

    const context = await phone();
    const phonePage = await context.newPage();
    await phonePage.goto(url);
    await phonePage.getByRole('heading', { name: 'Set up kim@example.org on this phone' }).waitFor();
    const profile = await phonePage.request.get(`${lan}/device/profile.mobileconfig`);
    expect(profile.status()).toBe(200);
    expect(profile.headers()['content-type']).toBe('application/x-apple-aspen-config');
    const text = await profile.text();
    expect(text).toContain('<string>kim@example.org</string>');
    expect(text).toContain('com.apple.security.root'); // the local CA made for the certificate above
    const ca = await phonePage.request.get(`${lan}/device/ca.crt`);
    expect(ca.status()).toBe(200);
    const caPem = await ca.text();
    expect(new crypto.X509Certificate(caPem).ca).toBe(true);

    // The device session reaches nothing of the admin's.
    for (const path of [
      '/api/users',
      `/api/users/${created.user.id}`,
      '/api/certificates/authority.der',
      '/panel/server',
    ]) {
      const response = await phonePage.request.get(`${lan}${path}`, { headers: { 'X-Mallard-Panel': '1' } });
      expect(response.status(), path).toBe(401);
    }
    // Once only.
    const again = await phonePage.goto(url);
    expect(again?.status()).toBe(404);
    await phonePage.getByRole('heading', { name: 'This device link is not valid' }).waitFor();
    await context.close();
    expect(panel.output()).toMatch(
      /"level":"info".*"msg":"device link used".*"address":"127\.[\d.]+","user":"kim@example.org"/,
    );
    expect(panel.output()).toMatch(/"level":"warn".*"msg":"device link refused: unknown or already used"/);
  });

  it('refuses an expired device link with a page that says so', async () => {
    const users = await panelApi<{ users: Array<{ id: string; username: string }> }>('GET', '/api/users');
    const kim = users.users.find((user) => user.username === 'kim@example.org')!;
    const refused = await fetch(`${panel.url}/panel/device-links`, {
      method: 'POST',
      headers: { cookie, 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
      body: JSON.stringify({ userId: kim.id, expiresInSeconds: 3600 }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/expiresInSeconds: a whole number from 1 to 900/);
    const link = await panelApi<{ url: string; expiresAt: string }>('POST', '/panel/device-links', {
      userId: kim.id,
      expiresInSeconds: 1,
    });
    // Wait for the moment it names, not a guessed time.
    await expect.poll(() => Date.now() > Date.parse(link.expiresAt) + 50, { timeout: 10_000 }).toBe(true);
    const context = await phone();
    const page = await context.newPage();
    const response = await page.goto(link.url);
    expect(response?.status()).toBe(410);
    await page.getByRole('heading', { name: 'This device link has expired' }).waitFor();
    await page.getByText('Ask for a new one on the "Connect a device" page').waitFor();
    expect(await context.cookies(lan)).toEqual([]);
    await context.close();
    expect(panel.output()).toMatch(/"level":"warn".*"msg":"device link refused: expired"/);
  });
});
