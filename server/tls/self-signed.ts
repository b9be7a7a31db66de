/**
 * The certificate a fresh install serves until the user generates or imports one: self-signed,
 * made with node-forge on first start and kept in the data directory (key owner-only). The key pair
 * comes from node:crypto because forge's pure-JS RSA generation takes seconds.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import forge from 'node-forge';

export interface PemPair {
  cert: string;
  key: string;
}

function serialNumber(): string {
  // Positive (high bit clear) 16-byte serial, as RFC 5280 asks.
  const bytes = crypto.randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

export function generateSelfSigned(hostname: string, extraNames: string[] = []): PemPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 825 * 24 * 3600 * 1000); // Apple's limit for trusted certs
  const subject = [
    { name: 'commonName', value: hostname },
    { name: 'organizationName', value: 'Mallard' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const names = [...new Set([hostname, 'localhost', ...extraNames])];
  const altNames = [
    ...names.map((name) => (net.isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })),
    { type: 7, ip: '127.0.0.1' },
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

/** Reads the data directory's default certificate, making it on first use. */
export function ensureDefaultCertificate(dataDir: string, hostname: string): PemPair {
  const dir = path.join(dataDir, 'tls');
  const certFile = path.join(dir, 'default.crt');
  const keyFile = path.join(dir, 'default.key');
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = generateSelfSigned(hostname);
  fs.writeFileSync(keyFile, pair.key, { mode: 0o600 });
  fs.writeFileSync(certFile, pair.cert, { mode: 0o644 });
  return pair;
}
