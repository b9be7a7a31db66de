/**
 * The dashboard, logs and settings pages against a real `mallard panel` (with the real server it
 * supervises) in headless Chromium: each renders without console errors (screenshots kept), the
 * connection count follows a real IMAP client live, the chart draws, a failed login shows up in the
 * log tail and the filter narrows it, settings are saved (restart offered, reload shows the value,
 * the restart brings the server back), and "Test connection" explains an unreachable MongoDB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { filterLines, fromProcessLine } from '../../renderer/src/api/logs.ts';
import type { SettingsJson } from '../../renderer/src/api/settings.ts';
import { certificateConcern } from '../../renderer/src/api/status.ts';
import {
  fromSettings,
  issuesToFields,
  toPatch,
  validate,
} from '../../renderer/src/components/settings/settingsForm.ts';
import { RawImap } from '../helpers/imap-raw.ts';
import { openPanelPage, screenshot, type Chromium, type RunningPanel } from '../helpers/panel.ts';

let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let errors: string[];

beforeAll(async () => {
  // The one-time link logs the browser in (a session cookie) and lands on the dashboard.
  ({ panel, browser, page, errors } = await openPanelPage());
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim() ?? '';

/** Waits until the element's text satisfies `check` (the page updates on its own). */
async function waitForText(testId: string, check: (value: string) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await text(testId).catch(() => '');
    if (check(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`${testId} never matched; last text: ${JSON.stringify(last)}`);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(100);
  }
}

/** Non-transparent pixels on the chart's canvas: uPlot has drawn axes and lines. */
async function chartPixels(): Promise<number> {
  // The test's tsconfig has no DOM types: the canvas is described by what is used of it.
  interface Canvas {
    width: number;
    height: number;
    getContext(kind: '2d'): {
      getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
    };
  }
  return page
    .getByTestId('live-chart')
    .locator('canvas')
    .evaluate((element) => {
      const canvas = element as unknown as Canvas;
      const context = canvas.getContext('2d');
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      let drawn = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) drawn++;
      return drawn;
    });
}

describe('dashboard', () => {
  it('renders the server, listeners and live figures without console errors', async () => {
    await waitForText('connections-imap', (value) => /^\d+$/.test(value));
    await page.getByTestId(`listener-imap-${panel.ports.imap}`).waitFor();
    await page.getByTestId(`listener-imap-${panel.ports.imaps}`).waitFor();
    expect(await page.getByTestId(`listener-imap-${panel.ports.imaps}`).textContent()).toContain('TLS');
    expect(await page.getByTestId(`listener-imap-${panel.ports.imap}`).textContent()).toContain('STARTTLS');
    expect(await text('dashboard-server-state')).toBe('Running');
    await waitForText('uptime', (value) => /\d+s|\d+m/.test(value));
    await waitForText('storage-used', (value) => /\d+(\.\d+)? (B|KB|MB)/.test(value));
    await screenshot(page, 'dashboard');
    expect(errors).toEqual([]);
  });

  it('counts a new IMAP connection live, without a reload', async () => {
    const before = Number(await waitForText('connections-imap', (value) => /^\d+$/.test(value)));
    const client = await RawImap.connect(panel.ports.imap);
    try {
      await waitForText('connections-imap', (value) => Number(value) === before + 1);
      expect(Number(await text('connections-total'))).toBeGreaterThanOrEqual(before + 1);
    } finally {
      await client.logout();
    }
    await waitForText('connections-imap', (value) => Number(value) === before);
    // The chart's next sample keeps the peak, so even a short visit is drawn.
    await waitFor(
      async () => Number(await page.getByTestId('live-chart').getAttribute('data-peak')) >= before + 1,
      'the chart to record the connection',
      15_000,
    );
  });

  it('draws the live chart from the status events', async () => {
    // The server reports every 5 s: two samples means the stream feeds the chart.
    const deadline = Date.now() + 20_000;
    while (Number(await page.getByTestId('live-chart').getAttribute('data-samples')) < 2) {
      if (Date.now() > deadline) throw new Error('the chart got fewer than 2 samples in 20 s');
      await page.waitForTimeout(250);
    }
    expect(await page.getByTestId('live-chart').locator('canvas').count()).toBe(1);
    expect(await chartPixels()).toBeGreaterThan(1000);
  });

  it('renders in dark mode', async () => {
    await page.getByRole('button', { name: 'Switch to dark mode' }).click();
    await page.getByRole('button', { name: 'Switch to light mode' }).waitFor();
    await page.waitForTimeout(300);
    expect(await chartPixels()).toBeGreaterThan(1000);
    await screenshot(page, 'dashboard-dark');
    await page.getByRole('button', { name: 'Switch to light mode' }).click();
    expect(errors).toEqual([]);
  });
});

