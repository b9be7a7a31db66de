/**
 * Messages on MongoDB: append, flags, copy/move, expunge, without transactions.
 *
 * - UIDs and MODSEQs come from `$inc` on the mailbox document (the value before the increment is
 *   ours), so concurrent writers in any number of processes never share one; the unique
 *   {mailbox, uid} index backs that up.
 * - Quota: a conditional `$inc` that only matches while the new total fits.
 * - A message document is inserted only after its body has its reference and its quota is
 *   counted; the journal entry follows the document, so a reader that sees the entry finds the
 *   message.
 * - Whoever's delete actually removes a message document (deletedCount 1) releases its body and
 *   its bytes, so concurrent expunges never release twice.
 * - Flag changes are compare-and-set on the message's MODSEQ, retried when another writer got
 *   there first.
 * - An append that allocated a UID just before its mailbox was deleted (or made \Noselect) looks
 *   at the mailbox again after inserting and takes its message back (see mailboxes.ts).
 */
import { StoreError } from '../errors.ts';
import {
  DELETED,
  SEEN,
  applyFlagOperation,
  flagKey,
  hasFlag,
  keywordsOf,
  mergeUidRanges,
  sameFlags,
  sortedUniqueUids,
} from '../normalize.ts';
import type {
  AppendResult,
  CopyResult,
  Flag,
  FlagOperation,
  FlagUpdate,
  MessageSummary,
  StoreFlagsResult,
  UidRange,
} from '../types.ts';
import { addBlobReference, addReferences, releaseBlob, type PreparedBlob } from './blobs.ts';
import { backoff, requireMailbox, requireSelectableMailbox, toMessageSummary } from './docs.ts';
import { writeJournal, type NewJournalEntry } from './journal.ts';
import { isDuplicateKey, type Collections, type MailboxDoc, type MessageDoc } from './schema.ts';

const MAX_IMAP_UID = 0xffffffff;
/** Optimistic updates (quota, flags) retried this often against concurrent writers. */
const MAX_ATTEMPTS = 100;
/** Deletes sent at once when removing many messages. */
const DELETE_PARALLELISM = 16;

// --- counters ---

/** Reserves `count` consecutive UIDs and MODSEQs; returns the first of each and the mailbox before. */
async function allocateUids(
  c: Collections,
  mailboxId: number,
  count: number,
): Promise<{ firstUid: number; firstModseq: number; mailbox: MailboxDoc }> {
  const before = await c.mailboxes.findOneAndUpdate(
    { _id: mailboxId, selectable: true },
    { $inc: { uidNext: count, highestModseq: count } },
    { returnDocument: 'before' },
  );
  if (!before) {
    await requireSelectableMailbox(c, mailboxId);
    throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
  }
  // IMAP UIDs are 32-bit: the mailbox is used up (the UIDs just taken stay unused).
  if (before.uidNext + count - 1 > MAX_IMAP_UID) throw new StoreError('LIMIT', 'the mailbox ran out of UIDs');
  return { firstUid: before.uidNext, firstModseq: before.highestModseq + 1, mailbox: before };
}

/** Reserves `count` MODSEQs of a mailbox; returns the first. */
async function nextModseqs(c: Collections, mailboxId: number, count: number): Promise<number> {
  const before = await c.mailboxes.findOneAndUpdate(
    { _id: mailboxId },
    { $inc: { highestModseq: count } },
    { returnDocument: 'before', projection: { highestModseq: 1 } },
  );
  if (!before) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
  return before.highestModseq + 1;
}

// --- quota ---

/** Counts `bytes` against the user's quota (OVERQUOTA when it would be exceeded). */
export async function chargeQuota(c: Collections, userId: number, bytes: number): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const user = await c.users.findOne(
      { _id: userId },
      { projection: { username: 1, quotaBytes: 1, usedBytes: 1 } },
    );
    if (!user) throw new StoreError('NONEXISTENT', `no such user ${userId}`);
    if (bytes <= 0) return;
    const quota = user.quotaBytes;
    if (quota > 0 && user.usedBytes + bytes > quota) {
      throw new StoreError('OVERQUOTA', `quota of ${user.username} exceeded`);
    }
    // Matches only while the quota is unchanged and the new total still fits.
    const filter =
      quota > 0
        ? { _id: userId, quotaBytes: quota, usedBytes: { $lte: quota - bytes } }
        : { _id: userId, quotaBytes: 0 };
    if ((await c.users.updateOne(filter, { $inc: { usedBytes: bytes } })).matchedCount === 1) return;
    await backoff(attempt);
  }
  throw new StoreError('UNAVAILABLE', 'could not count the quota (too much contention)');
}

