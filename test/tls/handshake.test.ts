/**
 * Certificates from the store in real TLS handshakes on a running server: a generated CA and server
 * certificate (RSA and ECDSA) and an imported openssl-made chain, verified by Node's tls and by
 * `openssl s_client` against the exported CA, on IMAPS, POP3S and STARTTLS; switching the active
 * certificate applies to the next connection without a restart.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateStore } from '../../server/tls/store.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const NAME = 'mail.example.test';
let server: TestServer;
let store: CertificateStore;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  store = server.server.tls.certificates;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-handshake-'));
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Handshake {
  authorized: boolean;
  error?: string;
  fingerprint: string;
  greeting: string;
}

/** Node's tls with the default checkServerIdentity; reads the protocol greeting. */
function connect(port: number, caPem: string, servername = NAME): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername,
      ca: [caPem],
      rejectUnauthorized: false,
    });
    socket.setEncoding('latin1');
    let greeting = '';
    socket.on('data', (chunk: string) => {
      greeting += chunk;
      if (!greeting.includes('\r\n')) return;
      resolve({
        authorized: socket.authorized,
        error: socket.authorizationError ? String(socket.authorizationError) : undefined,
        fingerprint: socket.getPeerX509Certificate()!.fingerprint256,
        greeting: greeting.split('\r\n')[0]!,
      });
      socket.destroy();
    });
    socket.once('error', reject);
    setTimeout(() => reject(new Error('no greeting')), 5000).unref();
  });
}

/** Verifying as a strict client would: the chain against the CA and the name. */
async function expectVerified(
  port: number,
  caPem: string,
  fingerprint: string,
  greeting: RegExp,
): Promise<void> {
  const result = await connect(port, caPem);
  expect(result.error).toBeUndefined();
  expect(result.authorized).toBe(true);
  expect(result.fingerprint).toBe(fingerprint);
  expect(result.greeting).toMatch(greeting);
}

/** `openssl s_client` (asynchronous: the server runs in this process). */
function sClient(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
    const timer = setTimeout(() => child.kill(), 10_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(output);
    });
    // Give the server time to greet before the end of input closes the session.
    setTimeout(() => child.stdin.end(), 500);
  });
}

async function expectOpensslVerified(port: number, caFile: string, extra: string[] = []): Promise<string> {
  const output = await sClient([
    '-connect',
    `127.0.0.1:${port}`,
    '-CAfile',
    caFile,
    '-servername',
    NAME,
    '-verify_hostname',
    NAME,
    '-verify_return_error',
    ...extra,
  ]);
  expect(output).toContain('Verify return code: 0 (ok)');
  return output;
}

function writeCa(label: string): { pem: string; file: string } {
  const { pem, der } = store.exportAuthority();
  expect(new crypto.X509Certificate(der).toString()).toBe(pem);
  const file = path.join(dir, `${label}.pem`);
  fs.writeFileSync(file, pem);
  return { pem, file };
}