describe('dashboard quick actions', () => {
  it('restarts the server after a confirmation and follows it until it runs again', async () => {
    const pidBefore = await page.getByTestId('server-card').textContent();
    await page.getByTestId('restart-server').click();
    const dialog = page.getByRole('dialog', { name: 'Restart the mail server?' });
    await dialog.waitFor();
    await dialog.getByTestId('confirm-restart').click();
    await dialog.getByTestId('restart-done').waitFor({ timeout: 60_000 });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await waitForText('dashboard-server-state', (value) => value === 'Running');
    expect(await page.getByTestId('server-card').textContent()).not.toBe(pidBefore);
    await waitForText('connections-imap', (value) => /^\d+$/.test(value));
    // While the server was down, requests and the event stream's reconnects got 502/503 from the
    // panel host (the browser logs those itself); nothing else is expected.
    const downtime = /status of 50[23]|Unexpected response code: 50[23]/;
    errors.splice(0, errors.length, ...errors.filter((error) => !downtime.test(error)));
    expect(errors).toEqual([]);
  });
});

describe('dashboard certificate warning', () => {
  it('warns about an active certificate that expires within 30 days, with a link to fix it', async () => {
    await page.goto(`${panel.url}/`);
    await page.getByTestId('server-card').waitFor();
    expect(await page.getByTestId('certificate-warning').count()).toBe(0);
    const created = await page.evaluate(async () => {
      const post = (body: unknown) =>
        fetch('/api/certificates', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
          body: JSON.stringify(body),
        }).then((response) => response.status);
      return [
        await post({ type: 'authority', keyType: 'ecdsa' }),
        await post({
          type: 'server',
          names: ['localhost'],
          keyType: 'ecdsa',
          validityDays: 10,
          activate: true,
        }),
      ];
    });
    expect(created).toEqual([201, 201]);
    await page.reload();
    const warning = page.getByTestId('certificate-warning');
    await warning.waitFor();
    expect(await warning.getAttribute('data-kind')).toBe('expiring');
    expect(await warning.textContent()).toMatch(/expires in (9|10) days/);
    await screenshot(page, 'dashboard-certificate-warning');
    expect(errors).toEqual([]);
    await warning.getByRole('link', { name: /Certificates page/ }).click();
    await page.waitForURL(`${panel.url}/certificates`);
    // The certificates page is another page's test to judge; only this page's errors count here.
    await page.waitForTimeout(300);
    errors.length = 0;
  });
});

