/**
 * DKIM signing (RFC 6376) of mail sent from local domains, with mailauth's signer (by the
 * WildDuck/ZoneMTA authors): relaxed/relaxed, rsa-sha256 with a 2048-bit key per domain, made on
 * first use and kept in the data directory (dkim/DOMAIN.SELECTOR.pem, mode 0600), so the TXT record
 * shown by `mallard dkim show DOMAIN` stays valid across restarts; ed25519-sha256 (RFC 8463) beside
 * it once the domain has an ed25519 key; rotation to new selectors (dkim/DOMAIN.json lists them).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { domainOf } from '../smtp/local-domains.ts';
import type { Signer } from './sink.ts';

const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

export type DkimAlgorithm = 'rsa' | 'ed25519';

/** One key of a domain: its selector, kind, and whether it signs (inactive keys stay published). */
export interface DkimKey {
  selector: string;
  algorithm: DkimAlgorithm;
  active: boolean;
}

/** dkim/DOMAIN.json: the domain's keys; absent until the first rotation (then: the default key). */
interface Manifest {
  keys: Array<{ selector: string; active: boolean }>;
}

/**
 * A domain's DKIM keys in the data directory: the default rsa key under the configured selector
 * (made on first use), and after `mallard dkim rotate` newer ones under selectors of their own. Per
 * algorithm one key is active (signs); a key rotated out stays published — the operator retires it
 * once the mail it signed has been read — so a signature never fails for want of its record.
 * An active ed25519 key (RFC 8463) signs beside the rsa one: receivers that lack ed25519 still
 * have a signature they check.
 */
export class DkimKeys {
  constructor(
    private readonly dataDir: string,
    readonly selector: string,
  ) {}

  private domainOf(domain: string): string {
    const name = domain.toLowerCase();
    if (!DOMAIN.test(name)) throw new Error(`not a domain name: ${JSON.stringify(domain)}`);
    return name;
  }

  private file(domain: string, selector: string): string {
    return path.join(this.dataDir, 'dkim', `${this.domainOf(domain)}.${selector}.pem`);
  }

  private manifestFile(domain: string): string {
    return path.join(this.dataDir, 'dkim', `${this.domainOf(domain)}.json`);
  }

  private manifest(domain: string): Manifest {
    try {
      return JSON.parse(fs.readFileSync(this.manifestFile(domain), 'utf8')) as Manifest;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return { keys: [{ selector: this.selector, active: true }] };
    }
  }