export async function adjustUsage(c: Collections, userId: number, delta: number): Promise<void> {
  if (delta === 0) return;
  await c.users.updateOne({ _id: userId }, { $inc: { usedBytes: delta } });
  // Never below zero (as the sqlite engine's max(0, ...)); no update pipelines, so a second step.
  if (delta < 0) await c.users.updateOne({ _id: userId, usedBytes: { $lt: 0 } }, { $set: { usedBytes: 0 } });
}

// --- documents ---

/** Records keywords as used in the mailbox; the first spelling of a keyword wins. */
export async function rememberKeywords(
  c: Collections,
  mailboxId: number,
  flags: readonly Flag[],
): Promise<void> {
  const keywords = new Map<string, string>();
  for (const keyword of keywordsOf(flags))
    if (!keywords.has(flagKey(keyword))) keywords.set(flagKey(keyword), keyword);
  await Promise.all(
    [...keywords].map(([key, keyword]) =>
      c.keywords
        .updateOne({ mailbox: mailboxId, key }, { $setOnInsert: { keyword } }, { upsert: true })
        .catch((error: unknown) => {
          // Two writers inserting the same keyword at once: the other one's spelling stays.
          if (!isDuplicateKey(error)) throw error;
        }),
    ),
  );
}

export function messageDoc(
  mailboxId: number,
  uid: number,
  modseq: number,
  flags: readonly Flag[],
  internalDate: Date,
  size: number,
  blob: string,
): MessageDoc {
  return {
    mailbox: mailboxId,
    uid,
    modseq,
    flags: [...flags],
    seen: hasFlag(flags, SEEN),
    deleted: hasFlag(flags, DELETED),
    internalDate,
    size,
    blob,
  };
}

/** The existing messages among `uids`, in UID order. */
async function messageDocs(
  c: Collections,
  mailboxId: number,
  uids: readonly number[],
): Promise<MessageDoc[]> {
  const wanted = sortedUniqueUids(uids);
  if (wanted.length === 0) return [];
  return c.messages
    .find({ mailbox: mailboxId, uid: { $in: wanted } }, { projection: { _id: 0 } })
    .sort({ uid: 1 })
    .toArray();
}

/**
 * After inserting messages: when their mailbox was deleted or made \Noselect meanwhile (its
 * UIDVALIDITY is no longer the one the UIDs were taken under), removes them again and fails.
 */
export async function takeBackIfGone(
  c: Collections,
  allocatedFrom: MailboxDoc,
  docs: readonly MessageDoc[],
): Promise<void> {
  const now = await c.mailboxes.findOne(
    { _id: allocatedFrom._id },
    { projection: { selectable: 1, uidValidity: 1, path: 1 } },
  );
  if (now && now.selectable && now.uidValidity === allocatedFrom.uidValidity) return;
  await removeDocs(c, allocatedFrom, docs, {});
  if (!now) throw new StoreError('NONEXISTENT', `mailbox ${allocatedFrom.path} was deleted`);
  throw new StoreError('CANNOT', `mailbox ${allocatedFrom.path} is not selectable`);
}

/**
 * Deletes message documents one by one and releases what the deleted ones held (bodies, bytes).
 * Returns the documents this call removed (others may have been removed concurrently).
 */
async function removeDocs(
  c: Collections,
  mailbox: Pick<MailboxDoc, '_id' | 'user'>,
  docs: readonly MessageDoc[],
  condition: { deleted?: true },
): Promise<MessageDoc[]> {
  const removed: MessageDoc[] = [];
  for (let start = 0; start < docs.length; start += DELETE_PARALLELISM) {
    const batch = docs.slice(start, start + DELETE_PARALLELISM);
    const results = await Promise.all(
      batch.map((doc) => c.messages.deleteOne({ mailbox: mailbox._id, uid: doc.uid, ...condition })),
    );
    batch.forEach((doc, i) => {
      if (results[i]!.deletedCount === 1) removed.push(doc);
    });
  }
  const byBlob = new Map<string, number>();
  for (const doc of removed) byBlob.set(doc.blob, (byBlob.get(doc.blob) ?? 0) + 1);
  for (const [hash, count] of byBlob) await releaseBlob(c, hash, count);
  await adjustUsage(c, mailbox.user, -removed.reduce((total, doc) => total + doc.size, 0));
  return removed;
}

