/**
 * Greylisting at RCPT (spam.greylisting): a (client network, sender, recipient) triplet seen for
 * the first time gets 451 4.7.1 and is accepted when retried after spam.greylist_delay. Real
 * mailers retry; most spam software does not. The client's network is its /24 (IPv4) or /64
 * (IPv6), as big senders retry from another address of a pool. Triplets live in the store, so
 * every server process on it agrees.
 */
import { isIPv4 } from 'node:net';
import type { Store } from '../store/types.ts';
import type { GreylistResult } from '../store/spam.ts';
import { listDecision } from './lists.ts';

/** "192.0.2" for 192.0.2.7; the first four groups of an IPv6 address. */
export function networkOf(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+)\.\d+$/i.exec(ip);
  if (v4 && isIPv4(ip.replace(/^::ffff:/i, ''))) return v4[1]!;
  const [head = ''] = ip.toLowerCase().split('::');
  return head.split(':').slice(0, 4).join(':');
}

export function tripletOf(clientIp: string, sender: string, recipient: string): string {
  return `${networkOf(clientIp)}|${sender.toLowerCase()}|${recipient.toLowerCase()}`;
}

export class Greylister {
  constructor(
    private readonly store: Store,
    private readonly delayMs: number,
    private readonly expiryMs: number,
  ) {}

  check(clientIp: string, sender: string, recipient: string): Promise<GreylistResult> {
    return this.store.greylist(tripletOf(clientIp, sender, recipient), this.delayMs, this.expiryMs);
  }
}

export interface GreylistQuery {
  clientIp: string;
  /** MAIL FROM ("" for the null sender). */
  sender: string;
  recipient: string;
  userId: string;
}

/**
 * What SMTP-in asks at RCPT: when the client may retry, or null to admit the recipient now. A
 * sender on the recipient's allow list is never held up.
 */
export function greylistGate(
  store: Store,
  greylister: Greylister,
): (query: GreylistQuery) => Promise<Date | null> {
  return async (query) => {
    const entries = await store.listSpamEntries(query.userId);
    if (
      entries.length > 0 &&
      listDecision(entries, query.sender ? [query.sender.toLowerCase()] : [])?.list === 'allow'
    ) {
      return null;
    }
    const result = await greylister.check(query.clientIp, query.sender, query.recipient);
    return result.passed ? null : result.retryAt;
  };
}
