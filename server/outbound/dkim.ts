/**
 * DKIM signing (RFC 6376) of mail sent from local domains, with mailauth's signer (by the
 * WildDuck/ZoneMTA authors): relaxed/relaxed, rsa-sha256 with a 2048-bit key per domain, made on
 * first use and kept in the data directory (dkim/DOMAIN.SELECTOR.pem, mode 0600), so the TXT record
 * shown by `mallard dkim show DOMAIN` stays valid across restarts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import type { Logger } from '../log.ts';
import { domainOf } from '../smtp/local-domains.ts';
import type { Signer } from './sink.ts';

const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

export class DkimKeys {
  constructor(
    private readonly dataDir: string,
    readonly selector: string,
  ) {}

  private file(domain: string): string {
    const name = domain.toLowerCase();
    if (!DOMAIN.test(name)) throw new Error(`not a domain name: ${JSON.stringify(domain)}`);
    return path.join(this.dataDir, 'dkim', `${name}.${this.selector}.pem`);
  }

  /** The domain's private key (PEM), made and stored when it has none yet. */
  privateKey(domain: string): string {
    const file = this.file(domain);
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Written aside and renamed: two processes making a key at once end with one whole file, and a
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

  /** The DNS record to publish: name and TXT value. */
  dnsRecord(domain: string): { name: string; value: string } {
    const publicKey = crypto
      .createPublicKey(this.privateKey(domain))
      .export({ type: 'spki', format: 'der' })
      .toString('base64');
    return {
      name: `${this.selector}._domainkey.${domain.toLowerCase()}`,
      value: `v=DKIM1; k=rsa; p=${publicKey}`,
    };
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
      const signature = {
        signingDomain: domain,
        selector: keys.selector,
        privateKey: keys.privateKey(domain),
        canonicalization: 'relaxed/relaxed',
        algorithm: 'rsa-sha256',
      };
      // mailauth's signer takes its keys from `signatureData` (one entry per signature).
      const result = await dkimSign(raw, { ...signature, signatureData: [signature] });
      if (result.errors && result.errors.length > 0) {
        // Unsigned mail still goes out (it may land in spam); the reason is in the log.
        log.warn({ domain, errors: result.errors }, 'DKIM signing failed');
        return raw;
      }
      return Buffer.concat([Buffer.from(result.signatures, 'latin1'), raw]);
    },
  };
}