// --- append ---

export interface AppendInput {
  blob: PreparedBlob;
  flags: Flag[];
  internalDate: Date;
}

export async function appendMessage(
  c: Collections,
  mailboxId: number,
  input: AppendInput,
): Promise<AppendResult> {
  const mailbox = await requireSelectableMailbox(c, mailboxId);
  const size = input.blob.raw.length;
  // Quota and body reference are independent: both at once, each undone if the other fails.
  const [quota, body] = await Promise.allSettled([
    chargeQuota(c, mailbox.user, size),
    addBlobReference(c, input.blob),
  ]);
  if (quota.status === 'rejected' || body.status === 'rejected') {
    const charged = quota.status === 'fulfilled' ? size : 0;
    await undoCharges(c, mailbox.user, charged, body.status === 'fulfilled' ? [input.blob.hash] : []);
    throw quota.status === 'rejected' ? quota.reason : (body as PromiseRejectedResult).reason;
  }
  let inserted = false;
  try {
    for (let attempt = 0; ; attempt++) {
      const {
        firstUid: uid,
        firstModseq: modseq,
        mailbox: allocatedFrom,
      } = await allocateUids(c, mailboxId, 1);
      const doc = messageDoc(mailboxId, uid, modseq, input.flags, input.internalDate, size, input.blob.hash);
      try {
        await c.messages.insertOne({ ...doc });
      } catch (error) {
        // Only an import placing a UID it was given can collide; take the next UID.
        if (isDuplicateKey(error) && attempt < 10) continue;
        throw error;
      }
      inserted = true;
      await Promise.all([
        rememberKeywords(c, mailboxId, input.flags),
        writeJournal(c, [
          { userId: mailbox.user, mailboxId, kind: 'message-new', uid, modseq, flags: input.flags },
        ]),
        takeBackIfGone(c, allocatedFrom, [doc]),
      ]);
      return { uid, modseq, uidValidity: allocatedFrom.uidValidity, mailboxId: String(mailboxId) };
    }
  } catch (error) {
    if (!inserted) await undoCharges(c, mailbox.user, size, [input.blob.hash]);
    throw error;
  }
}

/** Gives back what a failed write took before its message existed; best effort (a leak is safe). */
async function undoCharges(
  c: Collections,
  userId: number,
  bytes: number,
  blobs: readonly string[],
): Promise<void> {
  try {
    for (const hash of blobs) await releaseBlob(c, hash);
    await adjustUsage(c, userId, -bytes);
  } catch {
    // The database is gone as well: the count stays too high, which only leaks space.
  }
}

// --- reading ---

export async function listMessages(
  c: Collections,
  mailboxId: number,
  filter: { uids?: UidRange[]; changedSince?: number } = {},
): Promise<MessageSummary[]> {
  await requireMailbox(c, mailboxId);
  const ranges =
    filter.uids === undefined ? [{ from: 1, to: Number.MAX_SAFE_INTEGER }] : mergeUidRanges(filter.uids);
  if (ranges.length === 0) return [];
  const uidFilter = (range: UidRange) => ({ uid: { $gte: range.from, $lte: range.to } });
  const query: Record<string, unknown> = { mailbox: mailboxId };
  if (ranges.length === 1) Object.assign(query, uidFilter(ranges[0]!));
  else query.$or = ranges.map(uidFilter);
  if (filter.changedSince !== undefined) query.modseq = { $gt: filter.changedSince };
  const docs = await c.messages
    .find(query, { projection: { _id: 0 } })
    .sort({ uid: 1 })
    .toArray();
  return docs.map(toMessageSummary);
}

export async function getMessage(
  c: Collections,
  mailboxId: number,
  uid: number,
): Promise<MessageSummary | null> {
  if (!Number.isSafeInteger(uid)) return null;
  const doc = await c.messages.findOne({ mailbox: mailboxId, uid }, { projection: { _id: 0 } });
  return doc ? toMessageSummary(doc) : null;
}

export async function listKeywords(c: Collections, mailboxId: number): Promise<string[]> {
  await requireMailbox(c, mailboxId);
  const docs = await c.keywords.find({ mailbox: mailboxId }).sort({ key: 1 }).toArray();
  return docs.map((doc) => doc.keyword);
}

// --- flags ---

