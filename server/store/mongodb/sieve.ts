/**
 * Sieve scripts and memory on MongoDB (server/store/sieve.ts), without transactions: one document
 * per script (`_id` "user:name"), one pointer document per user naming the active script (so that
 * activation is one atomic write and two scripts can never both be active), and one document per
 * memory key (`_id` "user:key"). A key is claimed by an upsert whose filter only matches an expired
 * entry: a live one makes the insert collide, and two processes at once cannot both claim it.
 */
import type { Collection } from 'mongodb';
import { StoreError } from '../errors.ts';
import type { SieveMemoryEntry, SieveScriptRecord } from '../sieve.ts';
import { requireUser } from './docs.ts';
import { isDuplicateKey, type Collections } from './schema.ts';

interface ScriptDoc {
  _id: string;
  user: number;
  name: string;
  content: string;
  updatedAt: Date;
}

interface ActiveDoc {
  _id: number;
  name: string;
}

interface MemoryDoc {
  _id: string;
  user: number;
  expiresAt: Date;
}

function scripts(c: Collections): Collection<ScriptDoc> {
  return c.db.collection<ScriptDoc>('sieve_scripts');
}

function actives(c: Collections): Collection<ActiveDoc> {
  return c.db.collection<ActiveDoc>('sieve_active');
}

function memory(c: Collections): Collection<MemoryDoc> {
  return c.db.collection<MemoryDoc>('sieve_memory');
}

export async function ensureSieveIndexes(c: Collections): Promise<void> {
  await scripts(c).createIndex({ user: 1, name: 1 });
  await memory(c).createIndex({ expiresAt: 1 });
  await memory(c).createIndex({ user: 1 });
}

const scriptId = (userId: number, name: string): string => `${userId}:${name}`;

async function activeName(c: Collections, userId: number): Promise<string | null> {
  return (await actives(c).findOne({ _id: userId }))?.name ?? null;
}

function recordOf(doc: ScriptDoc, active: string | null): SieveScriptRecord {
  return {
    userId: String(doc.user),
    name: doc.name,
    content: doc.content,
    active: doc.name === active,
    updatedAt: doc.updatedAt,
  };
}

export async function listSieveScripts(c: Collections, userId: number): Promise<SieveScriptRecord[]> {
  const [docs, active] = await Promise.all([
    scripts(c).find({ user: userId }).sort({ name: 1 }).toArray(),
    activeName(c, userId),
  ]);
  return docs.map((doc) => recordOf(doc, active));
}

export async function getSieveScript(
  c: Collections,
  userId: number,
  name: string,
): Promise<SieveScriptRecord | null> {
  const doc = await scripts(c).findOne({ _id: scriptId(userId, name) });
  return doc ? recordOf(doc, await activeName(c, userId)) : null;
}

export async function getActiveSieveScript(
  c: Collections,
  userId: number,
): Promise<SieveScriptRecord | null> {
  const name = await activeName(c, userId);
  return name === null ? null : getSieveScript(c, userId, name);
}

export async function putSieveScript(
  c: Collections,
  userId: number,
  name: string,
  content: string,
): Promise<SieveScriptRecord> {
  await requireUser(c, userId);
  const doc = await scripts(c).findOneAndUpdate(
    { _id: scriptId(userId, name) },
    { $set: { content, updatedAt: new Date() }, $setOnInsert: { user: userId, name } },
    { upsert: true, returnDocument: 'after' },
  );
  return recordOf(doc!, await activeName(c, userId));
}

async function requireScript(c: Collections, userId: number, name: string): Promise<ScriptDoc> {
  const doc = await scripts(c).findOne({ _id: scriptId(userId, name) });
  if (!doc) throw new StoreError('NONEXISTENT', `no script ${JSON.stringify(name)}`);
  return doc;
}

export async function activateSieveScript(
  c: Collections,
  userId: number,
  name: string | null,
): Promise<void> {
  if (name === null) {
    await actives(c).deleteOne({ _id: userId });
    return;
  }
  await requireScript(c, userId, name);
  await actives(c).updateOne({ _id: userId }, { $set: { name } }, { upsert: true });
}

export async function deleteSieveScript(c: Collections, userId: number, name: string): Promise<void> {
  await requireScript(c, userId, name);
  if ((await activeName(c, userId)) === name) {
    throw new StoreError('CANNOT', `script ${JSON.stringify(name)} is active`);
  }
  await scripts(c).deleteOne({ _id: scriptId(userId, name) });
}

export async function renameSieveScript(
  c: Collections,
  userId: number,
  from: string,
  to: string,
): Promise<void> {
  const doc = await requireScript(c, userId, from);
  if (from === to) return;
  try {
    await scripts(c).insertOne({ ...doc, _id: scriptId(userId, to), name: to });
  } catch (error) {
    if (isDuplicateKey(error)) throw new StoreError('ALREADYEXISTS', `script ${JSON.stringify(to)} exists`);
    throw error;
  }
  // The active pointer follows the name before the old document goes, so a reader never finds the
  // active script missing for long.
  await actives(c).updateOne({ _id: userId, name: from }, { $set: { name: to } });
  await scripts(c).deleteOne({ _id: scriptId(userId, from) });
}

export async function claimSieveMemory(
  c: Collections,
  userId: number,
  key: string,
  expiresAt: Date,
  now: Date,
): Promise<boolean> {
  await requireUser(c, userId);
  try {
    await memory(c).updateOne(
      { _id: `${userId}:${key}`, expiresAt: { $lte: now } },
      { $set: { expiresAt }, $setOnInsert: { user: userId } },
      { upsert: true },
    );
  } catch (error) {
    // A live entry: the filter did not match it and the insert collided with it.
    if (isDuplicateKey(error)) return false;
    throw error;
  }
  await memory(c).deleteMany({ expiresAt: { $lte: now } });
  return true;
}

export async function listSieveMemory(
  c: Collections,
  userId: number,
  now: Date,
): Promise<SieveMemoryEntry[]> {
  const docs = await memory(c)
    .find({ user: userId, expiresAt: { $gt: now } })
    .sort({ _id: 1 })
    .toArray();
  const prefix = `${userId}:`;
  return docs.map((doc) => ({ key: doc._id.slice(prefix.length), expiresAt: doc.expiresAt }));
}

export async function hasSieveMemory(
  c: Collections,
  userId: number,
  key: string,
  now: Date,
): Promise<boolean> {
  return (
    (await memory(c).countDocuments({ _id: `${userId}:${key}`, expiresAt: { $gt: now } }, { limit: 1 })) > 0
  );
}

/** A deleted user's scripts and memory (accounts.deleteUser). */
export async function deleteSieveOf(c: Collections, userId: number): Promise<void> {
  await scripts(c).deleteMany({ user: userId });
  await actives(c).deleteOne({ _id: userId });
  await memory(c).deleteMany({ user: userId });
}
