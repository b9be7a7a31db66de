/** Argument checks shared by the engines' lease implementations (see Store.acquireLease). */
import { StoreError } from './errors.ts';

export function checkLease(key: string, holder: string, ttlMs?: number): void {
  if (typeof key !== 'string' || key === '') throw new StoreError('INVALID', 'Lease key is empty');
  if (typeof holder !== 'string' || holder === '') {
    throw new StoreError('INVALID', 'Lease holder is empty');
  }
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)) {
    throw new StoreError('INVALID', `Lease TTL must be a positive integer of ms, got ${ttlMs}`);
  }
}
