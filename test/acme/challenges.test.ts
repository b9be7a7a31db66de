/**
 * Certificates from an ACME CA, end to end: Debian's pebble as the CA, Knot DNS as the operator's
 * DNS server (the test names → 127.0.0.1, RFC 2136 updates with TSIG), and a real Mallard server
 * per case whose challenge listeners bind the ports pebble's validator connects to. What the user
 * sees is checked: the issued chain served on IMAPS, verified against pebble's root.
 */
import fs from 'node:fs';
import http from 'node:http';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKnot, type Knot } from '../helpers/knot.ts';
import { startPebble, type Pebble } from '../helpers/pebble.ts';
import { freePort } from '../helpers/ports.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ZONE = 'example.test';
const HOST = `mail.${ZONE}`;
const EXTRA = `autoconfig.${ZONE}`;

let knot: Knot;
let pebble: Pebble;

beforeAll(async () => {
  knot = await startKnot(ZONE, [HOST, EXTRA]);
  pebble = await startPebble({ dnsServer: knot.server });
}, 60_000);

afterAll(async () => {
  await pebble?.stop();
  await knot?.stop();
});

function acmeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    MALLARD_HOSTNAME: HOST,
    MALLARD_ACME_NAMES: EXTRA,
    MALLARD_ACME_DIRECTORY_URL: pebble.directoryUrl,
    MALLARD_ACME_CA_FILE: pebble.caFile,
    MALLARD_ACME_EMAIL: 'postmaster@example.test',
    MALLARD_ACME_HOST: '127.0.0.1',
    MALLARD_ACME_HTTP_PORT: String(pebble.httpPort),
    MALLARD_ACME_TLS_PORT: String(pebble.tlsPort),
    ...extra,
  };
}

/** The chain IMAPS serves for `servername`, and whether it verifies against pebble's root. */
async function imapsChain(
  port: number,
  servername: string,
): Promise<{ authorized: boolean; error: string | null; names: string; greeting: string }> {
  const root = await pebble.root();
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca: root, rejectUnauthorized: false });
    socket.once('error', reject);
    socket.once('data', (greeting) => {
      const peer = socket.getPeerCertificate();
      resolve({
        authorized: socket.authorized,
        error: socket.authorizationError ? String(socket.authorizationError) : null,
        names: peer.subjectaltname ?? '',
        greeting: greeting.toString(),
      });
      socket.end();
    });
  });
}

