/**
 * Sender authentication of one message with mailauth (by the WildDuck/ZoneMTA authors): every
 * DKIM signature (RFC 6376), SPF for MAIL FROM and HELO (RFC 7208), the ARC chain (RFC 8617) and
 * DMARC (RFC 7489, organizational domain from the public suffix list mailauth bundles), in the
 * order mailauth's own authenticate() runs them. The package root cannot be loaded on Node 20 (its
 * BIMI part pulls an undici that needs Node 22), so this imports the parts one by one and leaves
 * BIMI out.
 */
import { isIP } from 'node:net';
import { arc } from 'mailauth/lib/arc/index.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { evaluateDmarc } from 'mailauth/lib/dmarc/index.js';
import { spf } from 'mailauth/lib/spf/index.js';
import type { ARCResult, DKIMVerifyResult, DMARCResult, SPFResult } from 'mailauth';
import type { DnsLookup } from '../../dns/resolver.ts';

export interface AuthInput {
  message: Buffer;
  clientIp: string;
  helo: string;
  mailFrom: string;
  /** Our host name: the MTA named in SPF results. */
  hostname: string;
}

export interface AuthResults {
  dkim: DKIMVerifyResult;
  spf: SPFResult | false;
  arc: ARCResult | false;
  dmarc: DMARCResult | false;
  /** Why DMARC could not be evaluated (no or several author domains), when it could not. */
  dmarcSkipped?: string;
}

/** RSA keys shorter than this fail (RFC 8301 3.2 says verifiers must not accept less than 1024). */
const MIN_KEY_BITS = 1024;

export async function verifySender(input: AuthInput, lookup: DnsLookup): Promise<AuthResults> {
  const dkim = await dkimVerify(input.message, {
    resolver: lookup,
    sender: input.mailFrom,
    minBitLength: MIN_KEY_BITS,
  });
  // An address literal or a missing HELO: SPF checks the literal (RFC 7208 2.3).
  const helo = !input.helo || isIP(input.helo) ? `[${input.clientIp}]` : input.helo;
  const spfResult = await spf({
    ip: input.clientIp,
    helo,
    sender: input.mailFrom,
    mta: input.hostname,
    resolver: lookup,
  });
  const arcResult = await arc(dkim.arc as Parameters<typeof arc>[0], {
    resolver: lookup,
    minBitLength: MIN_KEY_BITS,
    ip: input.clientIp,
  });
  const results: AuthResults = { dkim, spf: spfResult || false, arc: arcResult || false, dmarc: false };
  if (dkim.headerFrom && dkim.headerFrom.length > 0) {
    const { response, reason } = await evaluateDmarc({
      headerFrom: dkim.headerFrom,
      fromFields: dkim.fromFields,
      spfDomains:
        spfResult && spfResult.status.result === 'pass' && spfResult.domain ? [spfResult.domain] : [],
      dkimDomains: dkim.results
        .filter((row) => row.status.result === 'pass' && row.signingDomain)
        .map((row) => ({
          id: row.id,
          domain: row.signingDomain!,
          aligned: row.status.aligned,
          underSized: row.status.underSized,
        })),
      arcResult: arcResult,
      resolver: lookup,
    });
    results.dmarc = response || false;
    if (!response && reason) results.dmarcSkipped = reason;
  } else {
    results.dmarcSkipped = 'no-author-domain';
  }
  return results;
}
