/** The delivery history's table (Store.countDelivery): one row per day, a column per outcome. */
import type { DeliveryDay, DeliveryOutcome } from '../history.ts';
import type { Sql } from './database.ts';

export function countDelivery(sql: Sql, day: string, outcome: DeliveryOutcome, count: number): void {
  // The column name comes from DELIVERY_OUTCOMES (checked by the caller), never from input text.
  sql.run(
    `INSERT INTO delivery_days (day, ${outcome}) VALUES (?, ?)
     ON CONFLICT (day) DO UPDATE SET ${outcome} = ${outcome} + excluded.${outcome}`,
    day,
    count,
  );
}

export function deliveryHistory(sql: Sql, first: string, last: string): DeliveryDay[] {
  return sql.all<DeliveryDay>(
    'SELECT day, local, sent, deferred, bounced FROM delivery_days WHERE day >= ? AND day <= ? ORDER BY day',
    first,
    last,
  );
}
