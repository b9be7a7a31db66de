/**
 * The sender-authentication inbound check: verifies (verify.ts), writes one
 * Authentication-Results field with our host name as authserv-id after removing incoming ones that
 * claim it (results-header.ts), and applies the DMARC policy (policy.ts). Its facts (`auth`) are
 * the full mailauth results, for the spam scorer.
 */
import type { DnsLookup } from '../../dns/resolver.ts';
import type { CheckOutcome, InboundCheck } from '../types.ts';
import { dmarcOutcome, type RejectPolicy } from './policy.ts';
import { authenticationResults, withoutOurAuthResults } from './results-header.ts';
import { verifySender, type AuthResults } from './verify.ts';

export interface SenderAuthOptions {
  hostname: string;
  lookup: DnsLookup;
  /** What DMARC p=reject does: refuse the message, or file it as Junk. */
  dmarcReject: RejectPolicy;
}

/** One word per method for logs and the admin API: "spf=pass", "dkim=fail (example.com)". */
export function summary(results: AuthResults): string[] {
  const words = results.dkim.results.map((row) =>
    row.signingDomain ? `dkim=${row.status.result} (${row.signingDomain})` : `dkim=${row.status.result}`,
  );
  if (results.spf) words.push(`spf=${results.spf.status.result}`);
  if (results.arc) words.push(`arc=${results.arc.status.result}`);
  if (results.dmarc) words.push(`dmarc=${results.dmarc.status.result}`);
  else if (results.dmarcSkipped) words.push(`dmarc=none (${results.dmarcSkipped})`);
  return words;
}

export function senderAuthCheck(options: SenderAuthOptions): InboundCheck {
  return {
    name: 'auth',
    async check(input): Promise<CheckOutcome> {
      const results = await verifySender(
        {
          message: input.message,
          clientIp: input.clientIp,
          helo: input.helo,
          mailFrom: input.mailFrom,
          hostname: options.hostname,
        },
        options.lookup,
      );
      const policy = dmarcOutcome(results.dmarc, options.dmarcReject);
      return {
        ...policy,
        headers: authenticationResults(options.hostname, results),
        message: withoutOurAuthResults(input.message, options.hostname),
        reasons: [...summary(results), ...(policy.reasons ?? [])],
        facts: { auth: results },
      };
    },
  };
}
