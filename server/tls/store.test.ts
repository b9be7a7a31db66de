import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CertificateError,
  CertificateStore,
  nameMatches,
  normalizeName,
  type CertificateChange,
  type CertificateErrorCode,
} from './store.ts';
import {
  buildCertificate,
  generateKey,
  privateKeyPem,
  validity,
  type KeyPair,
  type KeyType,
} from './x509.ts';

const DAY = 24 * 3600 * 1000;
let dataDir: string;
let store: CertificateStore;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-certs-'));
  store = new CertificateStore(dataDir);
});
afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function refused(action: () => unknown, code: CertificateErrorCode, message?: string | RegExp): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a ${code} error`).toBeInstanceOf(CertificateError);
  expect((caught as CertificateError).code).toBe(code);
  if (typeof message === 'string') expect((caught as CertificateError).message).toBe(message);
  else if (message) expect((caught as CertificateError).message).toMatch(message);
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

/** Certificates made outside the store, as another CA would make them. */
interface Made {
  key: KeyPair;
  certificate: crypto.X509Certificate;
}

function makeAuthority(name: string, issuer?: Made, pathLength = 1, keyType: KeyType = 'ecdsa'): Made {
  const key = generateKey(keyType, 2048);
  const certificate = buildCertificate({
    subject: [{ name: 'commonName', value: name }],
    publicKey: key.publicKey,
    signingKey: issuer?.key.privateKey ?? key.privateKey,
    issuer: issuer?.certificate,
    ...validity(60),
    profile: { kind: 'ca', pathLength },
  });
  return { key, certificate };
}

function makeLeaf(
  issuer: Made | null,
  names: string[],
  options: { keyType?: KeyType; notBefore?: Date; notAfter?: Date; key?: KeyPair } = {},
): Made {
  const key = options.key ?? generateKey(options.keyType ?? 'ecdsa', 2048);
  const dates = validity(30);
  const certificate = buildCertificate({
    subject: [{ name: 'commonName', value: names[0]! }],
    publicKey: key.publicKey,
    signingKey: issuer?.key.privateKey ?? key.privateKey,
    issuer: issuer?.certificate,
    notBefore: options.notBefore ?? dates.notBefore,
    notAfter: options.notAfter ?? dates.notAfter,
    profile: { kind: 'server', names },
  });
  return { key, certificate };
}

const pemOf = (...certificates: Made[]) => certificates.map((made) => made.certificate.toString()).join('');
const keyOf = (made: Made) => privateKeyPem(made.key.privateKey);

describe('CertificateStore files', () => {
  it('keeps the directory owner-only and keys at 0600, with no key in the index', () => {
    fs.chmodSync(path.join(dataDir, 'tls'), 0o755);
    store = new CertificateStore(dataDir);
    expect(mode(path.join(dataDir, 'tls'))).toBe(0o700);
    const ca = store.createAuthority({ rsaBits: 2048 });
    const server = store.issueServerCertificate({ names: ['mail.example.test'], keyType: 'ecdsa' });
    const made = makeLeaf(null, ['imported.example.test']);
    const imported = store.importCertificate({ certPem: pemOf(made), keyPem: keyOf(made) });
    for (const info of [ca, server, imported]) {
      expect(mode(path.join(dataDir, 'tls', `${info.id}.key`))).toBe(0o600);
      expect(fs.readFileSync(path.join(dataDir, 'tls', `${info.id}.key`), 'utf8')).toContain('PRIVATE KEY');
      expect(mode(path.join(dataDir, 'tls', `${info.id}.crt`))).toBe(0o644);
    }
    expect(fs.readFileSync(path.join(dataDir, 'tls', 'index.json'), 'utf8')).not.toContain('PRIVATE');
    const selfSigned = store.ensureSelfSigned('host.example.test');
    expect(mode(path.join(dataDir, 'tls', 'default.key'))).toBe(0o600);
    expect(store.get(selfSigned).kind).toBe('self-signed');
  });

  it('persists the list and the active certificate', () => {
    store.createAuthority({ rsaBits: 2048 });
    const server = store.issueServerCertificate({
      names: ['mail.example.test'],
      rsaBits: 2048,
      activate: true,
    });
    const reopened = new CertificateStore(dataDir);
    expect(reopened.list()).toEqual(store.list());
    expect(reopened.active()?.id).toBe(server.id);
  });

  it('reports an unreadable index clearly', () => {
    fs.writeFileSync(path.join(dataDir, 'tls', 'index.json'), '{ not json');
    expect(() => new CertificateStore(dataDir)).toThrow(/certificate index .* cannot be read/);
  });
});

describe('createAuthority', () => {
  it('creates a local CA and refuses a second one', () => {
    const ca = store.createAuthority({
      commonName: 'Home CA',
      keyType: 'rsa',
      rsaBits: 2048,
      validityDays: 3650,
    });
    expect(ca).toMatchObject({
      kind: 'ca',
      names: [],
      subject: 'CN=Home CA, O=Mallard',
      issuer: 'CN=Home CA, O=Mallard',
      keyType: 'rsa',
      keyBits: 2048,
      trust: 'self-signed',
      active: false,
      expired: false,
    });
    expect(ca.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(ca.id).toBe(ca.fingerprint.replaceAll(':', '').slice(0, 16).toLowerCase());
    const days = (Date.parse(ca.notAfter) - Date.parse(ca.notBefore)) / DAY;
    expect(days).toBe(3650);
    expect(store.authority()?.id).toBe(ca.id);
    refused(() => store.createAuthority({ keyType: 'ecdsa' }), 'authority_exists', /exists already/);
  });

  it('names each CA distinctly by default and supports ECDSA', () => {
    const ca = store.createAuthority({ keyType: 'ecdsa' });
    expect(ca.subject).toMatch(/^CN=Mallard Local CA [0-9a-f]{6}, O=Mallard$/);
    expect(ca).toMatchObject({ keyType: 'ecdsa', keyBits: 256 });
  });

  it('checks its options', () => {
    refused(() => store.createAuthority({ keyType: 'dsa' as KeyType }), 'invalid_option', /rsa" or "ecdsa/);
    refused(() => store.createAuthority({ rsaBits: 1024 as 2048 }), 'invalid_option', /2048, 3072 or 4096/);
    refused(() => store.createAuthority({ validityDays: 0 }), 'invalid_option', /1 to 10950/);
    refused(() => store.createAuthority({ validityDays: 1.5 }), 'invalid_option');
    refused(() => store.createAuthority({ commonName: 'x'.repeat(65) }), 'invalid_option', /1 to 64/);
    expect(store.list()).toEqual([]);
  });
});

describe('exportAuthority', () => {
  it('exports the CA certificate in PEM and DER, never its key', () => {
    refused(() => store.exportAuthority(), 'no_authority', /no local certificate authority/);
    const ca = store.createAuthority({ keyType: 'ecdsa' });
    const exported = store.exportAuthority();
    expect(exported.id).toBe(ca.id);
    expect(exported.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(exported.pem).not.toContain('PRIVATE');
    expect(new crypto.X509Certificate(exported.der).fingerprint256).toBe(ca.fingerprint);
    expect(new crypto.X509Certificate(exported.pem).raw.equals(exported.der)).toBe(true);
    expect(exported.fingerprint).toBe(ca.fingerprint);
  });
});

describe('issueServerCertificate', () => {
  it('issues a certificate for host names and IP addresses, signed by the CA', () => {
    const ca = store.createAuthority({ rsaBits: 2048 });
    const server = store.issueServerCertificate({
      names: ['Mail.Example.Test.', 'mail.local', '192.168.1.10', '[fe80:0:0:0:0:0:0:1]', 'mail.local'],
      rsaBits: 2048,
      validityDays: 397,
    });
    expect(server).toMatchObject({
      kind: 'server',
      names: ['mail.example.test', 'mail.local', '192.168.1.10', 'fe80::1'],
      subject: 'CN=mail.example.test, O=Mallard',
      issuer: ca.subject,
      keyType: 'rsa',
      trust: 'local-ca',
      active: false,
    });
    expect((Date.parse(server.notAfter) - Date.parse(server.notBefore)) / DAY).toBe(397);
    const certificate = new crypto.X509Certificate(
      fs.readFileSync(path.join(dataDir, 'tls', `${server.id}.crt`)),
    );
    expect(certificate.verify(new crypto.X509Certificate(store.exportAuthority().pem).publicKey)).toBe(true);
    expect(certificate.checkIP('192.168.1.10')).toBe('192.168.1.10');
    expect(certificate.checkHost('mail.local')).toBe('mail.local');
  });

  it('creates a CA of the same key type when there is none', () => {
    const server = store.issueServerCertificate({ names: ['mail.example.test'], keyType: 'ecdsa' });
    expect(store.authority()).toMatchObject({ keyType: 'ecdsa', kind: 'ca' });
    expect(server.issuer).toBe(store.authority()!.subject);
    expect((Date.parse(server.notAfter) - Date.parse(server.notBefore)) / DAY).toBe(825);
  });

  it('never outlives its CA', () => {
    const ca = store.createAuthority({ keyType: 'ecdsa', validityDays: 10 });
    const server = store.issueServerCertificate({ names: ['mail.example.test'], keyType: 'ecdsa' });
    expect(server.notAfter).toBe(ca.notAfter);
  });

  it('activates at once when asked', () => {
    const changes: CertificateChange[] = [];
    store.onChange((change) => changes.push(change));
    const server = store.issueServerCertificate({
      names: ['a.example.test'],
      keyType: 'ecdsa',
      activate: true,
    });
    expect(server.active).toBe(true);
    expect(changes.map((change) => change.type)).toEqual(['created', 'created', 'activated']);
  });

  it('checks names and validity', () => {
    store.createAuthority({ keyType: 'ecdsa' });
    refused(() => store.issueServerCertificate({ names: [] }), 'invalid_name', /at least one/);
    refused(
      () => store.issueServerCertificate({ names: ['bad name'] }),
      'invalid_name',
      /"bad name" is not a valid/,
    );
    refused(() => store.issueServerCertificate({ names: ['-x.example'] }), 'invalid_name');
    refused(() => store.issueServerCertificate({ names: ['*.org'] }), 'invalid_name', /wildcard/);
    refused(() => store.issueServerCertificate({ names: ['a.*.org'] }), 'invalid_name');
    refused(
      () => store.issueServerCertificate({ names: ['a.example'], validityDays: 826 }),
      'invalid_option',
      /825/,
    );
    refused(
      () => store.issueServerCertificate({ names: Array.from({ length: 101 }, (_, i) => `h${i}.example`) }),
      'invalid_name',
      /at most 100/,
    );
    expect(store.list().map((info) => info.kind)).toEqual(['ca']);
  });
});

describe('importCertificate', () => {
  it('imports a chain with intermediates and a root', () => {
    const root = makeAuthority('Example Root');
    const intermediate = makeAuthority('Example Intermediate', root, 0);
    const leaf = makeLeaf(intermediate, ['mail.example.net', 'imap.example.net'], { keyType: 'rsa' });
    const info = store.importCertificate({ certPem: pemOf(leaf, intermediate, root), keyPem: keyOf(leaf) });
    expect(info).toMatchObject({
      kind: 'imported',
      names: ['mail.example.net', 'imap.example.net'],
      issuer: 'CN=Example Intermediate',
      chainLength: 3,
      trust: 'included-root',
      keyType: 'rsa',
      expired: false,
    });
    expect(info.notAfter).toBe(new Date(leaf.certificate.validTo).toISOString());
    const stored = fs.readFileSync(path.join(dataDir, 'tls', `${info.id}.crt`), 'utf8');
    expect(stored).toBe(pemOf(leaf, intermediate, root));
  });

  it('accepts a chain that stops below its root, and says so', () => {
    const root = makeAuthority('Unseen Root');
    const intermediate = makeAuthority('Some Intermediate', root, 0);
    const leaf = makeLeaf(intermediate, ['mail.example.net']);
    const info = store.importCertificate({ certPem: pemOf(leaf, intermediate), keyPem: keyOf(leaf) });
    expect(info).toMatchObject({ chainLength: 2, trust: 'unknown' });
  });

  it('recognises certificates of the local CA and self-signed ones, and takes PKCS#1 and SEC1 keys', () => {
    store.createAuthority({ keyType: 'ecdsa' });
    const exported = store.exportAuthority();
    expect(exported.id).toBeTruthy();
    const selfSigned = makeLeaf(null, ['self.example.test'], { keyType: 'rsa' });
    const pkcs1 = selfSigned.key.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(store.importCertificate({ certPem: pemOf(selfSigned), keyPem: pkcs1 }).trust).toBe('self-signed');
    const ecLeaf = makeLeaf(null, ['ec.example.test']);
    const sec1 = ecLeaf.key.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    expect(store.importCertificate({ certPem: pemOf(ecLeaf), keyPem: sec1 }).keyType).toBe('ecdsa');
  });

  it('refuses a private key that does not match', () => {
    const leaf = makeLeaf(null, ['mail.example.net']);
    const other = generateKey('ecdsa');
    refused(
      () => store.importCertificate({ certPem: pemOf(leaf), keyPem: privateKeyPem(other.privateKey) }),
      'key_mismatch',
      'the private key does not match the certificate',
    );
    const rsa = generateKey('rsa', 2048);
    refused(
      () => store.importCertificate({ certPem: pemOf(leaf), keyPem: privateKeyPem(rsa.privateKey) }),
      'key_mismatch',
      'the private key does not match the certificate',
    );
    expect(store.list()).toEqual([]);
  });

  it('refuses an expired certificate and one not valid yet', () => {
    const expired = makeLeaf(null, ['old.example.net'], {
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.UTC(2025, 0, 15)),
    });
    refused(
      () => store.importCertificate({ certPem: pemOf(expired), keyPem: keyOf(expired) }),
      'expired',
      'the certificate expired on 2025-01-15',
    );
    const future = makeLeaf(null, ['new.example.net'], {
      notBefore: new Date(Date.now() + 2 * DAY),
      notAfter: new Date(Date.now() + 20 * DAY),
    });
    refused(
      () => store.importCertificate({ certPem: pemOf(future), keyPem: keyOf(future) }),
      'not_yet_valid',
      /not valid before/,
    );
  });

  it('refuses a chain that does not verify', () => {
    const root = makeAuthority('Root A');
    const intermediate = makeAuthority('Intermediate A', root, 0);
    const stranger = makeAuthority('Intermediate B', root, 0);
    const leaf = makeLeaf(intermediate, ['mail.example.net']);
    refused(
      () => store.importCertificate({ certPem: pemOf(leaf, stranger, root), keyPem: keyOf(leaf) }),
      'chain_invalid',
      'the chain does not verify: certificate 1 (CN=mail.example.net) is not signed by certificate 2 (CN=Intermediate B)',
    );
    // The same issuer name with another key: the names match, the signature does not.
    const impostor = makeAuthority('Intermediate A', root, 0);
    refused(
      () => store.importCertificate({ certPem: pemOf(leaf, impostor), keyPem: keyOf(leaf) }),
      'chain_invalid',
      /is not signed by certificate 2 \(CN=Intermediate A\)/,
    );
    // Out of order: the root before the intermediate.
    refused(
      () => store.importCertificate({ certPem: pemOf(leaf, root, intermediate), keyPem: keyOf(leaf) }),
      'chain_invalid',
    );
    // A leaf naming the store's own CA as issuer, signed by another key.
    store.createAuthority({ commonName: 'Local', keyType: 'ecdsa' });
    const fakeLocal = makeAuthority('Local');
    const local = new crypto.X509Certificate(store.exportAuthority().pem);
    const clash = { key: fakeLocal.key, certificate: local }; // the local CA's name, a stranger's key
    const forged = makeLeaf(clash, ['forged.example.net']);
    refused(
      () => store.importCertificate({ certPem: pemOf(forged), keyPem: keyOf(forged) }),
      'chain_invalid',
      /names CN=Local, O=Mallard as its issuer, but that authority’s key did not sign it/,
    );
    expect(store.list().map((info) => info.kind)).toEqual(['ca']);
  });

  it('refuses garbage, encrypted and weak keys, CA certificates and duplicates', () => {
    const leaf = makeLeaf(null, ['mail.example.net']);
    refused(
      () => store.importCertificate({ certPem: 'hello', keyPem: keyOf(leaf) }),
      'invalid_pem',
      'no certificate found: expected PEM text starting with -----BEGIN CERTIFICATE-----',
    );
    refused(
      () =>
        store.importCertificate({
          certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
          keyPem: keyOf(leaf),
        }),
      'invalid_pem',
      'certificate 1 of the PEM text cannot be read',
    );
    refused(
      () => store.importCertificate({ certPem: pemOf(leaf), keyPem: 'nope' }),
      'invalid_key',
      /no private key/,
    );
    refused(
      () =>
        store.importCertificate({
          certPem: pemOf(leaf),
          keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
        }),
      'invalid_key',
      'the private key cannot be read',
    );
    const encrypted = leaf.key.privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' })
      .toString();
    refused(
      () => store.importCertificate({ certPem: pemOf(leaf), keyPem: encrypted }),
      'invalid_key',
      /encrypted/,
    );
    const weakKey = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak = makeLeaf(null, ['weak.example.net'], { key: weakKey });
    refused(
      () => store.importCertificate({ certPem: pemOf(weak), keyPem: keyOf(weak) }),
      'weak_key',
      /1024 bits/,
    );
    const ca = makeAuthority('Some CA');
    refused(
      () => store.importCertificate({ certPem: pemOf(ca), keyPem: keyOf(ca) }),
      'not_server_certificate',
      /certificate authority, not a server certificate/,
    );
    store.importCertificate({ certPem: pemOf(leaf), keyPem: keyOf(leaf) });
    refused(() => store.importCertificate({ certPem: pemOf(leaf), keyPem: keyOf(leaf) }), 'duplicate');
    expect(store.list()).toHaveLength(1);
  });
});

describe('list, activate, deactivate, remove', () => {
  it('lists what is active and never a private key', () => {
    const selfSigned = store.ensureSelfSigned('host.example.test');
    expect(store.ensureSelfSigned('host.example.test')).toBe(selfSigned);
    expect(store.get(selfSigned)).toMatchObject({ kind: 'self-signed', active: true, trust: 'self-signed' });
    const server = store.issueServerCertificate({ names: ['mail.example.test'], keyType: 'ecdsa' });
    const text = JSON.stringify(store.list());
    expect(text).not.toMatch(/PRIVATE|\.key/);
    expect(store.list()).toHaveLength(3);
    expect(store.active()).toBeNull();

    store.activate(server.id);
    expect(
      store
        .list()
        .filter((info) => info.active)
        .map((info) => info.id),
    ).toEqual([server.id]);
    expect(store.active()?.id).toBe(server.id);

    store.deactivate();
    expect(store.active()).toBeNull();
    expect(store.get(selfSigned).active).toBe(true);
  });

  it('marks nothing active by default when the configuration names a certificate', () => {
    const configured = new CertificateStore(dataDir, { configuredDefault: true });
    configured.ensureSelfSigned('host.example.test');
    expect(configured.list().some((info) => info.active)).toBe(false);
  });

  it('activates only server certificates that have not expired', () => {
    const ca = store.createAuthority({ keyType: 'ecdsa' });
    refused(() => store.activate(ca.id), 'not_server_certificate', /certificate authority is not served/);
    refused(() => store.activate('0000000000000000'), 'not_found', 'no certificate "0000000000000000"');
    refused(() => store.get('nope'), 'not_found');
  });

  it('removes certificates and their files, but not the active one or the fallback', () => {
    const selfSigned = store.ensureSelfSigned('host.example.test');
    const first = store.issueServerCertificate({
      names: ['a.example.test'],
      keyType: 'ecdsa',
      activate: true,
    });
    const second = store.issueServerCertificate({ names: ['b.example.test'], keyType: 'ecdsa' });
    const changes: CertificateChange[] = [];
    store.onChange((change) => changes.push(change));
    refused(() => store.remove(first.id), 'active', /activate another one/);
    refused(() => store.remove(selfSigned), 'fallback');
    store.remove(second.id);
    expect(changes).toEqual([{ type: 'removed', id: second.id }]);
    expect(fs.existsSync(path.join(dataDir, 'tls', `${second.id}.key`))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'tls', `${second.id}.crt`))).toBe(false);
    refused(() => store.remove(second.id), 'not_found');
    const ca = store.authority()!;
    store.remove(ca.id); // certificates it issued stay usable
    expect(store.authority()).toBeNull();
    expect(store.get(first.id).active).toBe(true);
  });
});

describe('names', () => {
  it('normalizes host names and addresses', () => {
    expect(normalizeName(' Mail.Example.ORG. ')).toBe('mail.example.org');
    expect(normalizeName('*.Example.org')).toBe('*.example.org');
    expect(normalizeName('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(normalizeName('[::1]')).toBe('::1');
    expect(normalizeName('10.1.2.3')).toBe('10.1.2.3');
    expect(() => normalizeName('a..b')).toThrow(CertificateError);
    expect(() => normalizeName('x'.repeat(64) + '.org')).toThrow(CertificateError);
  });

  it('matches wildcards on one label only', () => {
    expect(nameMatches('*.example.org', 'mail.example.org')).toBe(true);
    expect(nameMatches('*.example.org', 'example.org')).toBe(false);
    expect(nameMatches('*.example.org', 'a.b.example.org')).toBe(false);
    expect(nameMatches('mail.example.org', 'mail.example.org')).toBe(true);
    expect(nameMatches('mail.example.org', 'imap.example.org')).toBe(false);
  });
});
