/**
 * The spam filter's part of the store (see Store.listSpamEntries and Store.greylist), shared by
 * the engines: the types, and the one normalisation of list entries so that both engines accept
 * and refuse the same patterns.
 *
 * - Allow/block lists are per user: an entry is a sender address ("boss@example.com") or a domain
 *   ("example.com", written "@example.com" too), kept lower-case; one pattern is on one list at a
 *   time (adding it to the other list moves it).
 * - Greylisting triplets (client network, sender, recipient: server/spam/greylist.ts builds the
 *   key) live in the store so that every server process on it shares them.
 */
import { StoreError } from './errors.ts';
import type { Id } from './types.ts';

export type SpamListKind = 'allow' | 'block';

export interface SpamListEntry {
  userId: Id;
  list: SpamListKind;
  /** "user@example.com" or "example.com" (lower case). */
  pattern: string;
  createdAt: Date;
}

export interface GreylistResult {
  /** True when the triplet waited long enough (it is remembered for the expiry from now on). */
  passed: boolean;
  /** When a retry is (or was) first accepted. */
  retryAt: Date;
}

const ADDRESS = /^[^\s@<>,;]+@[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const DOMAIN = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
/** Long enough for any address (RFC 5321 4.5.3.1.3: a path of at most 256 octets). */
const MAX_PATTERN = 256;

/** The stored form of a pattern, or INVALID: "Boss@Example.COM" → "boss@example.com", "@example.com" → "example.com". */
export function normalizeSpamPattern(pattern: string): string {
  const lower = typeof pattern === 'string' ? pattern.trim().toLowerCase() : '';
  const value = lower.startsWith('@') ? lower.slice(1) : lower;
  if (value.length === 0 || value.length > MAX_PATTERN || !(ADDRESS.test(value) || DOMAIN.test(value))) {
    throw new StoreError('INVALID', `not a sender address or domain: ${JSON.stringify(pattern)}`);
  }
  return value;
}

export function checkSpamList(list: string): SpamListKind {
  if (list !== 'allow' && list !== 'block')
    throw new StoreError('INVALID', `list must be allow or block, got ${list}`);
  return list;
}

export function checkGreylist(triplet: string, delayMs: number, expiryMs: number): void {
  if (typeof triplet !== 'string' || triplet === '')
    throw new StoreError('INVALID', 'Greylist triplet is empty');
  if (!Number.isFinite(delayMs) || delayMs < 0)
    throw new StoreError('INVALID', `Greylist delay must be 0 or more ms, got ${delayMs}`);
  if (!Number.isFinite(expiryMs) || expiryMs <= 0)
    throw new StoreError('INVALID', `Greylist expiry must be positive, got ${expiryMs}`);
}
