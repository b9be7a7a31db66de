/**
 * The certificate store: a local certificate authority, server certificates it issues, imported
 * certificate chains, and the first-start self-signed certificate, kept in `<data_dir>/tls/`.
 *
 * API (what the admin API and the CLI call; every method is synchronous and throws
 * `CertificateError` with a stable `code` and a message fit to show a user):
 *
 *   const store = new CertificateStore(dataDir)      // or `server.tls.certificates` in a running server
 *   store.list(): CertificateInfo[]                  // newest first; never private keys
 *   store.get(id): CertificateInfo                   // not_found
 *   store.createAuthority({ commonName?, keyType?, rsaBits?, validityDays? }): CertificateInfo
 *                                                    // authority_exists, invalid_option
 *   store.issueServerCertificate({ names, keyType?, rsaBits?, validityDays?, activate? }): CertificateInfo
 *                                                    // signed by the local CA, which is created first
 *                                                    // (same key type, 10 years) when there is none;
 *                                                    // invalid_name, invalid_option
 *   store.importCertificate({ certPem, keyPem, activate? }): CertificateInfo
 *                                                    // invalid_pem, invalid_key, weak_key, key_mismatch,
 *                                                    // chain_invalid, expired, not_yet_valid,
 *                                                    // not_server_certificate, duplicate
 *   store.activate(id): CertificateInfo              // served to new connections at once
 *                                                    // not_found, not_server_certificate, expired
 *   store.deactivate(): void                         // back to the configured or self-signed default
 *   store.remove(id): void                           // not_found, active, fallback
 *   store.exportAuthority(): AuthorityExport         // { id, pem, der, fingerprint }; no_authority
 *   store.authority(), store.active(): CertificateInfo | null
 *   store.onChange(listener): () => void             // 'created' | 'activated' | 'deactivated' | 'removed'
 *                                                    // (for the event stream; a throwing listener is ignored)
 * For the TLS provider only: ensureSelfSigned(hostname), secureContext(id).
 *
 * Which certificate is served: the activated one; with none activated, the configured
 * `tls.cert_file`/`tls.key_file`, else the self-signed one. When several server certificates exist,
 * a client's SNI name picks the one that covers it (see `TlsProvider.contextFor` in context.ts).
 *
 * Files: `<id>.crt` (the chain, leaf first) and `<id>.key` (PKCS#8, mode 0600) for every entry,
 * `default.crt`/`default.key` for the self-signed one, and `index.json` (no secrets): the directory
 * is 0700. An id is the first 16 hex digits of the certificate's SHA-256 fingerprint, so importing
 * the same certificate twice is noticed. Private keys leave this module only inside a
 * `tls.SecureContext` (`secureContext(id)`, for the TLS provider).
 *
 * Keys: node:crypto generates them (RSA 2048/3072/4096, ECDSA P-256); certificates are laid out by
 * node-forge and signed by node:crypto (x509.ts), so an ECDSA CA works as well as an RSA one.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { secureContextOf, type PemPair } from './secure-context.ts';
import { ensureDefaultCertificate } from './self-signed.ts';
import {
  allowsServerAuth,
  BACKDATE_MS,
  buildCertificate,
  generateKey,
  isSelfIssued,
  isSelfSigned,
  keyTypeOf,
  nameAttribute,
  namesOf,
  oneLineName,
  pemBlocks,
  privateKeyPem,
  validity,
  type KeyType,
  type NameAttributes,
  type RsaBits,
} from './x509.ts';

export type { KeyType, RsaBits };

export type CertificateKind = 'ca' | 'server' | 'imported' | 'self-signed';

/**
 * How far a certificate's chain reaches: to the local CA, to a root this machine trusts (public),
 * to a root included in the imported chain, to itself, or to an issuer not known here.
 */
export type ChainTrust = 'local-ca' | 'public' | 'included-root' | 'self-signed' | 'unknown';

