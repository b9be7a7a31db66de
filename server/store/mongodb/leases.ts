/**
 * Leases (Store.acquireLease) without transactions or TTL indexes: the unique `_id` decides who
 * creates a lease, and a conditional update (ours, or expired) decides who takes an existing one.
 * Both are single-document writes, atomic on every server.
 */
import { isDuplicateKey, type Collections } from './schema.ts';

export async function acquireLease(
  collections: Collections,
  key: string,
  holder: string,
  ttlMs: number,
): Promise<boolean> {
  // Two rounds: the lease may be released between our failed insert and our update.
  for (let round = 0; round < 2; round += 1) {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlMs);
    try {
      await collections.leases.insertOne({ _id: key, holder, expiresAt });
      return true;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const taken = await collections.leases.updateOne(
      { _id: key, $or: [{ holder }, { expiresAt: { $lt: now } }] },
      { $set: { holder, expiresAt } },
    );
    if (taken.matchedCount === 1) return true;
    if ((await collections.leases.countDocuments({ _id: key }, { limit: 1 })) > 0) return false;
  }
  return false;
}

export async function releaseLease(collections: Collections, key: string, holder: string): Promise<void> {
  await collections.leases.deleteOne({ _id: key, holder });
}
