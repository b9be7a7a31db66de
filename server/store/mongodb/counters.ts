/**
 * Atomic counters (ids of users, mailboxes, app passwords, rules, journal entries; the rules
 * version). `$inc` on one document is atomic everywhere; the value *before* the increment is what
 * we take, as mongo-java-server can hand out the same value twice under concurrency when asked for
 * the document after the update.
 */
import type { Collections, CounterName } from './schema.ts';

/** Reserves `count` consecutive values of a counter; returns the first. */
export async function nextIds(collections: Collections, name: CounterName, count = 1): Promise<number> {
  const before = await collections.counters.findOneAndUpdate(
    { _id: name },
    { $inc: { seq: count } },
    { upsert: true, returnDocument: 'before' },
  );
  return (before?.seq ?? 0) + 1;
}

export async function counterValue(collections: Collections, name: CounterName): Promise<number> {
  return (await collections.counters.findOne({ _id: name }))?.seq ?? 0;
}
