/**
 * MTA-STS (RFC 8461) with real parts: dnsmasq publishes the `_mta-sts` TXT records, a loopback
 * HTTPS server of the test serves the policies with a certificate of a test CA (Mallard is told to
 * trust that CA and the policy port), and two Debian Postfix instances receive: one with a
 * certificate of the test CA for its MX name, one with a self-signed certificate.
 * - enforce, MX listed, valid TLS: delivered; the policy is fetched once and cached (max_age);
 * - enforce, MX with a certificate that does not verify: deferred, nothing sent;
 * - enforce, MX not listed in the policy: deferred 4.7.5, nothing sent;
 * - testing: the same faults are only reported, and the message is delivered;
 * - the cached policies are kept in the store: after a restart, with the policy host gone, they
 *   still apply (RFC 8461 5.1) and are not fetched again.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpLineClient } from '../delivery/clients.ts';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';
import { freePort } from '../helpers/ports.ts';
import { startPostfix, type Postfix } from '../helpers/postfix.ts';
import { createLogger } from '../../server/log.ts';
import { startServer } from '../../server/main.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const POLICY_HOST = '127.0.0.21';
const GOOD_MX = '127.0.0.22';
const SELF_SIGNED_MX = '127.0.0.23';

const POLICIES: Record<string, string> = {
  'enforce.test': 'version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 86400\n',
  'badcert.test': 'version: STSv1\nmode: enforce\nmx: mx.selfsigned.test\nmax_age: 86400\n',
  'mismatch.test': 'version: STSv1\nmode: enforce\nmx: mx.elsewhere.test\nmax_age: 86400\n',
  'testing.test': 'version: STSv1\nmode: testing\nmx: mx.elsewhere.test\nmax_age: 86400\n',
};

let dir: string;
let good: Postfix;
let selfSigned: Postfix;
let dnsmasq: Dnsmasq;
let policyServer: https.Server;
let server: TestServer;
const policyRequests = new Map<string, number>();
/** Set once the policy host should answer nothing useful (after the restart). */
let policyHostDown = false;

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, { cwd: dir }, (error, _stdout, stderr) =>
      error ? reject(new Error(`openssl ${args[0]}: ${stderr}`)) : resolve(),
    ),
  );
}