async function withServer(env: NodeJS.ProcessEnv, body: (server: TestServer) => Promise<void>) {
  const server = await startTestServer(acmeEnv(env));
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

describe('ACME against pebble', () => {
  it('refuses to start an order before the terms are accepted, naming them', async () => {
    await withServer({}, async ({ server }) => {
      await expect(server.acme!.issue({ wait: true })).rejects.toThrow(/terms of service must be accepted/);
      expect(server.acme!.status().state).toBe('idle');
    });
  });

  it('HTTP-01: issues for hostname + acme.names, activates without restart, IMAPS serves the chain', async () => {
    await withServer({}, async ({ server, imapsPort, config }) => {
      const before = await imapsChain(imapsPort, HOST);
      expect(before.authorized).toBe(false);

      const status = await server.acme!.issue({ acceptTerms: true, wait: true });
      expect(status.lastError).toBeNull();
      expect(status.state).toBe('valid');
      expect(status.certificate?.names.sort()).toEqual([EXTRA, HOST].sort());
      expect(status.certificate?.active).toBe(true);

      const after = await imapsChain(imapsPort, HOST);
      expect(after.error).toBeNull();
      expect(after.authorized).toBe(true);
      expect(after.names).toContain(`DNS:${HOST}`);
      expect(after.greeting).toMatch(/^\* OK/);

      // The account key and the certificate's key are owner-only.
      expect(fs.statSync(`${config.data_dir}/acme/account.key`).mode & 0o777).toBe(0o600);
      const keyFile = `${config.data_dir}/tls/${status.certificate!.id}.key`;
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      // The challenge listener is closed again once the order is done.
      await expect(fetchText(pebble.httpPort, '/')).rejects.toThrow(/ECONNREFUSED/);
    });
  }, 60_000);

  it('TLS-ALPN-01: issues through an acme-tls/1 listener', async () => {
    await withServer(
      { MALLARD_ACME_CHALLENGE: 'tls-alpn-01', MALLARD_ACME_ACCEPT_TERMS: 'true' },
      async ({ server, imapsPort }) => {
        const status = await server.acme!.issue({ wait: true });
        expect(status.lastError).toBeNull();
        expect(status.state).toBe('valid');
        expect((await imapsChain(imapsPort, EXTRA)).authorized).toBe(true);
      },
    );
  }, 60_000);

  it('DNS-01: publishes the TXT record by RFC 2136 update (TSIG) and deletes it afterwards', async () => {
    await withServer(
      {
        MALLARD_ACME_CHALLENGE: 'dns-01',
        MALLARD_ACME_ACCEPT_TERMS: 'true',
        MALLARD_ACME_DNS_SERVER: knot.server,
        MALLARD_ACME_DNS_ZONE: ZONE,
        MALLARD_ACME_DNS_TSIG_NAME: knot.tsigName,
        MALLARD_ACME_DNS_TSIG_SECRET: knot.tsigSecret,
        // Nothing listens for HTTP-01 or TLS-ALPN-01: only DNS can prove the names.
        MALLARD_ACME_HTTP_PORT: String(await freePort()),
      },
      async ({ server, imapsPort }) => {
        const status = await server.acme!.issue({ wait: true });
        expect(status.lastError).toBeNull();
        expect(status.state).toBe('valid');
        expect((await imapsChain(imapsPort, HOST)).authorized).toBe(true);
        expect(await knot.txt(`_acme-challenge.${HOST}`)).toEqual([]);
      },
    );
  }, 60_000);

  it('DNS-01 with a wrong TSIG secret: the DNS server’s refusal is the error', async () => {
    await withServer(
      {
        MALLARD_ACME_CHALLENGE: 'dns-01',
        MALLARD_ACME_ACCEPT_TERMS: 'true',
        MALLARD_ACME_DNS_SERVER: knot.server,
        MALLARD_ACME_DNS_TSIG_NAME: knot.tsigName,
        MALLARD_ACME_DNS_TSIG_SECRET: Buffer.alloc(32, 7).toString('base64'),
      },
      async ({ server }) => {
        const status = await server.acme!.issue({ wait: true });
        expect(status.state).toBe('failed');
        expect(status.lastError).toMatch(/refused the update of zone example\.test: (BADSIG|NOTAUTH)/);
      },
    );
  }, 60_000);

  it('manual DNS-01: shows the TXT record, waits for the operator, then issues', async () => {
    await withServer(
      { MALLARD_ACME_CHALLENGE: 'manual', MALLARD_ACME_ACCEPT_TERMS: 'true', MALLARD_ACME_NAMES: '' },
      async ({ server }) => {
        const waiting = await server.acme!.issue({ wait: true });
        expect(waiting.state).toBe('waiting-for-dns');
        expect(waiting.records).toHaveLength(1);
        const record = waiting.records[0]!;
        expect(record.name).toBe(`_acme-challenge.${HOST}`);
        // The operator publishes the record (here: in the test's DNS server, by the same kind of update).
        const { sendUpdate } = await import('../../server/acme/dns-update.ts');
        await sendUpdate(
          { server: knot.server, zone: ZONE, key: { name: knot.tsigName, secret: knot.tsigSecret } },
          [{ action: 'add', name: record.name, value: record.value }],
        );
        const done = new Promise<void>((resolve) => {
          const unsubscribe = server.events.subscribe((event) => {
            if (
              event.type === 'acme.changed' &&
              event.data.state !== 'running' &&
              event.data.state !== 'waiting-for-dns'
            ) {
              unsubscribe();
              resolve();
            }
          });
        });
        server.acme!.confirm();
        await done;
        const status = server.acme!.status();
        expect(status.lastError).toBeNull();
        expect(status.state).toBe('valid');
      },
    );
  }, 60_000);

  it('a wrong HTTP-01 answer: a clear error, the served certificate kept, a retry scheduled', async () => {
    // Something else answers on the port the CA checks, with the wrong key authorization.
    const impostor = http.createServer((_request, response) => response.end('not-the-key-authorization'));
    await new Promise<void>((resolve) => impostor.listen(pebble.httpPort, '127.0.0.1', resolve));
    try {
      await withServer(
        { MALLARD_ACME_ACCEPT_TERMS: 'true', MALLARD_ACME_HTTP_PORT: String(await freePort()) },
        async ({ server, imapsPort }) => {
          const served = await imapsChain(imapsPort, HOST);
          const status = await server.acme!.issue({ wait: true });
          expect(status.state).toBe('failed');
          expect(status.lastError).toMatch(/did not issue.*key authorization/i);
          expect(status.failures).toBe(1);
          expect(new Date(status.nextAttemptAt!).getTime()).toBeGreaterThan(Date.now());
          expect(status.certificate).toBeNull();
          expect(server.tls.certificates.active()).toBeNull();
          expect((await imapsChain(imapsPort, HOST)).names).toBe(served.names);
        },
      );
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
    }
  }, 60_000);
});

function fetchText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}
