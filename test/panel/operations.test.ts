/**
 * The operations pages in a real browser against `mallard panel` and the real server it supervises:
 * connection rules (form validation, test an address, a deny rule refusing a real IMAP connection
 * and its counter rising), sessions (an IMAP login appearing live, details, kick), certificates
 * (the wizard, and IMAPS serving the new certificate). Screenshots go to test-artifacts/panel/.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImapFlow } from 'imapflow';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../renderer/src/api/client.ts';
import { ruleFieldErrors } from '../../renderer/src/components/rules/serverErrors.ts';
import { openPanelPage, screenshot, type Chromium, type RunningPanel } from '../helpers/panel.ts';

let panel: RunningPanel;
let chromium: Chromium;
let page: Page;
let consoleErrors: string[];

const USERNAME = 'olga@example.test';
const PASSWORD = 'correct horse battery';

/** A call to the admin API itself, with the admin token (what a script would do). */
async function adminApi<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${panel.ports.admin}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${panel.adminToken}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Opens a raw IMAP or POP3 connection and returns the greeting line and whether the server then closed it. */
function greeting(port: number, waitForClose = true): Promise<{ line: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffer = '';
    let line: string | null = null;
    const timer = setTimeout(() => {
      socket.destroy();
      if (line !== null) resolve({ line, closed: false });
      else reject(new Error(`no IMAP greeting (got ${JSON.stringify(buffer)})`));
    }, 3000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\r\n');
      if (line === null && end >= 0) line = buffer.slice(0, end);
      if (line !== null && !waitForClose) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      if (line !== null) resolve({ line, closed: true });
      else reject(new Error(`closed without a greeting (got ${JSON.stringify(buffer)})`));
    });
  });
}

async function go(path: string): Promise<void> {
  await page.goto(`${panel.url}${path}`);
  await page.getByRole('heading', { level: 2 }).first().waitFor();
}

function expectNoConsoleErrors(): void {
  const errors = consoleErrors.splice(0);
  expect(errors, errors.join('\n')).toEqual([]);
}