export interface CertificateInfo {
  id: string;
  kind: CertificateKind;
  /** DNS names and IP addresses from subjectAltName (else the subject CN); empty for a CA. */
  names: string[];
  /** "CN=mail.example.org, O=Mallard" */
  subject: string;
  issuer: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** SHA-256, "AB:CD:…". */
  fingerprint: string;
  serialNumber: string;
  keyType: KeyType;
  /** RSA modulus bits, or 256 for P-256. */
  keyBits: number;
  /** Certificates in the stored chain (1 unless an imported chain has intermediates). */
  chainLength: number;
  trust: ChainTrust;
  createdAt: string;
  /** The certificate served to clients that send no SNI name (or one no other certificate covers). */
  active: boolean;
  expired: boolean;
}

export interface AuthorityOptions {
  /** Default "Mallard Local CA <6 hex digits>" (a distinct name per install, so phones tell them apart). */
  commonName?: string;
  /** Default 'rsa'. */
  keyType?: KeyType;
  /** RSA only; default 3072. */
  rsaBits?: RsaBits;
  /** Default 3650 (10 years); 1 to 10950. */
  validityDays?: number;
}

export interface ServerCertificateOptions {
  /** DNS names (a leading `*.` label is allowed) and IP addresses; the first is also the subject CN. */
  names: string[];
  /** Default 'rsa'. */
  keyType?: KeyType;
  /** RSA only; default 3072. */
  rsaBits?: RsaBits;
  /** Default and most 825 (what Apple devices accept for certificates from a user-trusted CA). */
  validityDays?: number;
  /** Activate at once (default false). */
  activate?: boolean;
}

export interface ImportOptions {
  /** The leaf certificate first, then any intermediates (and optionally the root), in PEM. */
  certPem: string;
  /** The private key of the leaf, in PEM (PKCS#8, PKCS#1 or SEC1), not encrypted. */
  keyPem: string;
  activate?: boolean;
}

export interface AuthorityExport {
  id: string;
  /** For desktop trust stores and `openssl -CAfile`. */
  pem: string;
  /** The same certificate in DER, the form phones install (`application/x-x509-ca-cert`, `.crt`/`.cer`). */
  der: Buffer;
  fingerprint: string;
}

export type CertificateErrorCode =
  | 'not_found'
  | 'invalid_option'
  | 'invalid_name'
  | 'invalid_pem'
  | 'invalid_key'
  | 'weak_key'
  | 'key_mismatch'
  | 'chain_invalid'
  | 'expired'
  | 'not_yet_valid'
  | 'not_server_certificate'
  | 'duplicate'
  | 'authority_exists'
  | 'no_authority'
  | 'active'
  | 'fallback';

export class CertificateError extends Error {
  constructor(
    readonly code: CertificateErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CertificateError';
  }
}

export type CertificateChange =
  | { type: 'created'; certificate: CertificateInfo }
  | { type: 'activated'; certificate: CertificateInfo }
  | { type: 'deactivated' }
  | { type: 'removed'; id: string };

export interface CertificateStoreOptions {
  /**
   * True when the configuration names a certificate (`tls.cert_file`): with nothing activated that
   * one is served, so the self-signed entry is not listed as active.
   */
  configuredDefault?: boolean;
}

interface StoredCertificate extends Omit<CertificateInfo, 'active' | 'expired'> {
  certFile: string;
  keyFile: string;
}

interface Index {
  version: 1;
  activeId: string | null;
  certificates: StoredCertificate[];
}

