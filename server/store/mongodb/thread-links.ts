/**
 * Thread ids of the mongodb engine (server/store/thread-ids.ts): the links of each user's thread
 * keys in `thread_links` (unique {user, id}), the thread id of each message in its `threadId`, and
 * the backfill of the messages stored before, done once at start-up (a `meta` mark).
 *
 * Without transactions two deliveries that start one thread at the same moment may both pick a new
 * id; the unique index keeps one link per key, and the one whose links lost adopts the winner's id
 * (re-read after writing), so both end in one thread.
 */
import type { Collection } from 'mongodb';
import { chooseThread, lookupKeys, threadKeysOfMessage, type ThreadKeys } from '../thread-ids.ts';
import { readBlobHeads } from './blobs.ts';
import { isDuplicateKey, type Collections } from './schema.ts';

export interface ThreadLinkDoc {
  user: number;
  /** A thread key: `<message-id>` or `subject:<base subject>`. */
  id: string;
  thread: string;
}

const THREAD_IDS_META = 'threadIds';
/** Bytes of a stored body read for its header in the backfill (a longer header is cut there). */
const HEAD_BYTES = 64 * 1024;
const BACKFILL_BATCH = 200;

function links(c: Collections): Collection<ThreadLinkDoc> {
  return c.db.collection<ThreadLinkDoc>('thread_links');
}

export async function ensureThreadLinkIndexes(c: Collections): Promise<void> {
  await links(c).createIndex({ user: 1, id: 1 }, { unique: true });
}

export async function deleteThreadLinksOf(c: Collections, userId: number): Promise<void> {
  await links(c).deleteMany({ user: userId });
}

async function linkedThreads(
  c: Collections,
  userId: number,
  keys: readonly string[],
): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const found = await links(c)
    .find({ user: userId, id: { $in: [...keys] } }, { projection: { _id: 0, id: 1, thread: 1 } })
    .toArray();
  return new Map(found.map((doc) => [doc.id, doc.thread]));
}

/**
 * The thread of a message being stored for this user, its new links written. `given` (an import's
 * or a restore's thread id) is kept, and the message's unlinked keys are linked to it.
 */
export async function assignThread(
  c: Collections,
  userId: number,
  keys: ThreadKeys,
  given?: string | null,
): Promise<string> {
  const [thread] = await assignThreads(c, userId, [{ keys, given }]);
  return thread!;
}

/**
 * The threads of a batch of one user's messages (a delivery, an append, a restore), in the order
 * given: one read of the links of every key and one write of the new ones for the whole batch; a
 * message that started a thread whose first key another writer linked first (a concurrent delivery)
 * is read back and adopts that writer's thread.
 */
export async function assignThreads(
  c: Collections,
  userId: number,
  items: ReadonlyArray<{ keys: ThreadKeys; given?: string | null }>,
): Promise<string[]> {
  const linked = await linkedThreads(c, userId, [...new Set(items.flatMap(({ keys }) => lookupKeys(keys)))]);
  const newLinks = new Map<string, string>();
  const starters = new Map<number, string>();
  const threads = items.map(({ keys, given }, index) => {
    const choice = chooseThread(keys, linked);
    // A message that began a thread of its own is checked against concurrent writers below.
    const startsThread = !given && lookupKeys(keys).every((key) => !linked.has(key));
    if (given) choice.threadId = given;
    for (const key of choice.newLinks) {
      linked.set(key, choice.threadId);
      newLinks.set(key, choice.threadId);
    }
    if (startsThread && choice.newLinks.length > 0) starters.set(index, choice.newLinks[0]!);
    return choice.threadId;
  });
  if (newLinks.size === 0) return threads;
  const ops = [...newLinks];
  // Which links this write inserted (by op index); null when unknown (another writer raced us).
  let inserted: Set<number> | null = null;
  try {
    const result = await links(c).bulkWrite(
      ops.map(([id, thread]) => ({
        updateOne: { filter: { user: userId, id }, update: { $setOnInsert: { thread } }, upsert: true },
      })),
      { ordered: false },
    );
    inserted = new Set(Object.keys(result.upsertedIds).map(Number));
  } catch (error) {
    // Another writer linked some keys at the same moment: its links stay.
    if (!isDuplicateKey(error)) throw error;
  }
  // A starter whose first key this write inserted won any race: only the others are read back.
  const opOf = new Map(ops.map(([id], index) => [id, index]));
  const contested = [...starters].filter(([, key]) => inserted === null || !inserted.has(opOf.get(key)!));
  if (contested.length === 0) return threads;
  const now = await linkedThreads(c, userId, [...new Set(contested.map(([, key]) => key))]);
  const adopted = new Map<string, string>();
  for (const [index, key] of contested) {
    const winner = now.get(key);
    if (winner !== undefined && winner !== threads[index]) adopted.set(threads[index]!, winner);
  }
  return adopted.size === 0 ? threads : threads.map((thread) => adopted.get(thread) ?? thread);
}

/** The thread of a stored body for this user (a copy to another user's mailbox). */
export async function assignThreadOfBlob(c: Collections, userId: number, blob: string): Promise<string> {
  const heads = await readBlobHeads(c, [{ blobId: blob, bytes: HEAD_BYTES }]);
  return assignThread(c, userId, threadKeysOfMessage(heads.get(blob) ?? Buffer.alloc(0)));
}

/**
 * Gives the messages stored before thread ids theirs: per user, in the order they arrived, as if
 * delivered in that order. Done once (a `meta` mark); a second server starting meanwhile does the
 * same work, and writes only where no thread id is set yet.
 */
export async function backfillThreadIds(c: Collections): Promise<void> {
  if (await c.meta.findOne({ _id: THREAD_IDS_META })) return;
  for await (const user of c.users.find({}, { projection: { _id: 1 } })) {
    const mailboxes = await c.mailboxes.find({ user: user._id }, { projection: { _id: 1 } }).toArray();
    if (mailboxes.length === 0) continue;
    const pending = await c.messages
      .find(
        { mailbox: { $in: mailboxes.map((mailbox) => mailbox._id) }, threadId: { $exists: false } },
        { projection: { _id: 0, mailbox: 1, uid: 1, blob: 1, internalDate: 1 } },
      )
      .toArray();
    pending.sort(
      (a, b) => a.internalDate.getTime() - b.internalDate.getTime() || a.mailbox - b.mailbox || a.uid - b.uid,
    );
    const byBlob = new Map<string, string>();
    for (let start = 0; start < pending.length; start += BACKFILL_BATCH) {
      const batch = pending.slice(start, start + BACKFILL_BATCH);
      const unknown = [...new Set(batch.map((doc) => doc.blob))].filter((blob) => !byBlob.has(blob));
      const heads = await readBlobHeads(
        c,
        unknown.map((blobId) => ({ blobId, bytes: HEAD_BYTES })),
      );
      for (const doc of batch) {
        let thread = byBlob.get(doc.blob);
        if (thread === undefined) {
          thread = await assignThread(
            c,
            user._id,
            threadKeysOfMessage(heads.get(doc.blob) ?? Buffer.alloc(0)),
          );
          byBlob.set(doc.blob, thread);
        }
        await c.messages.updateOne(
          { mailbox: doc.mailbox, uid: doc.uid, threadId: { $exists: false } },
          { $set: { threadId: thread } },
        );
      }
    }
  }
  await c.meta
    .updateOne({ _id: THREAD_IDS_META }, { $setOnInsert: { version: 1 } }, { upsert: true })
    .catch((error: unknown) => {
      if (!isDuplicateKey(error)) throw error;
    });
}