export async function storeFlags(
  c: Collections,
  mailboxId: number,
  uids: readonly number[],
  operation: FlagOperation,
  flags: readonly Flag[],
  unchangedSince?: number,
): Promise<StoreFlagsResult> {
  const mailbox = await requireSelectableMailbox(c, mailboxId);
  const updated: FlagUpdate[] = [];
  const modified: number[] = [];
  let pending = await messageDocs(c, mailboxId, uids);
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= MAX_ATTEMPTS) throw new StoreError('UNAVAILABLE', 'flags changed too often to update');
    const changes: Array<{ doc: MessageDoc; flags: Flag[] }> = [];
    for (const doc of pending) {
      if (unchangedSince !== undefined && doc.modseq > unchangedSince) {
        modified.push(doc.uid);
        continue;
      }
      const next = applyFlagOperation(doc.flags, operation, flags);
      if (!sameFlags(doc.flags, next)) changes.push({ doc, flags: next });
    }
    if (changes.length === 0) break;
    const first = await nextModseqs(c, mailboxId, changes.length);
    const results = await Promise.all(
      changes.map(({ doc, flags: next }, i) =>
        c.messages.updateOne(
          { mailbox: mailboxId, uid: doc.uid, modseq: doc.modseq },
          {
            $set: {
              flags: next,
              seen: hasFlag(next, SEEN),
              deleted: hasFlag(next, DELETED),
              modseq: first + i,
            },
          },
        ),
      ),
    );
    const done: FlagUpdate[] = [];
    const lost: number[] = [];
    changes.forEach(({ doc, flags: next }, i) => {
      if (results[i]!.matchedCount === 1) done.push({ uid: doc.uid, modseq: first + i, flags: next });
      else lost.push(doc.uid);
    });
    await rememberKeywords(
      c,
      mailboxId,
      done.flatMap((update) => update.flags),
    );
    await writeJournal(
      c,
      done.map((update) => ({
        userId: mailbox.user,
        mailboxId,
        kind: 'message-flags' as const,
        uid: update.uid,
        modseq: update.modseq,
        flags: update.flags,
      })),
    );
    updated.push(...done);
    if (lost.length === 0) break;
    // Another writer changed these first: look again (expunged ones drop out).
    pending = await messageDocs(c, mailboxId, lost);
    await backoff(attempt);
  }
  return { updated: updated.sort((a, b) => a.uid - b.uid), modified: modified.sort((a, b) => a - b) };
}

// --- copy and move ---

/**
 * Copies `docs` of `source` into `target` with new UIDs in the documents' (UID) order. A move
 * keeps the body references and the usage (unless the target belongs to another user), then
 * expunges the originals.
 */
export async function transferMessages(
  c: Collections,
  source: MailboxDoc,
  target: MailboxDoc,
  docs: readonly MessageDoc[],
  move: boolean,
): Promise<CopyResult> {
  if (docs.length === 0) return { uidValidity: target.uidValidity, uidMap: [] };
  const otherUser = source.user !== target.user;
  let rows = [...docs];
  let charged = 0;
  const referenced: string[] = [];
  let inserted: MessageDoc[] = [];
  let allocatedFrom: MailboxDoc;
  try {
    if (!move || otherUser) {
      const bytes = rows.reduce((total, row) => total + row.size, 0);
      await chargeQuota(c, target.user, bytes);
      charged = bytes;
    }
    if (!move) {
      // A copy shares the body; one expunged meanwhile (no live blob) is simply not copied.
      const kept: MessageDoc[] = [];
      for (const row of rows) {
        if (await addReferences(c, row.blob, 1)) {
          referenced.push(row.blob);
          kept.push(row);
        }
      }
      rows = kept;
    }
    if (rows.length === 0) {
      await undoCharges(c, target.user, charged, []);
      return { uidValidity: target.uidValidity, uidMap: [] };
    }
    const allocation = await allocateUids(c, target._id, rows.length);
    allocatedFrom = allocation.mailbox;
    inserted = rows.map((row, i) =>
      messageDoc(
        target._id,
        allocation.firstUid + i,
        allocation.firstModseq + i,
        row.flags,
        row.internalDate,
        row.size,
        row.blob,
      ),
    );
    await c.messages.insertMany(
      inserted.map((doc) => ({ ...doc })),
      { ordered: true },
    );
  } catch (error) {
    if (inserted.length === 0) await undoCharges(c, target.user, charged, referenced);
    throw error;
  }
  await rememberKeywords(
    c,
    target._id,
    inserted.flatMap((doc) => doc.flags),
  );
  await writeJournal(
    c,
    inserted.map((doc) => ({
      userId: target.user,
      mailboxId: target._id,
      kind: 'message-new' as const,
      uid: doc.uid,
      modseq: doc.modseq,
      flags: doc.flags,
    })),
  );
  if (move) await expungeMoved(c, source, target, rows);
  await takeBackIfGone(c, allocatedFrom, inserted);
  return {
    uidValidity: allocatedFrom.uidValidity,
    uidMap: rows.map((row, i) => [row.uid, inserted[i]!.uid]),
  };
}

