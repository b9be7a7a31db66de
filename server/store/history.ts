/**
 * The delivery history's part of the store contract (Store.countDelivery, Store.deliveryHistory):
 * one counter row per calendar day and outcome, so the dashboard's "Deliveries today" and the
 * 30-day graph survive restarts and count every process (LMTP, SMTP, submission, the outbound
 * worker, `mallard deliver`) alike.
 *
 * Days are the server's local calendar days ("YYYY-MM-DD"), chosen by the caller (dayOf): a
 * household reads "today" on its own clock.
 */
import { StoreError } from './errors.ts';
import type { Store } from './types.ts';

/** local: stored in a mailbox here; sent: accepted by the next hop; deferred and bounced: outbound. */
export type DeliveryOutcome = 'local' | 'sent' | 'deferred' | 'bounced';
export const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = ['local', 'sent', 'deferred', 'bounced'];

export interface DeliveryDay {
  day: string;
  local: number;
  sent: number;
  deferred: number;
  bounced: number;
}

/** The local calendar day of a moment, "YYYY-MM-DD". */
export function dayOf(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The `days` days ending with `last` (oldest first), as day keys. */
export function lastDays(last: Date, days: number): string[] {
  return Array.from({ length: days }, (_, index) => {
    const date = new Date(last.getFullYear(), last.getMonth(), last.getDate() - (days - 1 - index));
    return dayOf(date);
  });
}

export function emptyDay(day: string): DeliveryDay {
  return { day, local: 0, sent: 0, deferred: 0, bounced: 0 };
}

/** INVALID unless a real "YYYY-MM-DD" day. */
export function checkDay(day: string): string {
  const match = typeof day === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(day) : null;
  if (!match || dayOf(new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) !== day) {
    throw new StoreError('INVALID', `Not a day (YYYY-MM-DD): ${String(day)}`);
  }
  return day;
}

/** INVALID for an unknown outcome or a count that is not a positive integer. */
export function checkDeliveryCount(outcome: DeliveryOutcome, count: number): void {
  if (!DELIVERY_OUTCOMES.includes(outcome)) {
    throw new StoreError('INVALID', `Unknown delivery outcome ${String(outcome)}`);
  }
  if (!Number.isSafeInteger(count) || count <= 0) {
    throw new StoreError('INVALID', `A delivery count is a positive integer, got ${count}`);
  }
}

/** Today's counts (the dashboard's "Deliveries today", `mallard status`). */
export async function deliveriesToday(store: Store, now = new Date()): Promise<DeliveryDay> {
  const [today] = await store.deliveryHistory(dayOf(now), dayOf(now));
  return today ?? emptyDay(dayOf(now));
}