describe('a generated CA and server certificate', () => {
  it('are served on IMAPS and POP3S, verified by Node and openssl (RSA)', async () => {
    expect(server.imapsPort).toBeGreaterThan(0);
    expect(server.pop3sPort).toBeGreaterThan(0);
    store.createAuthority({ keyType: 'rsa', rsaBits: 2048, commonName: 'Handshake RSA CA' });
    const cert = store.issueServerCertificate({
      names: [NAME, '127.0.0.1'],
      keyType: 'rsa',
      rsaBits: 2048,
      activate: true,
    });
    const ca = writeCa('rsa-ca');
    await expectVerified(server.imapsPort, ca.pem, cert.fingerprint, /^\* OK/);
    await expectVerified(server.pop3sPort, ca.pem, cert.fingerprint, /^\+OK/);
    const imaps = await expectOpensslVerified(server.imapsPort, ca.file);
    expect(imaps).toContain('* OK');
    expect(imaps).toMatch(/Server public key is 2048 bit/);
    const pop3s = await expectOpensslVerified(server.pop3sPort, ca.file);
    expect(pop3s).toContain('+OK');
    // STARTTLS (IMAP and POP3) reads the same provider.
    await expectOpensslVerified(server.imapPort, ca.file, ['-starttls', 'imap']);
    await expectOpensslVerified(server.pop3Port, ca.file, ['-starttls', 'pop3']);
    // A client that does not trust the CA refuses; a wrong name is refused too.
    const stranger = await connect(
      server.imapsPort,
      fs.readFileSync(path.join(server.config.data_dir, 'tls', 'default.crt'), 'utf8'),
    );
    expect(stranger.authorized).toBe(false);
    const wrongName = await connect(server.imapsPort, ca.pem, 'other.example.test');
    expect(wrongName.authorized).toBe(false);
    expect(wrongName.error).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('switch to an ECDSA CA and certificate on the next connection, without a restart', async () => {
    const before = writeCa('before');
    const old = store.authority()!;
    store.remove(old.id); // the RSA server certificate it issued stays active meanwhile
    store.createAuthority({ keyType: 'ecdsa', commonName: 'Handshake ECDSA CA' });
    const cert = store.issueServerCertificate({ names: [NAME], keyType: 'ecdsa' });
    const ca = writeCa('ecdsa-ca');
    // Not active yet: the previous certificate is still served.
    expect((await connect(server.imapsPort, before.pem)).authorized).toBe(true);
    store.activate(cert.id);
    await expectVerified(server.imapsPort, ca.pem, cert.fingerprint, /^\* OK/);
    await expectVerified(server.pop3sPort, ca.pem, cert.fingerprint, /^\+OK/);
    const output = await expectOpensslVerified(server.imapsPort, ca.file);
    expect(output).toMatch(/Peer signature type: ECDSA/);
    await expectOpensslVerified(server.pop3sPort, ca.file);
    const stale = await connect(server.imapsPort, before.pem);
    expect(stale.authorized).toBe(false); // the old CA no longer matches what is served
    expect(server.server.tls.status()).toMatchObject({ source: 'store', certificate: { id: cert.id } });
  });
});

describe('an imported certificate chain', () => {
  it('made by openssl (root, intermediate, EC leaf) is served with its intermediate', async () => {
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ext = path.join(dir, 'ext.cnf');
    fs.writeFileSync(
      ext,
      [
        '[ca]',
        'basicConstraints = critical, CA:TRUE, pathlen:0',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '[leaf]',
        'basicConstraints = CA:FALSE',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = serverAuth',
        `subjectAltName = DNS:${NAME}`,
        '',
      ].join('\n'),
    );
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    run([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'root.key',
      '-out',
      'root.pem',
      '-days',
      '30',
      '-subj',
      '/CN=Imported Root',
    ]);
    run(['req', ...ec, '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=Imported Intermediate']);
    run([
      'x509',
      '-req',
      '-in',
      'int.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      ext,
      '-extensions',
      'ca',
      '-out',
      'int.pem',
    ]);
    run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'leaf.key']); // SEC1 "EC PRIVATE KEY"
    run(['req', '-new', '-key', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${NAME}`]);
    run([
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'int.pem',
      '-CAkey',
      'int.key',
      '-CAcreateserial',
      '-days',
      '20',
      '-extfile',
      ext,
      '-extensions',
      'leaf',
      '-out',
      'leaf.pem',
    ]);
    const read = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

    // The wrong key first: refused with a clear error, nothing stored.
    const count = store.list().length;
    expect(() =>
      store.importCertificate({ certPem: read('leaf.pem') + read('int.pem'), keyPem: read('int.key') }),
    ).toThrow('the private key does not match the certificate');
    expect(store.list()).toHaveLength(count);

    const info = store.importCertificate({
      certPem: read('leaf.pem') + read('int.pem'),
      keyPem: read('leaf.key'),
      activate: true,
    });
    expect(info).toMatchObject({
      kind: 'imported',
      names: [NAME],
      chainLength: 2,
      trust: 'unknown',
      active: true,
    });
    // Clients trust only the root: the server must send the intermediate for the chain to verify.
    await expectVerified(server.imapsPort, read('root.pem'), info.fingerprint, /^\* OK/);
    const output = await expectOpensslVerified(server.pop3sPort, path.join(dir, 'root.pem'));
    expect(output).toContain('CN = Imported Intermediate');
  });
});
