/**
 * The Certificates page's ACME section against a real `mallard panel` (and its server) in headless
 * Chromium, with pebble as the CA and Knot as the DNS: the terms must be ticked before a request, a
 * failing challenge shows its error (on the dashboard too), a request that succeeds shows the issued
 * certificate, activated (the list says so), without a reload, and the manual DNS step lists the record
 * and takes the operator's confirmation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { sendUpdate } from '../../server/acme/dns-update.ts';
import { startKnot, type Knot } from '../helpers/knot.ts';
import { openPanelPage, screenshot, type Chromium, type RunningPanel } from '../helpers/panel.ts';
import { startPebble, type Pebble } from '../helpers/pebble.ts';
import { freePort } from '../helpers/ports.ts';

const ZONE = 'panel.test';
const HOST = `mail.${ZONE}`;

let knot: Knot;
let pebble: Pebble;
let panel: RunningPanel;
let browser: Chromium;
let page: Page;
let errors: string[];

beforeAll(async () => {
  knot = await startKnot(ZONE, [HOST]);
  pebble = await startPebble({ dnsServer: knot.server });
  // TLS-ALPN-01 listens where the CA does not connect: that challenge fails, HTTP-01 succeeds.
  const elsewhere = await freePort();
  ({ panel, browser, page, errors } = await openPanelPage({
    configYaml: [
      `hostname: ${HOST}`,
      'acme:',
      `  directory_url: ${pebble.directoryUrl}`,
      `  ca_file: ${pebble.caFile}`,
      '  host: 127.0.0.1',
      `  http_port: ${pebble.httpPort}`,
      `  tls_port: ${elsewhere}`,
    ].join('\n'),
  }));
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
  await pebble?.stop();
  await knot?.stop();
});

const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim() ?? '';

describe('Certificates page: ACME', () => {
  it('requests a certificate from the CA: terms first, a failing challenge explained, then issued', async () => {
    await page.goto(`${panel.url}/certificates`);
    await page.getByTestId('acme-card').waitFor();
    expect(await text('acme-state')).toBe('Not requested');
    expect(await text('acme-names')).toBe(HOST);
    expect(await page.getByTestId('acme-request').isDisabled()).toBe(true);
    await page.getByTestId('acme-terms').check();

    await page.getByTestId('acme-challenge').selectOption('tls-alpn-01');
    await page.getByTestId('acme-request').click();
    await page
      .getByTestId('acme-state')
      .filter({ hasText: 'Last attempt failed' })
      .waitFor({ timeout: 30_000 });
    expect(await text('acme-error')).toMatch(
      new RegExp(`${HOST.replaceAll('.', '\\.')}: .*(refused|connect)`, 'i'),
    );
    await screenshot(page, 'certificates-acme-failed');
    // The dashboard says so too, with the way back.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const warning = page.getByTestId('acme-warning');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/Failed to connect/);
    await warning.getByRole('link', { name: 'Certificates page' }).click();
    await page.getByTestId('acme-card').waitFor();

    // The terms were accepted with the first request: no checkbox any more.
    expect(await page.getByTestId('acme-terms').count()).toBe(0);
    await page.getByTestId('acme-challenge').selectOption('http-01');
    await page.getByTestId('acme-request').click();
    await page.getByTestId('acme-state').filter({ hasText: 'Issued' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('acme-error').count()).toBe(0);
    expect(await text('acme-certificate')).toMatch(/\(active\)$/);
    expect(await text('acme-request')).toBe('Renew now');
    // The list of certificates shows it too, active, without a reload.
    const id = /Certificate (\w+) valid/.exec(await text('acme-certificate'))![1]!;
    await page.getByText(id).first().waitFor();
    await screenshot(page, 'certificates-acme-issued');
    expect(errors).toEqual([]);
  }, 90_000);

  it('renews through a TXT record the operator publishes, confirmed on the page', async () => {
    const before = /Certificate (\w+) valid/.exec(await text('acme-certificate'))![1]!;
    await page.getByTestId('acme-challenge').selectOption('manual');
    await page.getByTestId('acme-request').click();
    await page.getByTestId('acme-records').waitFor({ timeout: 30_000 });
    expect(await text('acme-state')).toBe('Waiting for DNS records');
    const value = await text('acme-record-value');
    expect(await page.getByTestId('acme-records').textContent()).toContain(`_acme-challenge.${HOST}`);
    await screenshot(page, 'certificates-acme-records');
    // The operator publishes the record (here in the test's DNS server), then says so.
    await sendUpdate(
      { server: knot.server, zone: ZONE, key: { name: knot.tsigName, secret: knot.tsigSecret } },
      [{ action: 'add', name: `_acme-challenge.${HOST}`, value }],
    );
    await page.getByTestId('acme-confirm').click();
    await page.getByTestId('acme-state').filter({ hasText: 'Issued' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('acme-records').count()).toBe(0);
    const after = /Certificate (\w+) valid/.exec(await text('acme-certificate'))![1]!;
    expect(after).not.toBe(before);
    expect(errors).toEqual([]);
  }, 90_000);
});
