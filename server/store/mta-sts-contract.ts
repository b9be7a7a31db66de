/**
 * The MTA-STS policy cache's part of the store contract suite (see contract.ts): a policy per
 * domain, case-insensitive, replaced by a newer one, with its expiry.
 */
import { describe, expect, it } from 'vitest';
import { StoreError } from './errors.ts';
import type { Store } from './types.ts';

export function mtaStsContract(current: () => Store): void {
  describe('MTA-STS policy cache', () => {
    it('keeps a policy per domain, case-insensitively, and replaces it', async () => {
      const store = current();
      const expiresAt = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
      expect(await store.getStsPolicy('example.org')).toBeNull();
      await store.saveStsPolicy('Example.ORG', { policy: '{"id":"1","mode":"enforce"}', expiresAt });
      expect(await store.getStsPolicy('example.org')).toEqual({
        policy: '{"id":"1","mode":"enforce"}',
        expiresAt,
      });
      const later = new Date(expiresAt.getTime() + 86_400_000);
      await store.saveStsPolicy('example.org', { policy: '{"id":"2","mode":"testing"}', expiresAt: later });
      expect(await store.getStsPolicy('EXAMPLE.org')).toEqual({
        policy: '{"id":"2","mode":"testing"}',
        expiresAt: later,
      });
      expect(await store.getStsPolicy('other.example')).toBeNull();
    });

    it('refuses an empty domain or policy and a missing expiry', async () => {
      const store = current();
      const bad = [
        () => store.saveStsPolicy('', { policy: '{}', expiresAt: new Date() }),
        () => store.saveStsPolicy('example.org', { policy: '', expiresAt: new Date() }),
        () => store.saveStsPolicy('example.org', { policy: '{}', expiresAt: new Date(Number.NaN) }),
        () => store.getStsPolicy('a b'),
      ];
      for (const call of bad) {
        const error = await call().then(
          () => null,
          (reason: unknown) => reason,
        );
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe('INVALID');
      }
    });
  });
}
