/**
 * The delivery history (server/store/history.ts): per day, messages stored here, sent on,
 * deferred and bounced, from the store, so it survives restarts and counts every process and
 * `mallard deliver`. Days are the server's local calendar days; days without mail are zeros.
 */
import { z } from 'zod';
import { emptyDay, lastDays, type DeliveryDay } from '../../store/history.ts';

// Beside the history, where the CLI's `status` (which need not load zod) takes it from.
export { deliveriesToday } from '../../store/history.ts';
import type { Store } from '../../store/types.ts';
import { route } from '../router.ts';
import { deliveryDaySchema } from '../schemas.ts';

const TAG = 'Status';
const MAX_DAYS = 366;

/** The `days` days up to today, oldest first, zeros where nothing was counted. */
export async function deliveryDays(store: Store, days: number, now = new Date()): Promise<DeliveryDay[]> {
  const keys = lastDays(now, days);
  const counted = new Map(
    (await store.deliveryHistory(keys[0]!, keys.at(-1)!)).map((entry) => [entry.day, entry]),
  );
  return keys.map((day) => counted.get(day) ?? emptyDay(day));
}

export const deliveryRoutes = [
  route({
    method: 'GET',
    path: '/api/deliveries',
    operationId: 'getDeliveries',
    summary: 'Deliveries per day (stored here, sent on, deferred, bounced), oldest first, ending today',
    tag: TAG,
    query: z.object({ days: z.coerce.number().int().min(1).max(MAX_DAYS).default(30) }),
    response: {
      status: 200,
      schema: z.object({ days: z.array(deliveryDaySchema) }),
      description: 'The history',
    },
    async handler({ query, deps }) {
      return { days: await deliveryDays(deps.store, query.days) };
    },
  }),
];
