/**
 * What a DMARC result (RFC 7489 6.3, with the effective policy mailauth worked out: p, sp or np,
 * one level down under t=y) makes of a message: p=reject is refused at the end of DATA with
 * 550 5.7.1 (or filed as Junk when `inbound.dmarc_reject` says quarantine), p=quarantine goes to
 * Junk, p=none and everything that is not a DMARC failure is accepted. SPF failing on its own
 * never rejects (a forwarded message fails SPF; DMARC is what ties it to the author).
 */
import type { DMARCResult } from 'mailauth';
import { reply } from '../../smtp/replies.ts';
import type { CheckOutcome } from '../types.ts';

export type RejectPolicy = 'reject' | 'quarantine';

export function dmarcOutcome(dmarc: DMARCResult | false, onReject: RejectPolicy): CheckOutcome {
  if (!dmarc || dmarc.status.result !== 'fail') return {};
  const domain = dmarc.status.header?.from ?? dmarc.domain;
  const policy = dmarc.policy;
  const reason = `dmarc=fail policy=${policy} (from ${domain})`;
  if (policy === 'reject' && onReject === 'reject') {
    return {
      action: 'reject',
      reply: reply(550, '5.7.1', `Message rejected: DMARC policy of ${domain} (unauthenticated From)`),
      reasons: [reason],
    };
  }
  if (policy === 'reject' || policy === 'quarantine') return { action: 'junk', reasons: [reason] };
  return {};
}
