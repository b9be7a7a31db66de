/**
 * The delivery history on MongoDB (Store.countDelivery): one document per day (`_id` the day),
 * counted with an upserting $inc, a single-document atomic write that every process may make.
 */
import type { Collection } from 'mongodb';
import type { DeliveryDay, DeliveryOutcome } from '../history.ts';
import { isDuplicateKey, type Collections } from './schema.ts';

interface DeliveryDayDoc {
  _id: string;
  local?: number;
  sent?: number;
  deferred?: number;
  bounced?: number;
}

/** Not on `Collections`: the history keeps to its own collection and this module. */
function deliveryDays(collections: Collections): Collection<DeliveryDayDoc> {
  return collections.db.collection<DeliveryDayDoc>('delivery_days');
}

export async function countDelivery(
  collections: Collections,
  day: string,
  outcome: DeliveryOutcome,
  count: number,
): Promise<void> {
  const write = () =>
    deliveryDays(collections).updateOne({ _id: day }, { $inc: { [outcome]: count } }, { upsert: true });
  try {
    await write();
  } catch (error) {
    // Two processes upserting a new day at once: one insert loses on the key, its $inc then applies.
    if (!isDuplicateKey(error)) throw error;
    await write();
  }
}

export async function deliveryHistory(
  collections: Collections,
  first: string,
  last: string,
): Promise<DeliveryDay[]> {
  const docs = await deliveryDays(collections)
    .find({ _id: { $gte: first, $lte: last } })
    .sort({ _id: 1 })
    .toArray();
  return docs.map((doc) => ({
    day: doc._id,
    local: doc.local ?? 0,
    sent: doc.sent ?? 0,
    deferred: doc.deferred ?? 0,
    bounced: doc.bounced ?? 0,
  }));
}