beforeAll(async () => {
  ({ panel, browser: chromium, page, errors: consoleErrors } = await openPanelPage());
  // Which request failed, when the console only says "Failed to load resource".
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`  at ${message.location().url}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) consoleErrors.push(`http ${response.status()} ${response.url()}`);
  });
  await page.emulateMedia({ colorScheme: 'light' });
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await panel?.stop();
});

describe('Connection rules page', () => {
  it('shows the empty list, checks addresses as they are typed, and tests an address', async () => {
    await go('/rules');
    await page.getByTestId('rules-empty').waitFor();
    await screenshot(page, 'rules-empty');

    await page.getByTestId('rule-add').click();
    const form = page.getByTestId('rule-form');
    await form.waitFor();
    const cidrs = page.getByTestId('rule-cidrs');
    await cidrs.fill('10.0.0.0/8\n192.0.2.300\n2001:db8::/129');
    // Shown while typing, before any submit.
    const error = form.getByText('192.0.2.300: an IPv4 address has four numbers from 0 to 255');
    await error.waitFor();
    await form.getByText('2001:db8::/129: the prefix length must be 0 to 128').waitFor();
    await screenshot(page, 'rules-form-cidr-error');

    // Compressed IPv6 and prefixes are fine; the preview shows what the server keeps.
    await cidrs.fill('10.1.2.3/8\n2001:DB8:0:0::1/64');
    await page.getByTestId('rule-cidrs-preview').getByText('10.0.0.0/8, 2001:db8::/64').waitFor();

    // A kind with a limit shows the limit and hides the addresses.
    await page.getByTestId('rule-kind').click();
    await page.getByRole('option', { name: 'Login lockout' }).click();
    await page.getByTestId('rule-limit').waitFor();
    await page.getByTestId('rule-window').waitFor();
    expect(await page.getByTestId('rule-cidrs').count()).toBe(0);
    await page.getByTestId('rule-limit').fill('5');
    await page.getByTestId('rule-window').fill('600');
    await page.getByTestId('rule-note').fill('slow down password guessing');
    await page.getByTestId('rule-save').click();
    await form.waitFor({ state: 'detached' });

    const row = page.getByTestId('rule-row');
    await row.first().waitFor();
    expect(await row.count()).toBe(1);
    await expect(row.first().getByTestId('rule-summary').textContent()).resolves.toBe(
      '5 failed logins within 10 min',
    );

    // Edit: the form starts from the rule; the change shows in the list.
    await row
      .first()
      .getByRole('button', { name: /^Edit rule #1/ })
      .click();
    await expect(page.getByTestId('rule-limit').inputValue()).resolves.toBe('5');
    await page.getByTestId('rule-limit').fill('7');
    await page.getByTestId('rule-save').click();
    await form.waitFor({ state: 'detached' });
    await expect
      .poll(() => row.first().getByTestId('rule-summary').textContent())
      .toBe('7 failed logins within 10 min');

    // Test an address: nothing refuses a connection, the lockout rule allows the login (no failures).
    await page.getByTestId('rule-test-address').fill('192.0.2.300');
    await page.getByText('Not an IPv4 or IPv6 address (one address, no range)').waitFor();
    await page.getByTestId('rule-test-address').fill('2001:db8::7');
    await page.getByTestId('rule-test-submit').click();
    await page.getByTestId('rule-test-result').waitFor();
    await expect(page.getByTestId('rule-test-connect').textContent()).resolves.toContain('Allowed');
    await expect(page.getByTestId('rule-test-connect-rule').textContent()).resolves.toBe(
      'No rule decides: allowed by default.',
    );
    await screenshot(page, 'rules-test-address');
    // An invalid address takes the old result away: it never stands beside an address it is not for.
    await page.getByTestId('rule-test-address').fill('2001:db8::zz');
    await page.getByTestId('rule-test-submit').click();
    await page.getByTestId('rule-test-result').waitFor({ state: 'detached' });

    // The store's own refusal lands on the field: disable the rule then delete it via the UI.
    await row.first().getByTestId('rule-enabled').click({ force: true });
    await expect
      .poll(
        async () =>
          (await adminApi<{ rules: Array<{ enabled: boolean }> }>('GET', '/api/rules')).rules[0]?.enabled,
      )
      .toBe(false);
    await row.first().getByTestId('rule-delete').click();
    const confirm = page.getByTestId('rule-delete-modal');
    await expect(confirm.textContent()).resolves.toContain('Login lockout — 7 failed logins within 10 min');
    await page.getByTestId('rule-delete-modal-confirm').click();
    await page.getByTestId('rules-empty').waitFor();
    expectNoConsoleErrors();
  });

  it('adds a deny rule for 127.0.0.1 on IMAP: a new connection is refused and the hit counter rises', async () => {
    await go('/rules');
    const before = await greeting(panel.ports.imap, false);
    expect(before.line).toMatch(/^\* OK/);

    await page.getByTestId('rule-add').click();
    await page.getByTestId('rule-cidrs').fill('127.0.0.1');
    await page.getByTestId('rule-protocol-imap').check();
    await page.getByTestId('rule-note').fill('keep the test client out');
    await page.getByTestId('rule-save').click();
    await page.getByTestId('rule-form').waitFor({ state: 'detached' });
    const row = page.getByTestId('rule-row').filter({ hasText: 'keep the test client out' });
    await row.waitFor();
    await expect(row.getByTestId('rule-deny-count').textContent()).resolves.toBe('0 refused');

    // The test-an-address panel names the rule.
    await page.getByTestId('rule-test-address').fill('127.0.0.1');
    await page.getByTestId('rule-test-submit').click();
    await expect
      .poll(() => page.getByTestId('rule-test-connect-rule').textContent())
      .toContain('Decided by rule #1 Deny — 127.0.0.1');
    await expect(page.getByTestId('rule-test-connect').textContent()).resolves.toContain('Refused');

    const refused = await greeting(panel.ports.imap);
    expect(refused.line).toMatch(/^\* BYE/);
    expect(refused.closed).toBe(true);
    // POP3 is not covered by the rule.
    const pop3 = await greeting(panel.ports.pop3, false);
    expect(pop3.line).toMatch(/^\+OK/);

    // The counter rises in the page without a reload (rule.verdict events).
    await expect
      .poll(() => row.getByTestId('rule-deny-count').textContent(), { timeout: 15_000 })
      .toBe('1 refused');
    await screenshot(page, 'rules');

    await row.getByTestId('rule-delete').click();
    await expect(page.getByTestId('rule-delete-modal').textContent()).resolves.toContain('127.0.0.1');
    await page.getByTestId('rule-delete-modal-confirm').click();
    await page.getByTestId('rules-empty').waitFor();
    const after = await greeting(panel.ports.imap, false);
    expect(after.line).toMatch(/^\* OK/);
    expectNoConsoleErrors();
  });
  it('keeps Edit and Delete in view when the table is wider than the window (1024 × 768)', async () => {
    const wide = await adminApi<{ id: string }>('POST', '/api/rules', {
      kind: 'deny',
      cidrs: ['198.51.100.0/24', '203.0.113.0/24', '2001:db8:1234:5678::/64'],
      protocols: ['imap', 'pop3', 'lmtp', 'smtp', 'submission'],
      note: 'Blocked after the guessing reported on the dashboard in November; lift once the provider confirms',
    });
    await page.setViewportSize({ width: 1024, height: 768 });
    try {
      await go('/rules');
      const row = page.locator(`[data-rule-id="${wide.id}"]`);
      const box = await page.getByTestId('rules-table').evaluate((table) => {
        const { left, right } = table.parentElement!.getBoundingClientRect();
        return { left, right };
      });
      const scroller = { left: box.left, right: Math.min(box.right, page.viewportSize()!.width) };
      for (const name of ['Edit', 'Delete']) {
        const box = (await row.getByRole('button', { name: new RegExp(`^${name} `) }).boundingBox())!;
        expect(box.x, name).toBeGreaterThanOrEqual(scroller.left);
        expect(box.x + box.width, name).toBeLessThanOrEqual(scroller.right);
      }
      await screenshot(page, 'rules-narrow');
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
      await adminApi('DELETE', `/api/rules/${wide.id}`);
    }
  });

  it('reorders rules with the keyboard, keeping the focus on the moved rule', async () => {
    const first = await adminApi<{ id: string }>('POST', '/api/rules', {
      kind: 'max-conn',
      limit: 50,
      note: 'first',
    });
    const second = await adminApi<{ id: string }>('POST', '/api/rules', {
      kind: 'require-tls',
      note: 'second',
    });
    await go('/rules');
    const up = page.getByTestId(`rule-up-${second.id}`);
    await up.focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(async () =>
        (await adminApi<{ rules: Array<{ id: string }> }>('GET', '/api/rules')).rules.map((r) => r.id),
      )
      .toEqual([second.id, first.id]);
    await expect
      .poll(() => page.getByTestId('rule-row').first().getAttribute('data-rule-id'))
      .toBe(second.id);
    // At the top "up" is disabled, so the focus moves to the same rule's "down" button.
    await expect
      .poll(() => page.locator(':focus').getAttribute('data-testid'))
      .toBe(`rule-down-${second.id}`);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('rule-row').first().getAttribute('data-rule-id')).toBe(first.id);
    await adminApi('DELETE', `/api/rules/${first.id}`);
    await adminApi('DELETE', `/api/rules/${second.id}`);
    expectNoConsoleErrors();
  });

  it('puts the real server refusals on the form field they are about', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ kind: 'deny', cidrs: [] }, 'cidrs'],
      [{ kind: 'deny', cidrs: ['10.0.0.0/40'] }, 'cidrs'],
      [{ kind: 'max-conn' }, 'limit'],
      [{ kind: 'rate', limit: 0 }, 'limit'],
      [{ kind: 'lockout', limit: 5 }, 'windowSeconds'],
      [{ kind: 'lockout', limit: 5, windowSeconds: 10 ** 9 }, 'windowSeconds'],
      [{ kind: 'deny', cidrs: ['10.0.0.1'], protocols: ['gopher'] }, 'protocols'],
      [{ kind: 'deny', cidrs: ['10.0.0.1'], note: 'x'.repeat(1001) }, 'note'],
      [{ kind: 'teleport' }, 'kind'],
    ];
    for (const [body, field] of cases) {
      const response = await fetch(`http://127.0.0.1:${panel.ports.admin}/api/rules`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${panel.adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const { error } = (await response.json()) as {
        error: {
          code: 'validation_failed';
          message: string;
          issues?: Array<{ path: string; message: string }>;
        };
      };
      const fields = ruleFieldErrors(new ApiError(400, error.code, error.message, error.issues));
      expect(Object.keys(fields), `${JSON.stringify(body)} → ${error.message}`).toEqual([field]);
    }
  });
});

