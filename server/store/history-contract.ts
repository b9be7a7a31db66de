/**
 * The delivery history's part of the store contract suite (see contract.ts, which runs it for
 * every engine): per-day counters that add up across concurrent writers and read back by range.
 */
import { describe, expect, it } from 'vitest';
import { StoreError } from './errors.ts';
import type { DeliveryOutcome } from './history.ts';
import type { Store } from './types.ts';

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
}

export function historyContract(current: () => Store): void {
  describe('delivery history', () => {
    it('counts each outcome per day and reads a range back, oldest first', async () => {
      const store = current();
      await store.countDelivery('2026-03-01', 'local');
      await store.countDelivery('2026-03-01', 'local', 2);
      await store.countDelivery('2026-03-01', 'bounced');
      await store.countDelivery('2026-02-28', 'sent', 5);
      await store.countDelivery('2026-03-03', 'deferred');
      await store.countDelivery('2026-04-01', 'sent'); // outside the range read below
      expect(await store.deliveryHistory('2026-02-28', '2026-03-31')).toEqual([
        { day: '2026-02-28', local: 0, sent: 5, deferred: 0, bounced: 0 },
        { day: '2026-03-01', local: 3, sent: 0, deferred: 0, bounced: 1 },
        { day: '2026-03-03', local: 0, sent: 0, deferred: 1, bounced: 0 },
      ]);
      expect(await store.deliveryHistory('2025-01-01', '2025-12-31')).toEqual([]);
    });

    it('loses no count when many writers count the same new day at once', async () => {
      const store = current();
      const outcomes: DeliveryOutcome[] = ['local', 'sent', 'deferred', 'bounced'];
      await Promise.all(
        Array.from({ length: 40 }, (_, index) => store.countDelivery('2026-05-05', outcomes[index % 4]!)),
      );
      expect(await store.deliveryHistory('2026-05-05', '2026-05-05')).toEqual([
        { day: '2026-05-05', local: 10, sent: 10, deferred: 10, bounced: 10 },
      ]);
    });

    it('refuses a malformed day, an unknown outcome and a count that is not positive', async () => {
      const store = current();
      for (const day of ['', '2026-3-01', '2026-02-30', 'today', '2026-03-01T00:00']) {
        await rejectsWithCode(store.countDelivery(day, 'local'), 'INVALID');
      }
      await rejectsWithCode(store.countDelivery('2026-03-01', 'lost' as DeliveryOutcome), 'INVALID');
      await rejectsWithCode(store.countDelivery('2026-03-01', 'local', 0), 'INVALID');
      await rejectsWithCode(store.countDelivery('2026-03-01', 'local', 1.5), 'INVALID');
      await rejectsWithCode(store.deliveryHistory('2026-03-01', 'x'), 'INVALID');
      expect(await store.deliveryHistory('2026-01-01', '2026-12-31')).toEqual([]);
    });
  });
}
