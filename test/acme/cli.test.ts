/**
 * `mallard cert acme …` against pebble: through a running server's admin API (the manual DNS step:
 * records printed, `confirm`, then issued by the server) and without a server (the command runs the
 * order itself on the data directory, which a server started later serves).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sendUpdate } from '../../server/acme/dns-update.ts';
import type { AcmeStatus } from '../../server/acme/service.ts';
import { certCommand } from '../../server/cli/commands/cert.ts';
import { CertificateStore } from '../../server/tls/store.ts';
import { call } from '../helpers/cli-call.ts';
import { makeDataDir } from '../helpers/cli.ts';
import { startKnot, type Knot } from '../helpers/knot.ts';
import { startPebble, type Pebble } from '../helpers/pebble.ts';
import { startTestServer } from '../helpers/server.ts';

const ZONE = 'cli.test';
const HOST = `mail.${ZONE}`;

let knot: Knot;
let pebble: Pebble;

beforeAll(async () => {
  knot = await startKnot(ZONE, [HOST]);
  pebble = await startPebble({ dnsServer: knot.server });
}, 60_000);

afterAll(async () => {
  await pebble?.stop();
  await knot?.stop();
});

function acmeEnv(): Record<string, string> {
  return {
    MALLARD_CONFIG: '',
    MALLARD_HOSTNAME: HOST,
    MALLARD_ACME_DIRECTORY_URL: pebble.directoryUrl,
    MALLARD_ACME_CA_FILE: pebble.caFile,
    MALLARD_ACME_HOST: '127.0.0.1',
    MALLARD_ACME_HTTP_PORT: String(pebble.httpPort),
  };
}

describe('mallard cert acme', () => {
  it('through the server: the manual TXT step, confirm, status', async () => {
    const h = await startTestServer({ ...acmeEnv(), MALLARD_ACME_CHALLENGE: 'manual' });
    const clientDir = makeDataDir('mallard-cli-client-');
    try {
      fs.copyFileSync(path.join(h.config.data_dir, 'admin.token'), path.join(clientDir, 'admin.token'));
      const env = {
        MALLARD_CONFIG: '',
        MALLARD_DATA_DIR: clientDir,
        MALLARD_ADMIN_PORT: String(h.server.admin!.port),
        MALLARD_CLI_OFFLINE: '',
      };
      expect((await call(certCommand, ['acme', 'status'], env)).text).toMatch(/^state: idle$/m);
      const refused = await call(certCommand, ['acme', 'issue'], env);
      expect(refused.status).toBe(65);
      expect(refused.error).toMatch(/terms of service must be accepted/);

      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const issued = await call(certCommand, ['acme', 'issue', '--accept-terms', '--json'], env);
      const printed = stderr.mock.calls.map(([chunk]) => String(chunk)).join('');
      stderr.mockRestore();
      expect(issued.status).toBe(0);
      const waiting = JSON.parse(issued.text) as AcmeStatus;
      expect(waiting.state).toBe('waiting-for-dns');
      const record = waiting.records[0]!;
      expect(printed).toContain(`${record.name}. 60 IN TXT "${record.value}"`);
      expect(printed).toContain('mallard cert acme confirm');

      await sendUpdate(
        { server: knot.server, zone: ZONE, key: { name: knot.tsigName, secret: knot.tsigSecret } },
        [{ action: 'add', name: record.name, value: record.value }],
      );
      const settled = new Promise<void>((resolve) => {
        const unsubscribe = h.server.events.subscribe((event) => {
          if (
            event.type === 'acme.changed' &&
            (event.data.state === 'valid' || event.data.state === 'failed')
          ) {
            unsubscribe();
            resolve();
          }
        });
      });
      expect((await call(certCommand, ['acme', 'confirm'], env)).status).toBe(0);
      await settled;
      const status = await call(certCommand, ['acme', 'status'], env);
      expect(status.text).toMatch(/^state: valid$/m);
      expect(status.text).toMatch(
        new RegExp(`^certificate: ${h.server.tls.certificates.active()!.id} expires `, 'm'),
      );
      expect((await call(certCommand, ['acme', 'confirm'], env)).status).toBe(65); // nothing waits now
      // The dashboard's summary in /api/status.
      const token = fs.readFileSync(path.join(h.config.data_dir, 'admin.token'), 'utf8').trim();
      const summary = (await (
        await fetch(`http://127.0.0.1:${h.server.admin!.port}/api/status`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as { acme: { state: string; notAfter: string | null; lastError: string | null } };
      expect(summary.acme).toMatchObject({ state: 'valid', lastError: null });
      expect(summary.acme.notAfter).toBe(h.server.tls.certificates.active()!.notAfter);
    } finally {
      await h.stop();
      fs.rmSync(clientDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('without a server: issues HTTP-01 itself into the data directory; renew does nothing when not due', async () => {
    const dataDir = makeDataDir();
    try {
      const env = { ...acmeEnv(), MALLARD_DATA_DIR: dataDir, MALLARD_CLI_OFFLINE: '1' };
      const issued = await call(certCommand, ['acme', 'issue', '--accept-terms', '--json'], env);
      expect(issued.error).toBe('');
      expect(issued.status).toBe(0);
      const status = JSON.parse(issued.text) as AcmeStatus;
      expect(status.state).toBe('valid');
      const active = new CertificateStore(dataDir).active();
      expect(active?.id).toBe(status.certificate!.id);
      expect(active?.names).toEqual([HOST]);

      const renewed = await call(certCommand, ['acme', 'renew', '--json'], env);
      expect(renewed.status).toBe(0);
      expect((JSON.parse(renewed.text) as AcmeStatus).certificate!.id).toBe(status.certificate!.id);

      const bad = await call(certCommand, ['acme', 'issue', '--challenge', 'smoke-signals'], env);
      expect(bad.status).toBe(64);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
