/**
 * Renewal against pebble issuing short-lived certificates (ten days, inside the 30-day renewal
 * window): the renewal check replaces a certificate close to expiry without a restart, a failed
 * renewal keeps the served certificate and schedules a retry, and with acme.enabled the check runs
 * on its own at start.
 */
import http from 'node:http';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AcmeStatus } from '../../server/acme/service.ts';
import type { AdminEvent } from '../../server/admin/schemas.ts';
import { startKnot, type Knot } from '../helpers/knot.ts';
import { startPebble, type Pebble } from '../helpers/pebble.ts';
import { freePort } from '../helpers/ports.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ZONE = 'renew.test';
const HOST = `mail.${ZONE}`;
const TEN_DAYS = 10 * 86_400;

let knot: Knot;
let pebble: Pebble;

beforeAll(async () => {
  knot = await startKnot(ZONE, [HOST]);
  pebble = await startPebble({ dnsServer: knot.server, validitySeconds: TEN_DAYS });
}, 60_000);

afterAll(async () => {
  await pebble?.stop();
  await knot?.stop();
});

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    MALLARD_HOSTNAME: HOST,
    MALLARD_ACME_DIRECTORY_URL: pebble.directoryUrl,
    MALLARD_ACME_CA_FILE: pebble.caFile,
    MALLARD_ACME_ACCEPT_TERMS: 'true',
    MALLARD_ACME_HOST: '127.0.0.1',
    MALLARD_ACME_HTTP_PORT: String(pebble.httpPort),
    ...extra,
  };
}

/** The serial number of the certificate IMAPS serves for HOST, verified against pebble's root. */
async function servedSerial(port: number): Promise<string> {
  const root = await pebble.root();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: HOST, ca: root }, () => {
      resolve(socket.getPeerCertificate().serialNumber.toLowerCase());
      socket.end();
    });
    socket.once('error', reject);
  });
}

function nextStatus(server: TestServer, done: (status: AcmeStatus) => boolean): Promise<AcmeStatus> {
  return new Promise((resolve) => {
    const unsubscribe = server.server.events.subscribe((event: AdminEvent) => {
      if (event.type === 'acme.changed' && done(event.data as AcmeStatus)) {
        unsubscribe();
        resolve(event.data as AcmeStatus);
      }
    });
  });
}

describe('ACME renewal', () => {
  it('renews a certificate inside the renewal window; a failed renewal keeps the served one', async () => {
    const server = await startTestServer(env());
    try {
      const acme = server.server.acme!;
      const first = await acme.issue({ wait: true });
      expect(first.lastError).toBeNull();
      expect(first.state).toBe('valid');
      // Ten days left, renewal at 30: due now.
      expect(new Date(first.renewAfter!).getTime()).toBeLessThan(Date.now());
      expect(acme.renewalDue()).toBe(true);
      const firstSerial = await servedSerial(server.imapsPort);

      const renewed = await acme.check();
      expect(renewed.lastError).toBeNull();
      expect(renewed.certificate!.id).not.toBe(first.certificate!.id);
      const renewedSerial = await servedSerial(server.imapsPort);
      expect(renewedSerial).not.toBe(firstSerial);
      // The replaced certificate is gone from the store.
      expect(server.server.tls.certificates.list().map((info) => info.id)).not.toContain(
        first.certificate!.id,
      );

      // Now the CA reaches an impostor on the port it checks (the router forwards port 80 elsewhere
      // than the port Mallard's HTTP-01 listener opens): the renewal fails.
      server.config.acme.http_port = await freePort();
      const impostor = http.createServer((_request, response) => response.end('wrong'));
      await new Promise<void>((resolve) => impostor.listen(pebble.httpPort, '127.0.0.1', resolve));
      try {
        const failedEvent = nextStatus(server, (status) => status.state === 'failed');
        const failed = await acme.check();
        expect(failed.state).toBe('failed');
        expect(failed.lastError).toMatch(/mail\.renew\.test: .*key authorization/i);
        expect(failed.failures).toBe(1);
        expect((await failedEvent).lastError).toBe(failed.lastError);
        // The certificate issued before is still the one served.
        expect(failed.certificate!.id).toBe(renewed.certificate!.id);
        expect(failed.certificate!.active).toBe(true);
        expect(await servedSerial(server.imapsPort)).toBe(renewedSerial);
        // No new attempt before the retry time.
        const again = await acme.check();
        expect(again.failures).toBe(1);
        expect(again.lastAttemptAt).toBe(failed.lastAttemptAt);
      } finally {
        await new Promise((resolve) => impostor.close(resolve));
      }
    } finally {
      await server.stop();
    }
  }, 90_000);

  it('with acme.enabled the check runs at start and issues what is missing', async () => {
    const server = await startTestServer(env({ MALLARD_ACME_ENABLED: 'true' }));
    try {
      const acme = server.server.acme!;
      const status =
        acme.status().state === 'valid'
          ? acme.status()
          : await nextStatus(
              server,
              (candidate) => candidate.state === 'valid' || candidate.state === 'failed',
            );
      expect(status.lastError).toBeNull();
      expect(status.state).toBe('valid');
      expect(status.enabled).toBe(true);
      expect(await servedSerial(server.imapsPort)).toMatch(/^[0-9a-f]+$/);
    } finally {
      await server.stop();
    }
  }, 90_000);
});
