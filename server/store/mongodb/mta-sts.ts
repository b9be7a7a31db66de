/** The MTA-STS policy cache on MongoDB (Store.saveStsPolicy): one document per domain (`_id`). */
import type { Collection } from 'mongodb';
import type { CachedStsPolicy } from '../mta-sts.ts';
import type { Collections } from './schema.ts';

interface StsPolicyDoc {
  _id: string;
  policy: string;
  expiresAt: Date;
}

/** Not on `Collections`: the cache keeps to its own collection and this module. */
function policies(collections: Collections): Collection<StsPolicyDoc> {
  return collections.db.collection<StsPolicyDoc>('mta_sts_policies');
}

export async function saveStsPolicy(
  collections: Collections,
  domain: string,
  cached: CachedStsPolicy,
): Promise<void> {
  await policies(collections).replaceOne(
    { _id: domain },
    { policy: cached.policy, expiresAt: cached.expiresAt },
    { upsert: true },
  );
}

export async function getStsPolicy(
  collections: Collections,
  domain: string,
): Promise<CachedStsPolicy | null> {
  const doc = await policies(collections).findOne({ _id: domain });
  return doc ? { policy: doc.policy, expiresAt: doc.expiresAt } : null;
}