describe('Sessions page', () => {
  it('shows an IMAP login live, its details, and kicks it', async () => {
    await adminApi('POST', '/api/domains', { name: 'example.test' });
    await adminApi('POST', '/api/users', { username: USERNAME, password: PASSWORD });
    await go('/sessions');
    await page.getByTestId('sessions-empty').waitFor();
    await page.getByTestId('sessions-live').getByText('live').waitFor();

    const client = new ImapFlow({
      host: '127.0.0.1',
      port: panel.ports.imap,
      secure: false,
      auth: { user: USERNAME, pass: PASSWORD },
      tls: { rejectUnauthorized: false },
      logger: false,
      clientInfo: { name: 'operations-test', version: '1.0' },
    });
    let closed = false;
    client.on('close', () => (closed = true));
    client.on('error', () => {});
    await client.connect();
    await client.mailboxOpen('INBOX');

    // No reload: the row arrives over the event stream.
    const row = page.getByTestId('session-row').filter({ hasText: USERNAME });
    await row.waitFor({ timeout: 15_000 });
    await expect(row.getByTestId('session-address').textContent()).resolves.toMatch(/127\.0\.0\.1/);
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain('INBOX');
    // IDLE shows up live too.
    void client.idle().catch(() => {});
    await row.getByTestId('session-idle').waitFor({ timeout: 10_000 });
    // The duration ticks.
    const first = await row.getByTestId('session-duration').textContent();
    await expect
      .poll(() => row.getByTestId('session-duration').textContent(), { timeout: 5000 })
      .not.toBe(first);
    await screenshot(page, 'sessions');

    await page.emulateMedia({ colorScheme: 'dark' });
    await sleep(300);
    await screenshot(page, 'sessions-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // The filters.
    await page.getByTestId('sessions-filter').fill('nobody-here');
    await page.getByTestId('sessions-empty').getByText('No session matches the filter').waitFor();
    await page.getByTestId('sessions-filter').fill('olga');
    await row.waitFor();

    // Details.
    await row.getByTestId('session-details').click();
    const drawer = page.getByRole('dialog');
    await drawer.getByText('operations-test').waitFor();
    await expect(drawer.textContent()).resolves.toContain(USERNAME);
    await screenshot(page, 'sessions-detail');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });

    // Kick, with a confirmation naming the session.
    await row.getByTestId('session-kick').click();
    // The modal's body renders after its frame (a transition): wait for the text, not the frame.
    await expect
      .poll(() => page.getByTestId('session-kick-modal').textContent(), { timeout: 10_000 })
      .toContain(`IMAP session of ${USERNAME} from`);
    await page.getByTestId('session-kick-modal-confirm').click();
    await expect.poll(() => closed, { timeout: 10_000 }).toBe(true);
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    const sessions = await adminApi<{ total: number }>('GET', '/api/sessions');
    expect(sessions.total).toBe(0);
    expectNoConsoleErrors();
  });

  it('blocks the address of a session with a deny rule at the top, then kicks it', async () => {
    await go('/sessions');
    const socket = net.connect(panel.ports.pop3, '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    const socketClosed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const row = page.getByTestId('session-row').filter({ hasText: 'pop3' });
    await row.waitFor({ timeout: 15_000 });
    await row.getByTestId('session-block').click({ timeout: 10_000 });
    await expect(page.getByTestId('block-range').textContent()).resolves.toBe('127.0.0.1/32');
    await page.getByTestId('block-confirm').click({ timeout: 10_000 });
    await page.getByTestId('block-kick-step').waitFor({ timeout: 10_000 });
    const rules = await adminApi<{
      rules: Array<{ id: string; position: number; kind: string; cidrs: string[]; note: string }>;
    }>('GET', '/api/rules');
    expect(rules.rules[0]).toMatchObject({ position: 1, kind: 'deny', cidrs: ['127.0.0.1'] });
    expect(rules.rules[0]!.note).toMatch(/Blocked from the Sessions page/);
    await page.getByTestId('block-kick-confirm').click();
    await Promise.race([
      socketClosed,
      sleep(10_000).then(() => Promise.reject(new Error('POP3 not closed'))),
    ]);
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    expect((await greeting(panel.ports.pop3)).line).toMatch(/^-ERR/);
    await adminApi('DELETE', `/api/rules/${rules.rules[0]!.id}`);
    expectNoConsoleErrors();
  });
});