describe('logs', () => {
  it('shows a failed IMAP login from the server log, and the text filter narrows to it', async () => {
    const ghost = `ghost${Date.now().toString(36)}`;
    const client = await RawImap.connect(panel.ports.imap);
    const result = await client.command(`LOGIN ${ghost} wrong-password`);
    await client.logout();
    expect(result.status).toBe('NO');

    await page.getByRole('link', { name: 'Logs', exact: true }).click();
    await page.getByRole('heading', { name: 'Logs' }).waitFor();
    await page.getByTestId('log-lines').getByText(ghost).first().waitFor({ timeout: 15_000 });
    const all = Number(await page.getByTestId('log-lines').getAttribute('data-lines'));
    await screenshot(page, 'logs');

    await page.getByTestId('logs-filter').fill(ghost);
    await waitForText('logs-count', (value) => value.includes('match'));
    const lines = page.getByTestId('log-lines');
    const shown = Number(await lines.getAttribute('data-lines'));
    expect(shown).toBeGreaterThanOrEqual(1);
    expect(shown).toBeLessThan(all);
    expect(await lines.textContent()).toContain('login failed');

    // A filter nothing matches says so.
    await page.getByTestId('logs-filter').fill(`${ghost}-nothing`);
    await page.getByTestId('log-lines-empty').waitFor();
    await page.getByTestId('logs-filter').fill('');

    // Pause holds the view; resume brings the tail back.
    await page.getByTestId('logs-pause').click();
    await page.getByTestId('logs-paused').waitFor();
    await page.getByTestId('logs-pause').click();
    await page.getByTestId('logs-paused').waitFor({ state: 'detached' });

    await page.getByTestId('logs-tab-process').click();
    await waitForText('logs-count', (value) => /^[1-9]\d* line/.test(value), 15_000);
    await screenshot(page, 'logs-process');
    await page.getByTestId('logs-tab-server').click();
    expect(errors).toEqual([]);
  });
});

describe('settings', () => {
  it('explains a MongoDB URI that cannot connect', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByTestId('field-max-message-size').waitFor();
    await page.getByTestId('store-engine').getByText('MongoDB', { exact: true }).click();
    const uri = page.getByTestId('store-uri');
    await uri.fill('http://127.0.0.1:1');
    // Checked as the user types: the button stays off for a URI that is not mongodb://.
    await page.getByText('The URI starts with mongodb:// or mongodb+srv://').waitFor();
    expect(await page.getByTestId('test-connection').isDisabled()).toBe(true);

    await uri.fill('mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=2000');
    await page.getByTestId('test-connection').click();
    const result = page.getByTestId('test-connection-result');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.getAttribute('data-ok')).toBe('false');
    const words = (await result.textContent()) ?? '';
    expect(words).toContain('Could not connect');
    // In words, not only the driver's code.
    expect(words).toContain('Nothing answered at 127.0.0.1:1');
    await screenshot(page, 'settings-test-connection');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(errors).toEqual([]);
  });

  it('saves a limit, offers the restart, keeps the value over a reload and restarts the server', async () => {
    const field = page.getByTestId('field-max-message-size');
    const wanted = 12_345_678;
    await field.fill(String(wanted));
    // Invalid input is refused as the user types, before any request.
    const line = page.getByTestId('field-max-line-length');
    const lineBefore = await line.inputValue();
    await line.fill('100');
    await waitFor(async () => (await line.getAttribute('aria-invalid')) === 'true', 'the line length error');
    await line.fill(lineBefore.replace(/\s/g, ''));

    await page.getByTestId('settings-save').click();
    await page.getByTestId('restart-required').waitFor();
    await screenshot(page, 'settings');

    await page.reload();
    await page.getByTestId('field-max-message-size').waitFor();
    expect((await page.getByTestId('field-max-message-size').inputValue()).replace(/\s/g, '')).toBe(
      String(wanted),
    );
    expect(errors).toEqual([]);

    // The notice survives the reload (the server still runs with the old value); restart now.
    await page.getByTestId('restart-required').waitFor();
    await page.getByTestId('field-max-line-length').fill('70000');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('restart-now').click();
    await page.getByTestId('restart-progress').waitFor();
    await page.getByTestId('restart-done').waitFor({ timeout: 60_000 });
    await screenshot(page, 'settings-restarted');
    const settings = (await page.evaluate(async () => (await fetch('/api/settings')).json())) as {
      limits: { max_message_size: number; max_line_length: number };
    };
    expect(settings.limits).toMatchObject({ max_message_size: wanted, max_line_length: 70000 });
  });

  it('lists the DNS records sending needs for each mail domain, ready to copy', async () => {
    const created = await page.evaluate(async () => {
      // Users go only into local domains.
      await fetch('/api/domains', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
        body: JSON.stringify({ name: 'dns-panel.test' }),
      });
      const response = await fetch('/api/users', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Mallard-Panel': '1' },
        body: JSON.stringify({ username: 'dns@dns-panel.test', password: 'long-enough-pw' }),
      });
      return response.status;
    });
    expect(created).toBe(201);
    await page.reload();
    const domain = page.locator('[data-testid="dns-domain"][data-domain="dns-panel.test"]');
    await domain.waitFor();
    const purposes = await domain
      .getByTestId('dns-record')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-purpose')));
    expect(purposes).toEqual(['MX', 'SPF', 'DKIM', 'DMARC']);
    const values = await domain.getByTestId('dns-value').allInnerTexts();
    expect(values[0]).toMatch(/^10 \S+\.$/);
    expect(values[1]).toBe('v=spf1 mx -all');
    expect(values[2]).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    expect(values[3]).toBe('v=DMARC1; p=quarantine; rua=mailto:postmaster@dns-panel.test');
    await screenshot(page, 'settings-dns-records');
    expect(errors).toEqual([]);
  });

  it('sets sending through a relay; its password is saved but never shown again', async () => {
    const section = page.getByTestId('sending-section');
    await section.getByText('Through a relay').click();
    await page.getByTestId('field-relay-host').fill('smtp.provider.test');
    await page.getByTestId('field-relay-port').fill('0');
    await waitFor(
      async () => (await page.getByTestId('field-relay-port').getAttribute('aria-invalid')) === 'true',
      'the relay port error',
    );
    await page.getByTestId('field-relay-port').fill('465');
    await page.getByTestId('field-relay-tls').click();
    await page.getByRole('option', { name: 'TLS (465)' }).click();
    await page.getByTestId('field-relay-username').fill('me@provider.test');
    await page.getByTestId('field-relay-password').fill('relay-s3cret');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('restart-required').waitFor();
    const saved = (await page.evaluate(async () => (await fetch('/api/settings')).text())) as string;
    expect(saved).not.toContain('relay-s3cret');
    await page.reload();
    await page.getByTestId('field-relay-host').waitFor();
    expect(await page.getByTestId('field-relay-host').inputValue()).toBe('smtp.provider.test');
    expect(await page.getByTestId('field-relay-port').inputValue()).toBe('465');
    expect(await page.getByTestId('field-relay-password').inputValue()).toBe('********');
    expect(errors).toEqual([]);
  });
});

