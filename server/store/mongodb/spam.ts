/**
 * The spam filter on MongoDB (Store.listSpamEntries, Store.greylist), without transactions: one
 * document per list entry (`_id` "user:pattern", so a pattern is on one list of a user at most),
 * one per greylisting triplet (`_id` the triplet). Every change is a single-document write; a
 * triplet is created by an upsert that only sets fields on insert, so two processes seeing a new
 * triplet at once both learn that it did not pass.
 */
import type { Collection } from 'mongodb';
import { StoreError } from '../errors.ts';
import { normalizeSpamPattern, type GreylistResult, type SpamListEntry, type SpamListKind } from '../spam.ts';
import { requireUser } from './docs.ts';
import { isDuplicateKey, type Collections } from './schema.ts';

interface SpamListDoc {
  _id: string;
  user: number;
  pattern: string;
  list: SpamListKind;
  createdAt: Date;
}

interface GreylistDoc {
  _id: string;
  firstSeen: Date;
  expiresAt: Date;
}

/** Not on `Collections`: the spam filter keeps to its own collections and this module. */
function spamLists(collections: Collections): Collection<SpamListDoc> {
  return collections.db.collection<SpamListDoc>('spam_lists');
}

function greylistOf(collections: Collections): Collection<GreylistDoc> {
  return collections.db.collection<GreylistDoc>('greylist');
}

export async function ensureSpamIndexes(collections: Collections): Promise<void> {
  await spamLists(collections).createIndex({ user: 1, pattern: 1 });
  await greylistOf(collections).createIndex({ expiresAt: 1 });
}

function entryOf(doc: SpamListDoc): SpamListEntry {
  return { userId: String(doc.user), list: doc.list, pattern: doc.pattern, createdAt: doc.createdAt };
}

export async function listSpamEntries(collections: Collections, userId: number): Promise<SpamListEntry[]> {
  const docs = await spamLists(collections).find({ user: userId }).sort({ pattern: 1 }).toArray();
  return docs.map(entryOf);
}

export async function setSpamEntry(
  collections: Collections,
  userId: number,
  list: SpamListKind,
  pattern: string,
): Promise<SpamListEntry> {
  const normalized = normalizeSpamPattern(pattern);
  await requireUser(collections, userId);
  const doc = await spamLists(collections).findOneAndUpdate(
    { _id: `${userId}:${normalized}` },
    { $set: { list }, $setOnInsert: { user: userId, pattern: normalized, createdAt: new Date() } },
    { upsert: true, returnDocument: 'after' },
  );
  return entryOf(doc!);
}

export async function removeSpamEntry(
  collections: Collections,
  userId: number,
  pattern: string,
): Promise<void> {
  const normalized = normalizeSpamPattern(pattern);
  const result = await spamLists(collections).deleteOne({ _id: `${userId}:${normalized}` });
  if (result.deletedCount === 0)
    throw new StoreError('NONEXISTENT', `${normalized} is on no list of user ${userId}`);
}

/** A deleted user's entries (accounts.deleteUser). */
export async function deleteSpamEntriesOf(collections: Collections, userId: number): Promise<void> {
  await spamLists(collections).deleteMany({ user: userId });
}

export async function greylist(
  collections: Collections,
  triplet: string,
  delayMs: number,
  expiryMs: number,
  now: Date,
): Promise<GreylistResult> {
  const triplets = greylistOf(collections);
  const fresh = { firstSeen: now, expiresAt: new Date(now.getTime() + expiryMs) };
  const notYet = { passed: false, retryAt: new Date(now.getTime() + delayMs) };
  let before: GreylistDoc | null;
  try {
    before = await triplets.findOneAndUpdate(
      { _id: triplet },
      { $setOnInsert: fresh },
      { upsert: true, returnDocument: 'before' },
    );
  } catch (error) {
    // Two upserts of a new triplet at once: the other one created it, and it has not passed.
    if (isDuplicateKey(error)) return notYet;
    throw error;
  }
  if (!before) {
    // Expired ones are swept as new ones come, so the collection stays small without a TTL index.
    await triplets.deleteMany({ expiresAt: { $lt: now } });
    return notYet;
  }
  if (before.expiresAt < now) {
    // Forgotten: it starts over (only one of two processes doing this at once writes).
    await triplets.updateOne({ _id: triplet, expiresAt: before.expiresAt }, { $set: fresh });
    return notYet;
  }
  const retryAt = new Date(before.firstSeen.getTime() + delayMs);
  if (now < retryAt) return { passed: false, retryAt };
  await triplets.updateOne({ _id: triplet }, { $set: { expiresAt: fresh.expiresAt } });
  return { passed: true, retryAt };
}
