/**
 * Counts a delivery in the store's per-day history (server/store/history.ts) for the dashboard and
 * `mallard status`. The message has been stored or answered by then: a count that cannot be
 * written is logged, never turned into a failure of the delivery.
 */
import type { Logger } from '../log.ts';
import { dayOf, type DeliveryOutcome } from '../store/history.ts';
import type { Store } from '../store/types.ts';

export async function countDelivery(
  store: Store,
  outcome: DeliveryOutcome,
  log: Pick<Logger, 'warn'> | null,
  count = 1,
): Promise<void> {
  try {
    await store.countDelivery(dayOf(new Date()), outcome, count);
  } catch (error) {
    log?.warn({ err: error, outcome }, 'delivery not counted in the history');
  }
}
