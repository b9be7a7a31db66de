/**
 * Walking a whole store through its contract, shared by `mallard db migrate` (migrate.ts) and
 * backups (server/backup/snapshot.ts): every user, and message bodies read in bounded batches so
 * that memory stays the same whatever an account's size.
 */
import type { Store, User } from './types.ts';

/** Bytes of bodies read at once, unless the caller says otherwise. */
export const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;
/** Bodies read at once at the most, however small. */
const BATCH_MESSAGES = 200;
const USER_PAGE = 200;
/** The delivery history starts here (no store has earlier days). */
export const HISTORY_START = '2000-01-01';

/** Every user of a store, by username. */
export async function allUsers(store: Store): Promise<User[]> {
  const users: User[] = [];
  for (let offset = 0; ; offset += USER_PAGE) {
    const page = await store.listUsers({ offset, limit: USER_PAGE });
    users.push(...page.users);
    if (page.users.length < USER_PAGE) break;
  }
  return users.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
}

/**
 * `items` in order, in batches of at most BATCH_MESSAGES whose `sizeOf` add up to at most
 * `batchBytes` (a single bigger item makes a batch of its own).
 */
export function* sizedBatches<T>(
  items: readonly T[],
  batchBytes: number,
  sizeOf: (item: T) => number,
): Generator<T[]> {
  for (let start = 0; start < items.length;) {
    const batch: T[] = [];
    let bytes = 0;
    while (start < items.length && batch.length < BATCH_MESSAGES) {
      const next = items[start]!;
      if (batch.length > 0 && bytes + sizeOf(next) > batchBytes) break;
      batch.push(next);
      bytes += sizeOf(next);
      start++;
    }
    yield batch;
  }
}