const MAX_SERVER_DAYS = 825;
const MAX_CA_DAYS = 10950;
const MAX_NAMES = 100;
const SELF_SIGNED_CERT = 'default.crt';
const SELF_SIGNED_KEY = 'default.key';
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS name or IP address in the form certificates and SNI use, or a CertificateError. */
export function normalizeName(input: string): string {
  const name = input.trim().toLowerCase().replace(/\.$/, '');
  const unbracketed = name.replace(/^\[(.*)\]$/, '$1');
  if (net.isIPv4(unbracketed)) return unbracketed;
  if (net.isIPv6(unbracketed)) return new URL(`http://[${unbracketed}]`).hostname.slice(1, -1);
  const labels = name.split('.');
  const wildcard = labels[0] === '*';
  const rest = wildcard ? labels.slice(1) : labels;
  if (name.length > 253 || rest.length === 0 || !rest.every((label) => LABEL.test(label))) {
    throw new CertificateError('invalid_name', `"${input}" is not a valid host name or IP address`);
  }
  if (wildcard && rest.length < 2) {
    throw new CertificateError(
      'invalid_name',
      `"${input}": a wildcard needs a domain of at least two labels`,
    );
  }
  return name;
}

/** RFC 6125 matching: exact, or `*.example.org` for exactly one label in front of example.org. */
export function nameMatches(pattern: string, servername: string): boolean {
  if (pattern === servername) return true;
  if (!pattern.startsWith('*.')) return false;
  const dot = servername.indexOf('.');
  return dot > 0 && servername.slice(dot + 1) === pattern.slice(2);
}

function keyBitsOf(key: crypto.KeyObject): number {
  const details = key.asymmetricKeyDetails ?? {};
  if (details.modulusLength) return details.modulusLength;
  const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };
  return curveBits[details.namedCurve ?? ''] ?? 0;
}

function checkDays(value: number | undefined, fallback: number, max: number, what: string): number {
  const days = value ?? fallback;
  if (!Number.isInteger(days) || days < 1 || days > max) {
    throw new CertificateError(
      'invalid_option',
      `${what} validity must be a whole number of days from 1 to ${max}`,
    );
  }
  return days;
}

function checkKeyOptions(keyType: unknown, rsaBits: unknown): { keyType: KeyType; rsaBits: RsaBits } {
  const type = keyType ?? 'rsa';
  if (type !== 'rsa' && type !== 'ecdsa') {
    throw new CertificateError('invalid_option', 'the key type must be "rsa" or "ecdsa" (P-256)');
  }
  const bits = rsaBits ?? 3072;
  if (bits !== 2048 && bits !== 3072 && bits !== 4096) {
    throw new CertificateError('invalid_option', 'an RSA key has 2048, 3072 or 4096 bits');
  }
  return { keyType: type, rsaBits: bits };
}

function describe(
  certificate: crypto.X509Certificate,
  fields: { kind: CertificateKind; chainLength: number; trust: ChainTrust },
): Omit<StoredCertificate, 'certFile' | 'keyFile'> {
  const keyType = keyTypeOf(certificate.publicKey);
  if (!keyType) {
    throw new CertificateError(
      'invalid_key',
      `certificates with ${certificate.publicKey.asymmetricKeyType} keys are not supported: use RSA or ECDSA`,
    );
  }
  return {
    id: certificate.fingerprint256.replaceAll(':', '').slice(0, 16).toLowerCase(),
    kind: fields.kind,
    names: fields.kind === 'ca' ? [] : namesOf(certificate),
    subject: oneLineName(certificate.subject),
    issuer: oneLineName(certificate.issuer),
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
    fingerprint: certificate.fingerprint256,
    serialNumber: certificate.serialNumber.toLowerCase(),
    keyType,
    keyBits: keyBitsOf(certificate.publicKey),
    chainLength: fields.chainLength,
    trust: fields.trust,
    createdAt: new Date().toISOString(),
  };
}

let systemRoots: crypto.X509Certificate[] | undefined;

