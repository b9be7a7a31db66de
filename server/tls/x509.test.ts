import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildCertificate,
  generateKey,
  keyIdentifier,
  namesOf,
  pemBlocks,
  randomSerialHex,
  validity,
  type KeyType,
} from './x509.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-x509-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeCa(keyType: KeyType) {
  const key = generateKey(keyType, 2048);
  const certificate = buildCertificate({
    subject: [
      { name: 'commonName', value: `Test CA ${keyType}` },
      { name: 'organizationName', value: 'Mallard' },
    ],
    publicKey: key.publicKey,
    signingKey: key.privateKey,
    ...validity(30),
    profile: { kind: 'ca', pathLength: 0 },
  });
  return { key, certificate };
}

function makeServer(ca: ReturnType<typeof makeCa>, keyType: KeyType, names: string[]) {
  const key = generateKey(keyType, 2048);
  const certificate = buildCertificate({
    subject: [{ name: 'commonName', value: names[0]! }],
    publicKey: key.publicKey,
    signingKey: ca.key.privateKey,
    issuer: ca.certificate,
    ...validity(10),
    profile: { kind: 'server', names },
  });
  return { key, certificate };
}

describe('buildCertificate', () => {
  const combinations: Array<[KeyType, KeyType]> = [
    ['rsa', 'rsa'],
    ['rsa', 'ecdsa'],
    ['ecdsa', 'ecdsa'],
    ['ecdsa', 'rsa'],
  ];
  for (const [caType, serverType] of combinations) {
    it(`signs a ${serverType} server certificate with a ${caType} CA that openssl verifies`, () => {
      const ca = makeCa(caType);
      const server = makeServer(ca, serverType, ['mail.example.test', '192.168.1.20']);
      expect(ca.certificate.ca).toBe(true);
      expect(ca.certificate.verify(ca.certificate.publicKey)).toBe(true);
      expect(server.certificate.verify(ca.certificate.publicKey)).toBe(true);
      expect(server.certificate.checkIssued(ca.certificate)).toBe(true);
      expect(server.certificate.checkPrivateKey(server.key.privateKey)).toBe(true);
      const caFile = path.join(dir, `ca-${caType}-${serverType}.pem`);
      const serverFile = path.join(dir, `server-${caType}-${serverType}.pem`);
      fs.writeFileSync(caFile, ca.certificate.toString());
      fs.writeFileSync(serverFile, server.certificate.toString());
      const out = openssl([
        'verify',
        '-x509_strict',
        '-purpose',
        'sslserver',
        '-verify_hostname',
        'mail.example.test',
        '-CAfile',
        caFile,
        serverFile,
      ]);
      expect(out.trim()).toBe(`${serverFile}: OK`);
      const text = openssl(['x509', '-in', serverFile, '-noout', '-text']);
      expect(text).toContain(
        `Signature Algorithm: ${caType === 'rsa' ? 'sha256WithRSAEncryption' : 'ecdsa-with-SHA256'}`,
      );
      expect(text).toContain(serverType === 'rsa' ? 'rsaEncryption' : 'NIST CURVE: P-256');
    });
  }

  it('writes the CA and server extensions', () => {
    const ca = makeCa('rsa');
    const server = makeServer(ca, 'rsa', ['mail.example.test', '*.example.org', '10.0.0.1', '::1']);
    const caFile = path.join(dir, 'ext-ca.pem');
    const serverFile = path.join(dir, 'ext-server.pem');
    fs.writeFileSync(caFile, ca.certificate.toString());
    fs.writeFileSync(serverFile, server.certificate.toString());
    const caText = openssl(['x509', '-in', caFile, '-noout', '-text']);
    expect(caText).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(caText).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    const serverText = openssl(['x509', '-in', serverFile, '-noout', '-text']);
    expect(serverText).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(serverText).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(serverText).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication/);
    expect(serverText).toContain(
      'DNS:mail.example.test, DNS:*.example.org, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    const hex = (buffer: Buffer) => [...buffer].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
    const caId = hex(keyIdentifier(ca.certificate.publicKey)).toUpperCase();
    expect(caText).toMatch(new RegExp(`Subject Key Identifier:\\s+${caId}`));
    expect(serverText).toMatch(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${caId}`));
    expect(serverText).toMatch(
      new RegExp(`Subject Key Identifier:\\s+${hex(keyIdentifier(server.key.publicKey)).toUpperCase()}`),
    );
    // The issuer name is the CA's subject, byte for byte.
    expect(server.certificate.issuer).toBe(ca.certificate.subject);
    expect(namesOf(server.certificate)).toEqual(['mail.example.test', '*.example.org', '10.0.0.1', '::1']);
  });

  it('leaves out keyEncipherment for an ECDSA key', () => {
    const server = makeServer(makeCa('ecdsa'), 'ecdsa', ['a.example.test']);
    const file = path.join(dir, 'ec-ku.pem');
    fs.writeFileSync(file, server.certificate.toString());
    expect(openssl(['x509', '-in', file, '-noout', '-text'])).toMatch(
      /Key Usage: critical\s+Digital Signature\n/,
    );
  });

  it('sets a validity that starts a little in the past and lasts exactly the days asked for', () => {
    const { notBefore, notAfter } = validity(825, Date.UTC(2030, 0, 1));
    expect(notBefore.getTime()).toBe(Date.UTC(2030, 0, 1) - 5 * 60 * 1000);
    expect(notAfter.getTime() - notBefore.getTime()).toBe(825 * 24 * 3600 * 1000);
  });
});

describe('helpers', () => {
  it('makes positive, minimally encoded serial numbers', () => {
    for (let index = 0; index < 200; index++) {
      const first = parseInt(randomSerialHex().slice(0, 2), 16);
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(0x80);
    }
  });

  it('splits PEM text into blocks', () => {
    const key = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const blocks = pemBlocks(`junk\n${pem}more junk\n${pem}`);
    expect(blocks.map((block) => block.label)).toEqual(['PRIVATE KEY', 'PRIVATE KEY']);
    expect(crypto.createPrivateKey(blocks[1]!.pem).asymmetricKeyType).toBe('ec');
    expect(pemBlocks('no pem here')).toEqual([]);
  });

  it('reads the subject CN when there is no subjectAltName', () => {
    const file = path.join(dir, 'cn-only');
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${file}.key`,
      '-out',
      `${file}.pem`,
      '-days',
      '2',
      '-subj',
      '/CN=Legacy.Example.Test',
    ]);
    expect(namesOf(new crypto.X509Certificate(fs.readFileSync(`${file}.pem`)))).toEqual([
      'legacy.example.test',
    ]);
  });
});