/**
 * The second half of a move: deletes the originals (their references now belong to the copies).
 * An original someone else expunged meanwhile had its body and bytes released by them, so its copy
 * takes a new reference and counts its bytes again.
 */
async function expungeMoved(
  c: Collections,
  source: MailboxDoc,
  target: MailboxDoc,
  rows: readonly MessageDoc[],
): Promise<void> {
  const removed: MessageDoc[] = [];
  const lost: MessageDoc[] = [];
  const results = await Promise.all(
    rows.map((row) => c.messages.deleteOne({ mailbox: source._id, uid: row.uid })),
  );
  rows.forEach((row, i) => (results[i]!.deletedCount === 1 ? removed : lost).push(row));
  for (const row of lost) await addReferences(c, row.blob, 1);
  const lostBytes = lost.reduce((total, row) => total + row.size, 0);
  const removedBytes = removed.reduce((total, row) => total + row.size, 0);
  if (source.user === target.user) await adjustUsage(c, target.user, lostBytes);
  else await adjustUsage(c, source.user, -removedBytes);
  await journalExpunges(
    c,
    source,
    removed.map((row) => row.uid),
  );
}

/** Gives each expunged UID a fresh MODSEQ and journals it. */
async function journalExpunges(c: Collections, mailbox: MailboxDoc, uids: readonly number[]): Promise<void> {
  if (uids.length === 0) return;
  const first = await nextModseqs(c, mailbox._id, uids.length);
  const entries: NewJournalEntry[] = uids.map((uid, i) => ({
    userId: mailbox.user,
    mailboxId: mailbox._id,
    kind: 'message-expunge',
    uid,
    modseq: first + i,
  }));
  await writeJournal(c, entries);
}

export async function copyMessages(
  c: Collections,
  mailboxId: number,
  uids: readonly number[],
  targetId: number,
  move: boolean,
): Promise<CopyResult> {
  const source = await requireSelectableMailbox(c, mailboxId);
  const target = await requireSelectableMailbox(c, targetId);
  return transferMessages(c, source, target, await messageDocs(c, mailboxId, uids), move);
}

// --- removal ---

export async function expunge(
  c: Collections,
  mailboxId: number,
  uids?: readonly number[],
): Promise<number[]> {
  const mailbox = await requireSelectableMailbox(c, mailboxId);
  const candidates =
    uids === undefined
      ? await c.messages
          .find({ mailbox: mailboxId, deleted: true }, { projection: { _id: 0 } })
          .sort({ uid: 1 })
          .toArray()
      : (await messageDocs(c, mailboxId, uids)).filter((doc) => doc.deleted);
  // Still \Deleted at the moment of removal: a concurrent STORE -FLAGS \Deleted wins.
  const removed = await removeDocs(c, mailbox, candidates, { deleted: true });
  await journalExpunges(
    c,
    mailbox,
    removed.map((doc) => doc.uid),
  );
  return removed.map((doc) => doc.uid);
}

export async function deleteMessages(
  c: Collections,
  mailboxId: number,
  uids: readonly number[],
): Promise<number[]> {
  const mailbox = await requireSelectableMailbox(c, mailboxId);
  const removed = await removeDocs(c, mailbox, await messageDocs(c, mailboxId, uids), {});
  await journalExpunges(
    c,
    mailbox,
    removed.map((doc) => doc.uid),
  );
  return removed.map((doc) => doc.uid);
}

/**
 * Removes the messages of a mailbox below `belowUid` without journaling each (the mailbox-delete
 * entry stands for them), releasing bodies and bytes, and forgets its keywords.
 */
export async function removeAllMessages(
  c: Collections,
  mailbox: MailboxDoc,
  belowUid: number,
): Promise<void> {
  const docs = await c.messages
    .find(
      { mailbox: mailbox._id, uid: { $lt: belowUid } },
      { projection: { _id: 0, uid: 1, blob: 1, size: 1 } },
    )
    .toArray();
  await removeDocs(c, mailbox, docs as MessageDoc[], {});
  await c.keywords.deleteMany({ mailbox: mailbox._id });
}