/** The root certificates Node trusts (Mozilla's list), parsed on first use. */
function trustedRoots(): crypto.X509Certificate[] {
  systemRoots ??= tls.rootCertificates.flatMap((pem) => {
    try {
      return [new crypto.X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  return systemRoots;
}

function label(certificate: crypto.X509Certificate, position: number): string {
  const cn = nameAttribute(certificate.subject, 'CN');
  return `certificate ${position} (${cn ? `CN=${cn}` : oneLineName(certificate.subject)})`;
}

export class CertificateStore {
  /** `<data_dir>/tls` */
  readonly dir: string;
  private readonly indexFile: string;
  private index: Index;
  private readonly listeners = new Set<(change: CertificateChange) => void>();

  constructor(
    readonly dataDir: string,
    private readonly options: CertificateStoreOptions = {},
  ) {
    this.dir = path.join(dataDir, 'tls');
    this.indexFile = path.join(this.dir, 'index.json');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.dir, 0o700);
    this.index = this.readIndex();
  }

  // ---- reading ------------------------------------------------------------------------------------

  list(): CertificateInfo[] {
    return this.index.certificates
      .map((entry) => this.publicInfo(entry))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
  }

  get(id: string): CertificateInfo {
    return this.publicInfo(this.entry(id));
  }

  /** The local certificate authority, if one was created. */
  authority(): CertificateInfo | null {
    const entry = this.index.certificates.find((candidate) => candidate.kind === 'ca');
    return entry ? this.publicInfo(entry) : null;
  }

  /** The activated certificate, or null when the default (configured or self-signed) is served. */
  active(): CertificateInfo | null {
    const id = this.index.activeId;
    const entry = id ? this.index.certificates.find((candidate) => candidate.id === id) : undefined;
    return entry ? this.publicInfo(entry) : null;
  }

  exportAuthority(): AuthorityExport {
    const entry = this.index.certificates.find((candidate) => candidate.kind === 'ca');
    if (!entry) {
      throw new CertificateError(
        'no_authority',
        'there is no local certificate authority yet: create one first',
      );
    }
    const certificate = new crypto.X509Certificate(fs.readFileSync(path.join(this.dir, entry.certFile)));
    return {
      id: entry.id,
      pem: certificate.toString(),
      der: certificate.raw,
      fingerprint: entry.fingerprint,
    };
  }

  /** A TLS context for a stored server certificate: how the key reaches the listeners (context.ts). */
  secureContext(id: string): tls.SecureContext {
    const entry = this.entry(id);
    if (entry.kind === 'ca') {
      throw new CertificateError(
        'not_server_certificate',
        'a certificate authority is not served to clients',
      );
    }
    return secureContextOf({
      cert: fs.readFileSync(path.join(this.dir, entry.certFile), 'utf8'),
      key: fs.readFileSync(path.join(this.dir, entry.keyFile), 'utf8'),
    });
  }

  /** A stored server certificate's chain and key in PEM: for signing (Apple profiles, server/web). */
  pemPair(id: string): PemPair {
    const entry = this.entry(id);
    if (entry.kind === 'ca') {
      throw new CertificateError(
        'not_server_certificate',
        'a certificate authority does not sign for the server',
      );
    }
    return {
      cert: fs.readFileSync(path.join(this.dir, entry.certFile), 'utf8'),
      key: fs.readFileSync(path.join(this.dir, entry.keyFile), 'utf8'),
    };
  }

  onChange(listener: (change: CertificateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- creating -----------------------------------------------------------------------------------

  createAuthority(options: AuthorityOptions = {}): CertificateInfo {
    this.reload();
    const existing = this.index.certificates.find((entry) => entry.kind === 'ca');
    if (existing) {
      throw new CertificateError(
        'authority_exists',
        `a local certificate authority exists already (${existing.id}); remove it first to make a new one`,
      );
    }
    const { keyType, rsaBits } = checkKeyOptions(options.keyType, options.rsaBits);
    const days = checkDays(options.validityDays, 3650, MAX_CA_DAYS, 'a certificate authority’s');
    const commonName = (
      options.commonName ?? `Mallard Local CA ${crypto.randomBytes(3).toString('hex')}`
    ).trim();
    if (commonName.length < 1 || commonName.length > 64) {
      throw new CertificateError('invalid_option', 'the common name must have 1 to 64 characters');
    }
    const key = generateKey(keyType, rsaBits);
    const certificate = buildCertificate({
      subject: this.authoritySubject(commonName),
      publicKey: key.publicKey,
      signingKey: key.privateKey,
      ...validity(days),
      profile: { kind: 'ca', pathLength: 0 },
    });
    const info = this.add(describe(certificate, { kind: 'ca', chainLength: 1, trust: 'self-signed' }), {
      chainPem: certificate.toString(),
      keyPem: privateKeyPem(key.privateKey),
    });
    return info;
  }

  issueServerCertificate(options: ServerCertificateOptions): CertificateInfo {
    if (!Array.isArray(options.names) || options.names.length === 0) {
      throw new CertificateError('invalid_name', 'give at least one host name or IP address');
    }
    if (options.names.length > MAX_NAMES) {
      throw new CertificateError('invalid_name', `at most ${MAX_NAMES} names fit in one certificate`);
    }
    const names = [...new Set(options.names.map(normalizeName))];
    const { keyType, rsaBits } = checkKeyOptions(options.keyType, options.rsaBits);
    const days = checkDays(options.validityDays, MAX_SERVER_DAYS, MAX_SERVER_DAYS, 'a server certificate’s');
    this.reload();
    if (!this.index.certificates.some((entry) => entry.kind === 'ca')) {
      this.createAuthority({ keyType, rsaBits });
    }
    const authorityEntry = this.index.certificates.find((entry) => entry.kind === 'ca')!;
    const authority = new crypto.X509Certificate(
      fs.readFileSync(path.join(this.dir, authorityEntry.certFile)),
    );
    const authorityKey = crypto.createPrivateKey(
      fs.readFileSync(path.join(this.dir, authorityEntry.keyFile)),
    );
    const { notBefore, notAfter: wanted } = validity(days);
    // A certificate cannot outlive its issuer (clients would reject it when the CA expires).
    const notAfter = new Date(Math.min(wanted.getTime(), new Date(authority.validTo).getTime()));
    if (notAfter.getTime() <= Date.now()) {
      throw new CertificateError(
        'expired',
        'the local certificate authority has expired: remove it and create a new one',
      );
    }
    const first = names[0]!;
    const subject: NameAttributes = [
      ...(first.length <= 64 ? [{ name: 'commonName' as const, value: first }] : []),
      { name: 'organizationName', value: 'Mallard' },
    ];
    const key = generateKey(keyType, rsaBits);
    const certificate = buildCertificate({
      subject,
      publicKey: key.publicKey,
      signingKey: authorityKey,
      issuer: authority,
      notBefore,
      notAfter,
      profile: { kind: 'server', names },
    });
    const info = this.add(describe(certificate, { kind: 'server', chainLength: 1, trust: 'local-ca' }), {
      chainPem: certificate.toString(),
      keyPem: privateKeyPem(key.privateKey),
    });
    return options.activate ? this.activate(info.id) : info;
  }

  importCertificate(options: ImportOptions): CertificateInfo {
    this.reload();
    const chain = this.readChain(options.certPem);
    const key = this.readKey(options.keyPem);
    const leaf = chain[0]!;
    if (!leaf.checkPrivateKey(key)) {
      throw new CertificateError('key_mismatch', 'the private key does not match the certificate');
    }
    if (leaf.ca) {
      throw new CertificateError(
        'not_server_certificate',
        'the first certificate is a certificate authority, not a server certificate: put the server’s certificate first',
      );
    }
    if (!allowsServerAuth(leaf)) {
      throw new CertificateError(
        'not_server_certificate',
        'the certificate is not meant for TLS servers (its extended key usage leaves out serverAuth)',
      );
    }
    const now = Date.now();
    if (new Date(leaf.validTo).getTime() <= now) {
      throw new CertificateError(
        'expired',
        `the certificate expired on ${new Date(leaf.validTo).toISOString().slice(0, 10)}`,
      );
    }
    if (new Date(leaf.validFrom).getTime() > now + BACKDATE_MS) {
      throw new CertificateError(
        'not_yet_valid',
        `the certificate is not valid before ${new Date(leaf.validFrom).toISOString()}`,
      );
    }
    const trust = this.verifyChain(chain, now);
    const chainPem = chain.map((certificate) => certificate.toString()).join('');
    const keyPem = privateKeyPem(key);
    try {
      secureContextOf({ cert: chainPem, key: keyPem });
    } catch (error) {
      throw new CertificateError(
        'invalid_key',
        `TLS cannot use this certificate and key: ${(error as Error).message}`,
      );
    }
    const info = this.add(describe(leaf, { kind: 'imported', chainLength: chain.length, trust }), {
      chainPem,
      keyPem,
    });
    return options.activate ? this.activate(info.id) : info;
  }

  /**
   * Adopts the first-start self-signed certificate (`default.crt`, made when missing) into the
   * index; returns its id. The TLS provider calls this at start.
   */
  ensureSelfSigned(hostname: string): string {
    ensureDefaultCertificate(this.dataDir, hostname);
    this.reload();
    const certificate = new crypto.X509Certificate(fs.readFileSync(path.join(this.dir, SELF_SIGNED_CERT)));
    const described = describe(certificate, { kind: 'self-signed', chainLength: 1, trust: 'self-signed' });
    const existing = this.index.certificates.find((entry) => entry.kind === 'self-signed');
    if (existing?.id === described.id) return existing.id;
    this.index.certificates = this.index.certificates.filter((entry) => entry.kind !== 'self-signed');
    this.index.certificates.push({ ...described, certFile: SELF_SIGNED_CERT, keyFile: SELF_SIGNED_KEY });
    if (existing && this.index.activeId === existing.id) this.index.activeId = described.id;
    this.writeIndex();
    return described.id;
  }

  // ---- choosing and removing -------------------------------------------------------------------

  activate(id: string): CertificateInfo {
    this.reload();
    const entry = this.entry(id);
    if (entry.kind === 'ca') {
      throw new CertificateError(
        'not_server_certificate',
        'a certificate authority is not served to clients: activate a server certificate it issued',
      );
    }
    if (new Date(entry.notAfter).getTime() <= Date.now()) {
      throw new CertificateError('expired', `certificate ${id} expired on ${entry.notAfter.slice(0, 10)}`);
    }
    this.index.activeId = id;
    this.writeIndex();
    const info = this.publicInfo(entry);
    this.emit({ type: 'activated', certificate: info });
    return info;
  }

  deactivate(): void {
    this.reload();
    if (this.index.activeId === null) return;
    this.index.activeId = null;
    this.writeIndex();
    this.emit({ type: 'deactivated' });
  }

  remove(id: string): void {
    this.reload();
    const entry = this.entry(id);
    if (this.index.activeId === id) {
      throw new CertificateError(
        'active',
        'this certificate is in use: activate another one before removing it',
      );
    }
    if (entry.kind === 'self-signed') {
      throw new CertificateError(
        'fallback',
        'the self-signed certificate is the fallback and cannot be removed',
      );
    }
    this.index.certificates = this.index.certificates.filter((candidate) => candidate.id !== id);
    this.writeIndex();
    fs.rmSync(path.join(this.dir, entry.keyFile), { force: true });
    fs.rmSync(path.join(this.dir, entry.certFile), { force: true });
    this.emit({ type: 'removed', id });
  }

  // ---- internals ---------------------------------------------------------------------------------

  private entry(id: string): StoredCertificate {
    const entry = this.index.certificates.find((candidate) => candidate.id === id);
    if (!entry) throw new CertificateError('not_found', `no certificate ${JSON.stringify(id)}`);
    return entry;
  }

  private publicInfo(entry: StoredCertificate): CertificateInfo {
    const { certFile: _certFile, keyFile: _keyFile, ...info } = entry;
    const active = this.index.activeId
      ? this.index.activeId === entry.id
      : entry.kind === 'self-signed' && !this.options.configuredDefault;
    return {
      ...info,
      names: [...info.names],
      active,
      expired: new Date(entry.notAfter).getTime() <= Date.now(),
    };
  }

  private authoritySubject(commonName: string): NameAttributes {
    return [
      { name: 'commonName', value: commonName },
      { name: 'organizationName', value: 'Mallard' },
    ];
  }

  private readChain(certPem: unknown): crypto.X509Certificate[] {
    if (typeof certPem !== 'string') {
      throw new CertificateError('invalid_pem', 'the certificate must be PEM text');
    }
    const blocks = pemBlocks(certPem).filter((block) => block.label === 'CERTIFICATE');
    if (blocks.length === 0) {
      throw new CertificateError(
        'invalid_pem',
        'no certificate found: expected PEM text starting with -----BEGIN CERTIFICATE-----',
      );
    }
    if (blocks.length > 10) {
      throw new CertificateError('invalid_pem', 'a chain of more than 10 certificates is not accepted');
    }
    return blocks.map((block, index) => {
      try {
        return new crypto.X509Certificate(block.pem);
      } catch {
        throw new CertificateError('invalid_pem', `certificate ${index + 1} of the PEM text cannot be read`);
      }
    });
  }

  private readKey(keyPem: unknown): crypto.KeyObject {
    if (typeof keyPem !== 'string') {
      throw new CertificateError('invalid_key', 'the private key must be PEM text');
    }
    const blocks = pemBlocks(keyPem);
    if (blocks.some((block) => block.label === 'ENCRYPTED PRIVATE KEY')) {
      throw new CertificateError(
        'invalid_key',
        'the private key is encrypted: give it without a passphrase (openssl pkey -in key.pem -out plain.pem)',
      );
    }
    const block = blocks.find((candidate) => /^(RSA |EC )?PRIVATE KEY$/.test(candidate.label));
    if (!block) {
      throw new CertificateError(
        'invalid_key',
        'no private key found: expected PEM text starting with -----BEGIN PRIVATE KEY-----',
      );
    }
    let key: crypto.KeyObject;
    try {
      key = crypto.createPrivateKey(block.pem);
    } catch {
      throw new CertificateError('invalid_key', 'the private key cannot be read');
    }
    const type = keyTypeOf(key);
    if (!type) {
      throw new CertificateError(
        'invalid_key',
        `${key.asymmetricKeyType} keys are not supported: use RSA or ECDSA`,
      );
    }
    if (type === 'rsa' && keyBitsOf(key) < 2048) {
      throw new CertificateError(
        'weak_key',
        `an RSA key of ${keyBitsOf(key)} bits is too weak: use 2048 bits or more`,
      );
    }
    return key;
  }

  /** Each certificate must be signed by the next; the last by itself, a known root, or someone unknown. */
  private verifyChain(chain: crypto.X509Certificate[], now: number): ChainTrust {
    for (let index = 0; index + 1 < chain.length; index++) {
      const child = chain[index]!;
      const parent = chain[index + 1]!;
      if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
        throw new CertificateError(
          'chain_invalid',
          `the chain does not verify: ${label(child, index + 1)} is not signed by ${label(parent, index + 2)}`,
        );
      }
      if (!parent.ca) {
        throw new CertificateError(
          'chain_invalid',
          `the chain does not verify: ${label(parent, index + 2)} is not a certificate authority`,
        );
      }
      if (new Date(parent.validTo).getTime() <= now) {
        throw new CertificateError(
          'chain_invalid',
          `the chain does not verify: ${label(parent, index + 2)} has expired`,
        );
      }
    }
    const last = chain[chain.length - 1]!;
    if (isSelfIssued(last)) {
      if (!last.verify(last.publicKey)) {
        throw new CertificateError(
          'chain_invalid',
          `the chain does not verify: ${label(last, chain.length)} is self-issued but its signature is wrong`,
        );
      }
      return chain.length === 1 ? 'self-signed' : 'included-root';
    }
    const authority = this.index.certificates.find((entry) => entry.kind === 'ca');
    const local = authority
      ? [new crypto.X509Certificate(fs.readFileSync(path.join(this.dir, authority.certFile)))]
      : [];
    for (const [roots, trust] of [
      [local, 'local-ca'],
      [trustedRoots(), 'public'],
    ] as const) {
      const issuers = roots.filter((root) => last.checkIssued(root));
      if (issuers.length === 0) continue;
      if (issuers.some((root) => last.verify(root.publicKey) && isSelfSigned(root))) return trust;
      throw new CertificateError(
        'chain_invalid',
        `the chain does not verify: ${label(last, chain.length)} names ${oneLineName(last.issuer)} as its issuer, but that authority’s key did not sign it`,
      );
    }
    return 'unknown';
  }

  private add(
    described: Omit<StoredCertificate, 'certFile' | 'keyFile'>,
    files: { chainPem: string; keyPem: string },
  ): CertificateInfo {
    const duplicate = this.index.certificates.find((entry) => entry.id === described.id);
    if (duplicate) {
      throw new CertificateError('duplicate', `this certificate is in the store already (${duplicate.id})`);
    }
    const entry: StoredCertificate = {
      ...described,
      certFile: `${described.id}.crt`,
      keyFile: `${described.id}.key`,
    };
    const keyPath = path.join(this.dir, entry.keyFile);
    fs.writeFileSync(keyPath, files.keyPem, { mode: 0o600 });
    fs.chmodSync(keyPath, 0o600);
    fs.writeFileSync(path.join(this.dir, entry.certFile), files.chainPem, { mode: 0o644 });
    this.index.certificates.push(entry);
    this.writeIndex();
    const info = this.publicInfo(entry);
    this.emit({ type: 'created', certificate: info });
    return info;
  }

  private emit(change: CertificateChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not undo or hide a change already written.
      }
    }
  }

  /** Re-reads the index before a change, in case another process (the CLI) changed it. */
  private reload(): void {
    this.index = this.readIndex();
  }

  /** The index file's size and time as last looked at by reloadIfChanged (null: not yet, or none). */
  private indexSeen: string | null = null;

  /**
   * Reads the index again when its file changed since this was last asked (another process — a
   * server worker activating a renewed certificate, the CLI — wrote it); true when it did. One stat:
   * for callers that ask now and then.
   */
  reloadIfChanged(): boolean {
    const stat = fs.statSync(this.indexFile, { throwIfNoEntry: false });
    const seen = stat ? `${stat.size}:${stat.mtimeMs}` : null;
    if (seen === this.indexSeen) return false;
    this.indexSeen = seen;
    this.reload();
    return true;
  }

  private readIndex(): Index {
    let text: string;
    try {
      text = fs.readFileSync(this.indexFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { version: 1, activeId: null, certificates: [] };
      throw error;
    }
    try {
      const index = JSON.parse(text) as Index;
      if (index.version !== 1 || !Array.isArray(index.certificates)) throw new Error('unknown format');
      return index;
    } catch (error) {
      throw new Error(
        `the certificate index ${this.indexFile} cannot be read (${(error as Error).message}); move it away to start over`,
      );
    }
  }

  private writeIndex(): void {
    const temporary = `${this.indexFile}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(this.index, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(temporary, this.indexFile);
  }
}