describe('Certificates page', () => {
  it('creates a CA and a certificate for mail.test in the wizard, activates it, and IMAPS serves it', async () => {
    await go('/certificates');
    await page.getByTestId('certificates-table').waitFor();
    await screenshot(page, 'certificates-before');

    await page.getByTestId('certificate-wizard-open').click();
    await page.getByTestId('wizard-step-authority').waitFor();
    await sleep(400); // the modal's opening transition
    await screenshot(page, 'certificates-wizard-1-authority');
    await page.getByTestId('wizard-ca-name').fill('Operations Test CA');
    await page.getByTestId('wizard-next').click();

    // Prefilled from the machine (the test config's hostname is localhost).
    const names = page.getByTestId('wizard-names');
    await page.getByTestId('wizard-step-names').getByText('localhost', { exact: true }).waitFor();
    await names.click();
    await page.keyboard.type('mail.test');
    await page.keyboard.press('Enter');
    await page.keyboard.type('bad_name!');
    await page.keyboard.press('Enter');
    await page.getByText('bad_name! is not a valid host name').waitFor();
    expect(await page.getByTestId('wizard-next').isDisabled()).toBe(true);
    await page.keyboard.press('Backspace');
    await page.getByText('bad_name! is not a valid host name').waitFor({ state: 'detached' });
    await screenshot(page, 'certificates-wizard-2-names');
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-step-generate').waitFor();
    await screenshot(page, 'certificates-wizard-3-generate');
    await page.getByTestId('wizard-generate').click();
    await page.getByTestId('wizard-done').waitFor({ timeout: 30_000 });
    const shownFingerprint = (await page.getByTestId('wizard-fingerprint').textContent())!.replace(
      'SHA-256 ',
      '',
    );
    await page.getByTestId('wizard-activate').click();
    await page.getByTestId('wizard-activated').waitFor();
    await screenshot(page, 'certificates-wizard-4-done');
    await page.getByRole('button', { name: 'Close', exact: true }).click();

    const row = page.locator('[data-testid="certificate-row"][data-names="localhost,mail.test"]');
    await row.getByTestId('certificate-active').waitFor();
    const listed = await row.getAttribute('data-fingerprint');
    expect(listed).toBe(shownFingerprint);
    await expect(row.getByTestId('certificate-days').textContent()).resolves.toMatch(/^\d+ days$/);
    await page.getByTestId('authority-card').getByText('Operations Test CA').first().waitFor();
    await screenshot(page, 'certificates');

    // The CA download through the panel (what a phone fetches), then IMAPS checked against it.
    const cookies = await chromium.context.cookies(panel.url);
    const cookie = cookies.map((entry) => `${entry.name}=${entry.value}`).join('; ');
    const pem = await (
      await fetch(`${panel.url}/api/certificates/authority.pem`, { headers: { cookie } })
    ).text();
    expect(pem).toContain('BEGIN CERTIFICATE');
    const der = Buffer.from(
      await (
        await fetch(`${panel.url}/api/certificates/authority.der`, { headers: { cookie } })
      ).arrayBuffer(),
    );
    expect(new crypto.X509Certificate(der).subject).toContain('Operations Test CA');

    // Import: a key that does not belong to the certificate is refused in words.
    await page.getByTestId('certificate-import-open').click();
    const strangerKey = crypto
      .generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    await page.getByTestId('import-cert').fill(pem);
    await page.getByTestId('import-key').fill(strangerKey);
    await page.getByTestId('import-submit').click();
    await page
      .getByTestId('certificate-import')
      .getByText('The private key does not match the certificate')
      .waitFor();
    await screenshot(page, 'certificates-import-error');
    consoleErrors.splice(0); // the 400 of the refused import is expected
    await page.keyboard.press('Escape');
    await page.getByTestId('certificate-import').waitFor({ state: 'detached' });

    for (const servername of ['mail.test', undefined]) {
      const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
        const socket = tls.connect(
          {
            host: '127.0.0.1',
            port: panel.ports.imaps,
            ...(servername ? { servername } : {}),
            ca: pem,
            checkServerIdentity: () => undefined,
          },
          () => {
            const certificate = socket.getPeerCertificate();
            const authorized = socket.authorized;
            socket.end();
            if (!authorized) reject(new Error(`not trusted: ${String(socket.authorizationError)}`));
            else resolve(certificate);
          },
        );
        socket.on('error', reject);
      });
      expect(peer.fingerprint256).toBe(listed);
      expect(peer.subjectaltname).toContain('DNS:mail.test');
      expect(tls.checkServerIdentity('mail.test', peer)).toBeUndefined();
    }
    expectNoConsoleErrors();
  });
});
