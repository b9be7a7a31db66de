/**
 * The MTA-STS policy cache's part of the store contract (Store.saveStsPolicy, Store.getStsPolicy):
 * a fetched policy is kept per domain until it expires (its max_age), so that it keeps applying
 * across restarts (RFC 8461 5.1: a sender keeps using a cached policy it cannot refresh).
 */
import { StoreError } from './errors.ts';

export interface CachedStsPolicy {
  /** The policy as fetched and parsed, as JSON (server/outbound/mta-sts.ts reads it back). */
  policy: string;
  expiresAt: Date;
}

/** The domain, lower-cased; INVALID when empty or with spaces. */
export function stsDomainOf(domain: string): string {
  if (typeof domain !== 'string' || !/^[^\s@]+$/.test(domain)) {
    throw new StoreError('INVALID', `Not a domain: ${String(domain)}`);
  }
  return domain.toLowerCase();
}

export function checkStsPolicy(cached: CachedStsPolicy): void {
  if (typeof cached.policy !== 'string' || cached.policy === '') {
    throw new StoreError('INVALID', 'An MTA-STS policy is a non-empty text');
  }
  if (!(cached.expiresAt instanceof Date) || Number.isNaN(cached.expiresAt.getTime())) {
    throw new StoreError('INVALID', 'An MTA-STS policy needs its expiry');
  }
}