describe('log out', () => {
  it('replaces the page with the login form at once, leaving none of its data on screen', async () => {
    await page.goto(`${panel.url}/logs`);
    await page.getByRole('heading', { name: 'Logs' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByText('Log in to manage your mail server.').waitFor({ timeout: 5000 });
    expect(await page.getByRole('heading', { name: 'Logs' }).count()).toBe(0);
    expect(await page.getByRole('navigation').count()).toBe(0);
    // Logged out for real: the API refuses this browser now.
    expect(await page.evaluate(async () => (await fetch('/api/status')).status)).toBe(401);
    // And back in with the admin token, through the form.
    await page.getByLabel('Admin token').fill(panel.adminToken);
    await page.getByRole('button', { name: /log in/i }).click();
    await page.getByRole('heading', { name: 'Logs' }).waitFor();
  });
});

describe('page logic (no browser)', () => {
  const settings = {
    hostname: 'mail.example',
    log_level: 'info',
    store: { engine: 'sqlite', mongodb: { uri: 'mongodb://u:***@db/x', local: '' } },
    imap: { enabled: true, host: '0.0.0.0', port: 143, tls_port: 993 },
    pop3: { enabled: false, host: '0.0.0.0', port: 110, tls_port: 995 },
    lmtp: { enabled: true, host: '127.0.0.1', port: 24 },
    smtp: { enabled: true, host: '0.0.0.0', port: 25 },
    admin: { host: '127.0.0.1', port: 8025 },
    panel: { host: '127.0.0.1', port: 8026 },
    limits: { max_message_size: 64 * 1024 * 1024, max_line_length: 65536 },
  } as SettingsJson;

  it('validates the settings form as the server would', () => {
    const values = fromSettings(settings);
    expect(validate(values, settings)).toEqual({});
    expect(toPatch(values, settings)).toEqual({});
    const bad = {
      ...values,
      hostname: 'mail example',
      'imap.port': 70000,
      'imap.tls_port': 8026,
      'pop3.port': 'x',
      'limits.max_line_length': 100,
      'store.engine': 'mongodb',
      'store.mongodb.uri': 'http://db',
    };
    const errors = validate(bad, settings);
    expect(Object.keys(errors).sort()).toEqual(
      ['hostname', 'imap.port', 'imap.tls_port', 'limits.max_line_length', 'store.mongodb.uri'].sort(),
    );
    // POP3 is off, so its port is not checked; the clash names the other user of the port.
    expect(errors['imap.tls_port']).toContain('the control panel');
  });

  it('sends only the changed keys, nested as in the configuration file', () => {
    const values = { ...fromSettings(settings), 'limits.max_message_size': '2048', 'pop3.enabled': true };
    expect(toPatch(values, settings)).toEqual({
      limits: { max_message_size: 2048 },
      pop3: { enabled: true },
    });
    // The masked URI sent back unchanged is not a change.
    expect(toPatch({ ...values, 'store.engine': 'mongodb' }, settings)).not.toHaveProperty('store.mongodb');
  });

  it('sends relay settings only when changed, and checks the relay port once a host is set', () => {
    const withRelay = {
      ...settings,
      outbound: { relay: { host: '', port: 587, tls: 'starttls', username: '', password: '' } },
    } as SettingsJson;
    const values = fromSettings(withRelay);
    expect(toPatch(values, withRelay)).toEqual({});
    const relay = { ...values, 'outbound.relay.host': 'smtp.isp.test', 'outbound.relay.port': '' };
    expect(validate(relay, withRelay)).toHaveProperty('outbound.relay.port');
    expect(toPatch({ ...relay, 'outbound.relay.port': 465 }, withRelay)).toEqual({
      outbound: { relay: { host: 'smtp.isp.test', port: 465 } },
    });
  });

  it('puts server issues on their fields', () => {
    const { fields, other } = issuesToFields([
      { path: 'body.limits.max_message_size', message: 'too small' },
      { path: 'body.admin.port', message: 'clash' },
    ]);
    expect(fields).toEqual({ 'limits.max_message_size': 'too small' });
    expect(other).toEqual([{ path: 'body.admin.port', message: 'clash' }]);
  });

  it('reads pino lines from the process output and filters by level and text', () => {
    const lines = [
      fromProcessLine({
        seq: 1,
        at: '2026-01-01T00:00:00Z',
        stream: 'stdout',
        text: '{"level":30,"msg":"login failed","user":"bob"}',
      }),
      fromProcessLine({
        seq: 2,
        at: '2026-01-01T00:00:01Z',
        stream: 'stdout',
        text: '{"level":50,"msg":"store down"}',
      }),
      fromProcessLine({ seq: 3, at: '2026-01-01T00:00:02Z', stream: 'stderr', text: 'TypeError: boom' }),
    ];
    expect(lines.map((line) => line.level)).toEqual(['info', 'error', 'error']);
    expect(lines[0]!.detail).toContain('user=bob');
    expect(filterLines(lines, 'trace', 'BOB').map((line) => line.key)).toEqual(['p1']);
    expect(filterLines(lines, 'error', '').map((line) => line.key)).toEqual(['p2', 'p3']);
  });

  it('warns about the active certificate only, 30 days ahead', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const certificate = (days: number, active: boolean) => ({
      id: `c${days}`,
      kind: 'server' as const,
      names: ['mail.example'],
      subject: 'CN=mail.example',
      notAfter: new Date(now + days * 86_400_000).toISOString(),
      active,
      expired: days < 0,
    });
    expect(certificateConcern([certificate(90, true), certificate(3, false)], now)).toBeNull();
    expect(certificateConcern([certificate(29.5, true)], now)).toMatchObject({ kind: 'expiring', days: 30 });
    expect(certificateConcern([certificate(-1, true)], now)).toMatchObject({ kind: 'expired' });
  });
});
