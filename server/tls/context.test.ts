import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { createTlsProvider, type TlsProvider } from './context.ts';
import { generateSelfSigned } from './self-signed.ts';
import type { CertificateInfo } from './store.ts';

let dataDir: string;

function configFor(env: NodeJS.ProcessEnv = {}) {
  return loadConfig({ env: { MALLARD_DATA_DIR: dataDir, MALLARD_HOSTNAME: 'host.example.test', ...env } });
}

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-tlsctx-'));
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

/**
 * A TLS server that takes its contexts from a provider the way the listeners do, plus SNI:
 * `new tls.TLSSocket(socket, { secureContext: provider.current(), SNICallback: provider.sniCallback })`.
 */
async function serve(provider: TlsProvider) {
  const server = net.createServer((socket) => {
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: provider.current(),
      SNICallback: provider.sniCallback,
    });
    secure.on('error', () => secure.destroy());
    secure.on('secure', () => secure.end('hello\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    /** The SHA-256 fingerprint of the certificate the server presents for `servername`. */
    async fingerprint(servername?: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const socket = tls.connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false }, () => {
          resolve(socket.getPeerX509Certificate()!.fingerprint256);
          socket.destroy();
        });
        socket.once('error', reject);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('createTlsProvider', () => {
  it('serves the self-signed certificate until another is activated', async () => {
    const provider = createTlsProvider(configFor());
    const server = await serve(provider);
    try {
      const status = provider.status();
      expect(status.source).toBe('self-signed');
      expect(status.certificate?.kind).toBe('self-signed');
      const selfSigned = new crypto.X509Certificate(
        fs.readFileSync(path.join(dataDir, 'tls', 'default.crt')),
      );
      expect(await server.fingerprint()).toBe(selfSigned.fingerprint256);

      const issued = provider.certificates.issueServerCertificate({
        names: ['mail.example.test'],
        keyType: 'ecdsa',
      });
      expect(await server.fingerprint()).toBe(selfSigned.fingerprint256); // not active yet
      provider.certificates.activate(issued.id);
      expect(provider.status()).toMatchObject({ source: 'store', certificate: { id: issued.id } });
      expect(await server.fingerprint()).toBe(issued.fingerprint);
      expect(await server.fingerprint('unknown.example.test')).toBe(issued.fingerprint);

      provider.certificates.deactivate();
      expect(await server.fingerprint()).toBe(selfSigned.fingerprint256);
    } finally {
      await server.close();
    }
  });

  it('serves a certificate another process activated, from its next connection after the disk check', async () => {
    // Two providers on one data directory: two server processes (workers), each its own store.
    const serving = createTlsProvider(configFor(), { diskCheckMs: 0 });
    const other = createTlsProvider(configFor());
    const server = await serve(serving);
    try {
      const before = await server.fingerprint();
      const issued = other.certificates.issueServerCertificate({
        names: ['mail.example.test'],
        keyType: 'ecdsa',
        activate: true,
      });
      expect(issued.fingerprint).not.toBe(before);
      expect(await server.fingerprint()).toBe(issued.fingerprint);
      expect(serving.status()).toMatchObject({ source: 'store', certificate: { id: issued.id } });
      other.certificates.deactivate();
      expect(await server.fingerprint()).toBe(before);
    } finally {
      await server.close();
    }
  });

  it('keeps serving the activated certificate after a restart', () => {
    const first = createTlsProvider(configFor());
    const issued = first.certificates.issueServerCertificate({
      names: ['mail.example.test'],
      keyType: 'ecdsa',
      activate: true,
    });
    const second = createTlsProvider(configFor());
    expect(second.status()).toMatchObject({ source: 'store', certificate: { id: issued.id } });
  });

  it('falls back to the configured certificate, and an activated one wins over it', async () => {
    const pair = generateSelfSigned('configured.example.test');
    fs.writeFileSync(path.join(dataDir, 'configured.crt'), pair.cert);
    fs.writeFileSync(path.join(dataDir, 'configured.key'), pair.key);
    const provider = createTlsProvider(
      configFor({
        MALLARD_TLS_CERT_FILE: path.join(dataDir, 'configured.crt'),
        MALLARD_TLS_KEY_FILE: path.join(dataDir, 'configured.key'),
      }),
    );
    const server = await serve(provider);
    try {
      expect(provider.status()).toMatchObject({ source: 'configured', certificate: null });
      expect(fs.existsSync(path.join(dataDir, 'tls', 'default.crt'))).toBe(false);
      expect(await server.fingerprint()).toBe(new crypto.X509Certificate(pair.cert).fingerprint256);
      const issued = provider.certificates.issueServerCertificate({
        names: ['mail.example.test'],
        keyType: 'ecdsa',
        activate: true,
      });
      expect(await server.fingerprint()).toBe(issued.fingerprint);
    } finally {
      await server.close();
    }
  });

  it('replace() applies until the next activation', async () => {
    const provider = createTlsProvider(configFor());
    const server = await serve(provider);
    try {
      const pair = generateSelfSigned('renewed.example.test');
      provider.replace(pair);
      expect(provider.status().source).toBe('replaced');
      expect(await server.fingerprint('anything.example.test')).toBe(
        new crypto.X509Certificate(pair.cert).fingerprint256,
      );
      const issued = provider.certificates.issueServerCertificate({
        names: ['mail.example.test'],
        keyType: 'ecdsa',
        activate: true,
      });
      expect(await server.fingerprint()).toBe(issued.fingerprint);
    } finally {
      await server.close();
    }
  });
});

describe('SNI', () => {
  let provider: TlsProvider;
  let server: Awaited<ReturnType<typeof serve>>;
  let main: CertificateInfo;
  let exact: CertificateInfo;
  let wildcard: CertificateInfo;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-tlssni-'));
    provider = createTlsProvider(configFor());
    const store = provider.certificates;
    main = store.issueServerCertificate({ names: ['mail.example.test', '10.0.0.1'], keyType: 'ecdsa' });
    exact = store.issueServerCertificate({ names: ['imap.example.org'], keyType: 'ecdsa' });
    wildcard = store.issueServerCertificate({ names: ['*.example.org', 'example.org'], keyType: 'ecdsa' });
    store.activate(main.id);
    server = await serve(provider);
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('picks the certificate that covers the name, the active one by default', async () => {
    expect(await server.fingerprint('mail.example.test')).toBe(main.fingerprint);
    expect(await server.fingerprint()).toBe(main.fingerprint);
    expect(await server.fingerprint('other.example.test')).toBe(main.fingerprint);
    expect(await server.fingerprint('IMAP.Example.ORG')).toBe(exact.fingerprint); // exact beats wildcard
    expect(await server.fingerprint('pop.example.org')).toBe(wildcard.fingerprint);
    expect(await server.fingerprint('example.org')).toBe(wildcard.fingerprint);
    expect(await server.fingerprint('a.b.example.org')).toBe(main.fingerprint); // one label only
    expect(provider.status().sni.sort()).toEqual([exact.id, wildcard.id].sort());
  });

  it('prefers the active certificate when it covers the name too', async () => {
    provider.certificates.activate(wildcard.id);
    try {
      expect(await server.fingerprint('imap.example.org')).toBe(wildcard.fingerprint);
      expect(await server.fingerprint('mail.example.test')).toBe(main.fingerprint);
    } finally {
      provider.certificates.activate(main.id);
    }
  });

  it('forgets a removed certificate', async () => {
    const extra = provider.certificates.issueServerCertificate({
      names: ['gone.example.test'],
      keyType: 'ecdsa',
    });
    expect(await server.fingerprint('gone.example.test')).toBe(extra.fingerprint);
    provider.certificates.remove(extra.id);
    expect(await server.fingerprint('gone.example.test')).toBe(main.fingerprint);
  });

  it('answers contextFor directly', () => {
    expect(provider.contextFor(undefined)).toBe(provider.current());
    expect(provider.contextFor('mail.example.test')).toBe(provider.current());
    expect(provider.contextFor('pop.example.org')).not.toBe(provider.current());
  });
});