  private saveManifest(domain: string, manifest: Manifest): void {
    const file = this.manifestFile(domain);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    fs.writeFileSync(temp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(temp, file);
  }

  /** The key under `selector` (PEM), made when missing (`algorithm` then says which kind). */
  private keyPem(domain: string, selector: string, algorithm: DkimAlgorithm = 'rsa'): string {
    const file = this.file(domain, selector);
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const { privateKey } =
      algorithm === 'rsa'
        ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
        : crypto.generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Written aside and linked: two processes making a key at once end with one whole file, and a
    // process that lost the race reads the winner's key.
    const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    fs.writeFileSync(temp, pem, { mode: 0o600 });
    try {
      fs.linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.unlinkSync(temp);
    }
    return fs.readFileSync(file, 'utf8');
  }

  private algorithmOf(pem: string): DkimAlgorithm {
    return crypto.createPrivateKey(pem).asymmetricKeyType === 'ed25519' ? 'ed25519' : 'rsa';
  }

  /** Every key of the domain, active ones first (the default key is made if it is all there is). */
  keys(domain: string): Array<DkimKey & { privateKey: string }> {
    return this.manifest(domain)
      .keys.map(({ selector, active }) => {
        const privateKey = this.keyPem(domain, selector);
        return { selector, active, algorithm: this.algorithmOf(privateKey), privateKey };
      })
      .sort((a, b) => Number(b.active) - Number(a.active));
  }

  /** The active rsa key's PEM (the one every message is signed with). */
  privateKey(domain: string): string {
    return this.keys(domain).find((key) => key.active && key.algorithm === 'rsa')!.privateKey;
  }

  /**
   * A new key under a new selector becomes the active one of its algorithm; the one it replaces
   * stays published until retired. The first ed25519 rotation adds ed25519 signing.
   */
  rotate(domain: string, algorithm: DkimAlgorithm = 'rsa', now = new Date()): DkimKey {
    const manifest = this.manifest(domain);
    const keys = this.keys(domain);
    const stamp = now.toISOString().slice(0, 10).replace(/-/g, '');
    const base = `${this.selector}-${algorithm === 'ed25519' ? 'ed-' : ''}${stamp}`;
    let selector = base;
    for (let n = 2; keys.some((key) => key.selector === selector); n++) selector = `${base}-${n}`;
    this.keyPem(domain, selector, algorithm);
    manifest.keys = [
      ...keys.map((key) => ({
        selector: key.selector,
        active: key.active && key.algorithm !== algorithm,
      })),
      { selector, active: true },
    ];
    this.saveManifest(domain, manifest);
    return { selector, algorithm, active: true };
  }

  /** Removes a key rotated out (its TXT record can go too); an active key cannot be retired. */
  retire(domain: string, selector: string): void {
    const keys = this.keys(domain);
    const key = keys.find((entry) => entry.selector === selector);
    if (!key) throw new Error(`${domain} has no DKIM key with selector ${selector}`);
    if (key.active) throw new Error(`${selector} signs ${domain}'s mail; rotate to a new key first`);
    this.saveManifest(domain, {
      keys: keys
        .filter((entry) => entry.selector !== selector)
        .map(({ selector: name, active }) => ({ selector: name, active })),
    });
    fs.rmSync(this.file(domain, selector), { force: true });
  }

  /** The DNS records to publish, one per key (retiring ones included): name and TXT value. */
  dnsRecords(domain: string): Array<DkimKey & { name: string; value: string }> {
    return this.keys(domain).map(({ selector, algorithm, active, privateKey }) => {
      const spki = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
      // RFC 8463: an ed25519 record carries the bare 32-byte key, not the SPKI structure.
      const publicKey = (algorithm === 'ed25519' ? spki.subarray(-32) : spki).toString('base64');
      return {
        selector,
        algorithm,
        active,
        name: `${selector}._domainkey.${domain.toLowerCase()}`,
        value: `v=DKIM1; k=${algorithm}; p=${publicKey}`,
      };
    });
  }

  /** The record of the active rsa key. */
  dnsRecord(domain: string): { name: string; value: string } {
    const record = this.dnsRecords(domain).find((entry) => entry.active && entry.algorithm === 'rsa')!;
    return { name: record.name, value: record.value };
  }
}

/** Signs as the envelope sender's domain when that domain is one of ours. */
export function dkimSigner(
  keys: DkimKeys,
  isLocalDomain: (domain: string) => Promise<boolean>,
  log: Logger,
): Signer {
  return {
    async sign(raw: Buffer, sender: string): Promise<Buffer> {
      const domain = domainOf(sender);
      if (domain === '' || !(await isLocalDomain(domain))) return raw;
      // Every active key signs: rsa-sha256, and ed25519-sha256 beside it when the domain has one.
      const signatureData = keys
        .keys(domain)
        .filter((key) => key.active)
        .map((key) => ({
          signingDomain: domain,
          selector: key.selector,
          privateKey: key.privateKey,
          canonicalization: 'relaxed/relaxed',
          algorithm: key.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
        }));
      // Loaded with the first message sent: a worker that only holds IMAP sessions never signs, and
      // mailauth (with its MIME and charset tables) is some megabytes of heap per process.
      const { dkimSign } = await import('mailauth/lib/dkim/sign.js');
      // mailauth takes the first signature's fields at the top level too.
      const result = await dkimSign(raw, { ...signatureData[0]!, signatureData });
      if (result.errors && result.errors.length > 0) {
        // Unsigned mail still goes out (it may land in spam); the reason is in the log.
        log.warn({ domain, errors: result.errors }, 'DKIM signing failed');
        return raw;
      }
      return Buffer.concat([Buffer.from(result.signatures, 'latin1'), raw]);
    },
  };
}