/** A certificate of the test CA for `names` (subjectAltName DNS entries). */
async function issue(name: string, names: string[]): Promise<{ certFile: string; keyFile: string }> {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${names[0]}`,
    '-keyout',
    keyFile,
    '-out',
    `${name}.csr`,
  ]);
  fs.writeFileSync(
    path.join(dir, `${name}.ext`),
    `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`,
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-mta-sts-'));
  fs.chmodSync(dir, 0o755);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Mallard test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  const policyCert = await issue(
    'policy',
    Object.keys(POLICIES).map((domain) => `mta-sts.${domain}`),
  );
  const mxCert = await issue('mx', ['mx.good.test']);

  good = await startPostfix({
    host: GOOD_MX,
    mailboxes: ['rcpt@enforce.test', 'rcpt@mismatch.test'],
    tls: mxCert,
  });
  selfSigned = await startPostfix({
    host: SELF_SIGNED_MX,
    port: good.port,
    mailboxes: ['rcpt@badcert.test', 'rcpt@testing.test'],
  });

  policyServer = https.createServer(
    { cert: fs.readFileSync(policyCert.certFile), key: fs.readFileSync(policyCert.keyFile) },
    (request, response) => {
      const domain = (request.headers.host ?? '').replace(/^mta-sts\./, '').replace(/:\d+$/, '');
      policyRequests.set(domain, (policyRequests.get(domain) ?? 0) + 1);
      const policy = policyHostDown ? undefined : POLICIES[domain];
      if (request.url !== '/.well-known/mta-sts.txt' || !policy) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end(policy);
    },
  );
  const policyPort = await freePort(POLICY_HOST);
  await new Promise<void>((resolve) => policyServer.listen(policyPort, POLICY_HOST, resolve));

  const domains = Object.keys(POLICIES);
  const mxOf: Record<string, string> = {
    'enforce.test': 'mx.good.test',
    'badcert.test': 'mx.selfsigned.test',
    'mismatch.test': 'mx.good.test',
    'testing.test': 'mx.selfsigned.test',
  };
  dnsmasq = await startDnsmasq({
    zones: [...domains, 'good.test', 'selfsigned.test', 'example.test'],
    mx: domains.map((domain) => ({ domain, host: mxOf[domain]!, preference: 10 })),
    a: [
      { name: 'mx.good.test', address: GOOD_MX },
      { name: 'mx.selfsigned.test', address: SELF_SIGNED_MX },
      ...domains.map((domain) => ({ name: `mta-sts.${domain}`, address: POLICY_HOST })),
    ],
    txt: domains.map((domain) => ({ name: `_mta-sts.${domain}`, value: 'v=STSv1; id=20261205' })),
  });

  server = await startTestServer({
    MALLARD_DNS_SERVERS: dnsmasq.server,
    MALLARD_OUTBOUND_MX_PORT: String(good.port),
    MALLARD_OUTBOUND_RETRY_BASE: '3600',
    MALLARD_OUTBOUND_MTA_STS_POLICY_PORT: String(policyPort),
    MALLARD_OUTBOUND_MTA_STS_CA_FILE: path.join(dir, 'ca.pem'),
    MALLARD_DKIM_ENABLED: 'false',
  });
  await server.addUser('alice@example.test', 'secret');
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => policyServer?.close(resolve));
  await dnsmasq?.stop();
  await good?.stop();
  await selfSigned?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function submit(to: string, subject: string): Promise<string> {
  const port = server.server.submission.listeners.find((l) => !l.implicitTls)!.port;
  const { client } = await SmtpLineClient.connect(port);
  try {
    await client.command('EHLO client.test');
    const token = Buffer.from('\0alice@example.test\0secret').toString('base64');
    expect(await client.command(`AUTH PLAIN ${token}`)).toMatch(/^235 /);
    expect(await client.command('MAIL FROM:<alice@example.test>')).toMatch(/^250 /);
    expect(await client.command(`RCPT TO:<${to}>`)).toMatch(/^250 /);
    const [reply] = await client.data(
      Buffer.from(`From: alice@example.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`),
    );
    return /queued as (\S+)/.exec(reply ?? '')![1]!;
  } finally {
    client.close();
  }
}

/** Postfix writes the Maildir file just after its 250: waits for `count` copies there. */
async function arrivedAt(postfix: Postfix, address: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const copies = postfix.delivered(address).map((raw) => raw.toString('latin1'));
    if (copies.length >= count) return copies;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} copies for ${address}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function settled(id: string, state: 'delivered' | 'deferred') {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const recipient = (await server.server.store.getOutbound(id))?.recipients[0];
    if (recipient?.state === state) return recipient;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${state}: ${JSON.stringify(recipient)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('MTA-STS', () => {
  it('enforce: delivers to a listed MX over verified TLS, fetching the policy once for its max_age', async () => {
    await settled(await submit('rcpt@enforce.test', 'sts one'), 'delivered');
    await settled(await submit('rcpt@enforce.test', 'sts two'), 'delivered');
    const arrived = await arrivedAt(good, 'rcpt@enforce.test', 2);
    expect(arrived).toHaveLength(2);
    expect(arrived[0]).toMatch(/\(using TLSv1\.[23] /);
    expect(policyRequests.get('enforce.test')).toBe(1);
  });

  it('enforce: defers when the MX certificate does not verify, and sends nothing', async () => {
    const recipient = await settled(await submit('rcpt@badcert.test', 'sts bad cert'), 'deferred');
    expect(recipient.lastError).toMatch(/certificate|self[- ]signed/i);
    expect(selfSigned.delivered('rcpt@badcert.test')).toHaveLength(0);
  });

  it('enforce: defers 4.7.5 when the policy lists none of the MX hosts', async () => {
    const recipient = await settled(await submit('rcpt@mismatch.test', 'sts mismatch'), 'deferred');
    expect(recipient.lastError).toMatch(/^4\.7\.5 MTA-STS policy of mismatch\.test/);
    expect(good.delivered('rcpt@mismatch.test')).toHaveLength(0);
  });

  it('testing: only reports, and delivers despite an unlisted MX with a self-signed certificate', async () => {
    await settled(await submit('rcpt@testing.test', 'sts testing'), 'delivered');
    expect(await arrivedAt(selfSigned, 'rcpt@testing.test', 1)).toHaveLength(1);
    expect(policyRequests.get('testing.test')).toBe(1);
  });

  it('keeps the cached policies across a restart: with the policy host gone they still apply, unfetched', async () => {
    const dataDir = server.config.data_dir;
    await server.server.stop();
    policyHostDown = true;
    const restarted = await startServer(server.config, {
      ephemeralPorts: true,
      logger: createLogger(process.env.MALLARD_TEST_LOG ?? 'silent', process.stderr),
    });
    server = {
      ...server,
      server: restarted,
      async stop() {
        await restarted.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
    // Without the kept policy, mismatch.test would have none now and go to its (unlisted) MX.
    const recipient = await settled(await submit('rcpt@mismatch.test', 'sts after restart'), 'deferred');
    expect(recipient.lastError).toMatch(/^4\.7\.5 MTA-STS policy of mismatch\.test/);
    expect(good.delivered('rcpt@mismatch.test')).toHaveLength(0);
    await settled(await submit('rcpt@enforce.test', 'sts three'), 'delivered');
    expect(await arrivedAt(good, 'rcpt@enforce.test', 3)).toHaveLength(3);
    expect(policyRequests.get('enforce.test')).toBe(1);
    expect(policyRequests.get('mismatch.test')).toBe(1);
  });
});
