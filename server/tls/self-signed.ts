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
import type { PemPair } from './secure-context.ts';
import { randomSerialHex, validity } from './x509.ts';

export type { PemPair };

export function generateSelfSigned(hostname: string, extraNames: string[] = []): PemPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = randomSerialHex();
  const { notBefore, notAfter } = validity(825); // Apple's limit for trusted certs
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
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
