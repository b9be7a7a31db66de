/**
 * Mallard's own spam score, for when rspamd is not configured (or does not answer): the GTUBE test
 * string, DNS blocklist listings of the client, the sender-authentication results (the "auth"
 * check's facts), and two header fields every real mailer writes. Deliberately simple and
 * explainable: each rule adds points and names itself in X-Spam-Status.
 */
import type { AuthResults } from '../inbound/auth/verify.ts';
import { headerFieldValues } from '../delivery/trace.ts';

/** The GTUBE test string (SpamAssassin's, also rspamd's): a message carrying it is spam. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

export interface ScoreRule {
  name: string;
  points: number;
}

export interface OwnScoreInput {
  message: Buffer;
  /** The DNSBL zones that list the client ("zen.spamhaus.org=127.0.0.2"). */
  listings: string[];
  dnsblScore: number;
  /** The auth check's results, when it ran. */
  auth?: AuthResults;
}

/** Points for the authentication results: failures count, a DMARC pass earns a little trust. */
function authRules(auth: AuthResults): ScoreRule[] {
  const rules: ScoreRule[] = [];
  const spf = auth.spf ? auth.spf.status.result : 'none';
  if (spf === 'fail') rules.push({ name: 'SPF_FAIL', points: 2 });
  else if (spf === 'softfail') rules.push({ name: 'SPF_SOFTFAIL', points: 1 });
  const dkim = auth.dkim.results.map((row) => row.status.result);
  if (dkim.length > 0 && !dkim.includes('pass') && dkim.includes('fail'))
    rules.push({ name: 'DKIM_FAIL', points: 1 });
  const dmarc = auth.dmarc ? auth.dmarc.status.result : 'none';
  if (dmarc === 'fail') rules.push({ name: 'DMARC_FAIL', points: 3 });
  else if (dmarc === 'pass') rules.push({ name: 'DMARC_PASS', points: -1 });
  return rules;
}

export function ownScore(input: OwnScoreInput): { score: number; rules: ScoreRule[] } {
  const rules: ScoreRule[] = [];
  if (input.message.includes(GTUBE, 0, 'latin1')) rules.push({ name: 'GTUBE', points: 1000 });
  for (const listing of input.listings) {
    rules.push({ name: `DNSBL(${listing.split('=')[0]})`, points: input.dnsblScore });
  }
  if (input.auth) rules.push(...authRules(input.auth));
  if (headerFieldValues(input.message, 'Message-ID').length === 0)
    rules.push({ name: 'MISSING_MID', points: 0.5 });
  if (headerFieldValues(input.message, 'Date').length === 0)
    rules.push({ name: 'MISSING_DATE', points: 0.5 });
  const score = rules.reduce((sum, rule) => sum + rule.points, 0);
  return { score, rules };
}
