/**
 * Debian's pebble (a small ACME CA for tests) on loopback: a generated config, free ports for its
 * directory and management API and for the ports its validator connects to (`httpPort`, `tlsPort`:
 * our challenge listeners bind those), its own HTTPS certificate from a test CA written for
 * `acme.ca_file`, and `-dnsserver` pointing at the test's DNS server. No random validation sleeps,
 * no bad-nonce rejections, no reuse of authorizations (a failing-challenge test must see a
 * challenge). Stopped (SIGTERM) by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { buildCertificate, generateKey, privateKeyPem, validity } from '../../server/tls/x509.ts';
import { freePort } from './ports.ts';

export interface Pebble {
  directoryUrl: string;
  /** PEM of the CA that signed pebble's HTTPS certificate (for acme.ca_file). */
  caFile: string;
  /** The ports pebble's validator connects to. */
  httpPort: number;
  tlsPort: number;
  /** The root that signs issued certificates, from the management API (it changes per run). */
  root(): Promise<string>;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** "127.0.0.1:PORT" of the DNS server the validator asks. */
  dnsServer: string;
  /** Lifetime of issued certificates in seconds (pebble's default is five years). */
  validitySeconds?: number;
}

function testCa(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const caKey = generateKey('ecdsa');
  const ca = buildCertificate({
    subject: [{ name: 'commonName', value: 'Pebble test CA' }],
    publicKey: caKey.publicKey,
    signingKey: caKey.privateKey,
    ...validity(2),
    profile: { kind: 'ca' },
  });
  const key = generateKey('ecdsa');
  const certificate = buildCertificate({
    subject: [{ name: 'commonName', value: 'localhost' }],
    publicKey: key.publicKey,
    signingKey: caKey.privateKey,
    issuer: ca,
    ...validity(2),
    profile: { kind: 'server', names: ['127.0.0.1', 'localhost'] },
  });
  const files = {
    caFile: path.join(dir, 'ca.pem'),
    certFile: path.join(dir, 'pebble.pem'),
    keyFile: path.join(dir, 'pebble.key'),
  };
  fs.writeFileSync(files.caFile, ca.toString());
  fs.writeFileSync(files.certFile, certificate.toString());
  fs.writeFileSync(files.keyFile, privateKeyPem(key.privateKey));
  return files;
}

function waitForListening(child: ChildProcess, output: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pebble did not start:\n${output()}`)), 20_000);
    const onData = () => {
      if (/Listening on/.test(output())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pebble exited (${code}):\n${output()}`));
    });
  });
}

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-pebble-'));
  const tlsFiles = testCa(dir);
  const [listen, management, httpPort, tlsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const configFile = path.join(dir, 'pebble.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: tlsFiles.certFile,
        privateKey: tlsFiles.keyFile,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
      },
    }),
  );
  const child = spawn('pebble', ['-config', configFile, '-dnsserver', options.dnsServer], {
    env: {
      ...process.env,
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitForListening(child, () => output);
  const ca = fs.readFileSync(tlsFiles.caFile, 'utf8');
  return {
    directoryUrl: `https://127.0.0.1:${listen}/dir`,
    caFile: tlsFiles.caFile,
    httpPort,
    tlsPort,
    root: () =>
      new Promise((resolve, reject) => {
        https
          .get(`https://127.0.0.1:${management}/roots/0`, { ca }, (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => (body += chunk.toString()));
            response.on('end', () =>
              response.statusCode === 200
                ? resolve(body)
                : reject(new Error(`pebble roots: ${response.statusCode}`)),
            );
          })
          .on('error', reject);
      }),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
