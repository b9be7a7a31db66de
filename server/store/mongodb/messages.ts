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
import { randomUUID } from 'node:crypto';
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
  FlagListing,
  AppendResult,
  CopyResult,
  Flag,
  FlagOperation,
  FlagUpdate,
  MessageSummary,
  StoreFlagsResult,
  UidRange,
} from '../types.ts';
import { FlagListingBuilder } from '../flag-listing.ts';
import { addBlobReference, addReferences, releaseBlob, type PreparedBlob } from './blobs.ts';
import { backoff, requireMailbox, requireSelectableMailbox, toMessageSummary } from './docs.ts';
import { isTemporaryFailure } from './errors.ts';
import { insertJournalAt, nextPositions, releasePositions, type NewJournalEntry } from './journal.ts';
import { tryMarkForRecount } from './totals.ts';
import { assignThread, assignThreads, assignThreadOfBlob } from './thread-links.ts';
import { threadKeysOfMessage } from '../thread-ids.ts';
import {
  isDuplicateKey,
  type Collections,
  type MailboxDoc,
  type MessageDoc,
  type UserDoc,
} from './schema.ts';

const MAX_IMAP_UID = 0xffffffff;
/** Optimistic updates (quota, flags) retried this often against concurrent writers. */
const MAX_ATTEMPTS = 100;
/** Deletes sent at once when removing many messages. */
const DELETE_PARALLELISM = 16;

// --- allocation and announcement (the visibility rule: journal.ts, types.ts) ---

interface Allocation {
  firstUid: number;
  firstModseq: number;
  /** Journal position of the first MODSEQ; one position per MODSEQ. */
  firstPosition: number;
  changes: number;
  /** The mailbox before the allocation. */
  mailbox: MailboxDoc;
}

/** What a set of messages adds to a mailbox's STATUS counters. */
export interface Counts {
  messages: number;
  unseen: number;
  bytes: number;
  deleted: number;
}

const NO_COUNTS: Counts = { messages: 0, unseen: 0, bytes: 0, deleted: 0 };

export function countsOf(docs: ReadonlyArray<Pick<MessageDoc, 'seen' | 'size' | 'deleted'>>): Counts {
  return {
    messages: docs.length,
    unseen: docs.filter((doc) => !doc.seen).length,
    bytes: docs.reduce((total, doc) => total + doc.size, 0),
    deleted: docs.filter((doc) => doc.deleted).length,
  };
}

/** The counts of one new message with these flags. */
function countsOfNew(flags: readonly string[], size: number): Counts {
  return countsOf([{ seen: hasFlag(flags, SEEN), deleted: hasFlag(flags, DELETED), size }]);
}

export function counterIncrement(counts: Counts, sign: 1 | -1): Record<string, number> {
  if (counts.messages === 0 && counts.unseen === 0 && counts.bytes === 0 && counts.deleted === 0) return {};
  return {
    messageCount: sign * counts.messages,
    unseenCount: sign * counts.unseen,
    byteCount: sign * counts.bytes,
    deletedCount: sign * counts.deleted,
  };
}

/** Takes messages out of the counters (removed, or counted at an allocation that was given up). */
export async function uncount(c: Collections, mailboxId: number, counts: Counts): Promise<void> {
  const decrement = counterIncrement(counts, -1);
  if (Object.keys(decrement).length > 0) await c.mailboxes.updateOne({ _id: mailboxId }, { $inc: decrement });
}

/**
 * Gives up an allocation whose changes were never made: takes its messages out of the counters,
 * then gives its positions back. Counters first: while a position is open, no recount runs
 * (recount.ts). When a reader had filled a position first, a recount may have run in between and
 * already left these messages out: the mailbox is marked to be recounted once more.
 */
async function giveBack(c: Collections, allocation: Allocation, counts: Counts): Promise<void> {
  await uncount(c, allocation.mailbox._id, counts);
  const { mailbox, firstPosition, changes } = allocation;
  if (await releasePositions(c, mailbox.user, firstPosition, changes)) await tryMarkForRecount(c, mailbox);
}

/** Moves messages between unseen and seen, and in and out of \Deleted, in the counters. */
async function countFlagChange(
  c: Collections,
  mailboxId: number,
  delta: { unseen: number; deleted: number },
): Promise<void> {
  if (delta.unseen !== 0 || delta.deleted !== 0)
    await c.mailboxes.updateOne(
      { _id: mailboxId },
      { $inc: { unseenCount: delta.unseen, deletedCount: delta.deleted } },
    );
}

/**
 * Takes `changes` positions of the owner's journal, then, in one write of the mailbox document, `uids` UIDs and
 * `changes` MODSEQs, recording the last position taken. The write is refused when the mailbox
 * already recorded a later position (a writer that took its positions after ours allocated
 * first): then ours are given back as no-ops and new ones taken. So per mailbox, positions, UIDs
 * and MODSEQs grow together, and the journal gives a mailbox's changes in UID and MODSEQ order.
 */
async function allocate(
  c: Collections,
  { _id: mailboxId, user: userId }: Pick<MailboxDoc, '_id' | 'user'>,
  uids: number,
  changes: number,
  /** The new messages the UIDs are for, counted in the same write (STATUS counters). */
  counts: Counts = NO_COUNTS,
): Promise<Allocation> {
  for (let attempt = 0; ; attempt++) {
    const firstPosition = await nextPositions(c, userId, changes);
    const before = await c.mailboxes.findOneAndUpdate(
      { _id: mailboxId, selectable: true, userJournalMark: { $not: { $gte: firstPosition } } },
      {
        $inc: { uidNext: uids, highestModseq: changes, ...counterIncrement(counts, 1) },
        $set: { userJournalMark: firstPosition + changes - 1 },
      },
      { returnDocument: 'before' },
    );
    if (before) {
      // IMAP UIDs are 32-bit: the mailbox is used up (the UIDs just taken stay unused).
      const allocation = {
        firstUid: before.uidNext,
        firstModseq: before.highestModseq + 1,
        firstPosition,
        changes,
        mailbox: before,
      };
      if (before.uidNext + uids - 1 > MAX_IMAP_UID) {
        await giveBack(c, allocation, counts);
        throw new StoreError('LIMIT', 'the mailbox ran out of UIDs');
      }
      return allocation;
    }
    await releasePositions(c, userId, firstPosition, changes);
    await requireSelectableMailbox(c, mailboxId); // gone or \Noselect: says so
    if (attempt >= MAX_ATTEMPTS) throw new StoreError('UNAVAILABLE', 'mailbox too busy to allocate');
    await backoff(attempt);
  }
}

/**
 * Journals the changes of an allocation, one entry (or null: nothing happened) per MODSEQ in
 * order. Changes whose position a reader filled first are made again under new positions;
 * returns the new UIDs of messages that had to move for it (old UID -> new UID).
 */
async function announce(
  c: Collections,
  allocation: Allocation,
  entries: ReadonlyArray<NewJournalEntry | null>,
  depth = 0,
): Promise<Map<number, number>> {
  const padded = [...entries];
  while (padded.length < allocation.changes) padded.push(null);
  await recordExpunged(c, padded);
  const lost = await insertJournalAt(c, allocation.mailbox.user, allocation.firstPosition, padded);
  if (lost.length === 0) return new Map();
  if (depth >= 5) throw new StoreError('UNAVAILABLE', 'journal positions kept being taken over');
  const moved = await compensate(
    c,
    allocation.mailbox,
    lost.map((index) => padded[index]!),
    depth + 1,
  );
  // Taken for dead, this writer may have raced a recount that missed its changes (recount.ts).
  await tryMarkForRecount(c, allocation.mailbox);
  return moved;
}

/**
 * Remembers the expunged UIDs among `entries` with their MODSEQ (QRESYNC), before the journal
 * announces them: whoever learns of an expunge can find it here. An expunge journaled again under a
 * new MODSEQ (compensate) keeps the higher one.
 */
async function recordExpunged(c: Collections, entries: ReadonlyArray<NewJournalEntry | null>): Promise<void> {
  const operations = entries.flatMap((entry) =>
    entry?.kind === 'message-expunge'
      ? [
          {
            updateOne: {
              filter: { mailbox: entry.mailboxId, uid: entry.uid! },
              update: { $max: { modseq: entry.modseq! } },
              upsert: true,
            },
          },
        ]
      : [],
  );
  if (operations.length > 0) await c.expunged.bulkWrite(operations, { ordered: false });
}

/**
 * After a write that failed part-way (some documents changed, their counters maybe not): marks
 * the mailbox for a recount, then gives the positions back as no-ops (best effort), and rethrows.
 * The mark comes first, while the open positions still hold any recount back.
 */
async function failAfter(c: Collections, allocation: Allocation, error: unknown): Promise<never> {
  await tryMarkForRecount(c, allocation.mailbox);
  await releasePositions(c, allocation.mailbox.user, allocation.firstPosition, allocation.changes);
  throw error;
}

/**
 * Makes again the changes whose journal positions were filled as no-ops (their writer stalled):
 * new messages move to new UIDs (the old ones are expunged, as sessions that listed them meanwhile
 * must learn), flag changes get a new MODSEQ, expunges are journaled again.
 */
async function compensate(
  c: Collections,
  mailbox: MailboxDoc,
  lost: readonly NewJournalEntry[],
  depth: number,
): Promise<Map<number, number>> {
  const moved = new Map<number, number>();
  const newUids = lost.filter((entry) => entry.kind === 'message-new').map((entry) => entry.uid!);
  const docs = await messageDocs(c, mailbox._id, newUids);
  if (docs.length > 0) {
    const allocation = await allocate(c, mailbox, docs.length, docs.length * 2);
    const copies = docs.map((doc, i) => ({
      ...doc,
      uid: allocation.firstUid + i,
      modseq: allocation.firstModseq + i,
    }));
    await c.messages
      .insertMany(copies.map((doc) => ({ ...doc })))
      .catch((e: unknown) => failAfter(c, allocation, e));
    const removed = await Promise.all(
      docs.map((doc) => c.messages.deleteOne({ mailbox: mailbox._id, uid: doc.uid })),
    );
    const entries: Array<NewJournalEntry | null> = [];
    const expunges: Array<NewJournalEntry | null> = [];
    for (const [i, doc] of docs.entries()) {
      if (removed[i]!.deletedCount !== 1) {
        // Expunged meanwhile by a session that listed it: the copy must not bring it back.
        await c.messages.deleteOne({ mailbox: mailbox._id, uid: copies[i]!.uid });
        entries.push(null);
        expunges.push(null);
        continue;
      }
      moved.set(doc.uid, copies[i]!.uid);
      entries.push(newEntry(mailbox, copies[i]!));
      expunges.push(expungeEntry(mailbox, doc.uid, allocation.firstModseq + docs.length + i));
    }
    for (const [from, to] of await announce(c, allocation, [...entries, ...expunges], depth)) {
      for (const [old, current] of moved) if (current === from) moved.set(old, to);
    }
  }
  const flagChanges = lost.filter((entry) => entry.kind === 'message-flags');
  if (flagChanges.length > 0) {
    const allocation = await allocate(c, mailbox, 0, flagChanges.length);
    const entries = await Promise.all(
      flagChanges.map(async (entry, i) => {
        const modseq = allocation.firstModseq + i;
        // Only while nobody changed the message since: a later change carries the flags itself.
        const result = await c.messages.updateOne(
          { mailbox: mailbox._id, uid: entry.uid!, modseq: entry.modseq! },
          { $set: { modseq } },
        );
        return result.matchedCount === 1 ? { ...entry, modseq } : null;
      }),
    );
    await announce(c, allocation, entries, depth);
  }
  const expunged = lost.filter((entry) => entry.kind === 'message-expunge');
  if (expunged.length > 0) {
    const allocation = await allocate(c, mailbox, 0, expunged.length);
    await announce(
      c,
      allocation,
      expunged.map((entry, i) => expungeEntry(mailbox, entry.uid!, allocation.firstModseq + i)),
      depth,
    );
  }
  return moved;
}

export function newEntry(mailbox: Pick<MailboxDoc, '_id' | 'user'>, doc: MessageDoc): NewJournalEntry {
  return {
    userId: mailbox.user,
    mailboxId: mailbox._id,
    kind: 'message-new',
    uid: doc.uid,
    modseq: doc.modseq,
    flags: doc.flags,
  };
}

function expungeEntry(
  mailbox: Pick<MailboxDoc, '_id' | 'user'>,
  uid: number,
  modseq: number,
): NewJournalEntry {
  return { userId: mailbox.user, mailboxId: mailbox._id, kind: 'message-expunge', uid, modseq };
}

// --- quota ---

/** Counts `bytes` against the user's quota (OVERQUOTA when it would be exceeded). */
export async function chargeQuota(
  c: Collections,
  userId: number,
  bytes: number,
  /** The user as just read (a delivery has it): saves the first read; the update checks anyway. */
  known?: Pick<UserDoc, 'username' | 'quotaBytes' | 'usedBytes'>,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const user =
      attempt === 0 && known
        ? known
        : await c.users.findOne(
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
  threadId: string,
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
    savedAt: new Date(), // added to this mailbox now (also by COPY and MOVE)
    threadId,
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
  await uncount(c, mailbox._id, countsOf(removed));
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
  /** Where appends not settled before answering go, to be settled once the database is back. */
  unsettled?: Set<UnsettledAppend>,
  /** The mailbox and its user as a delivery just read them: fewer round trips. */
  known?: { mailbox: MailboxDoc; user: Pick<UserDoc, 'username' | 'quotaBytes' | 'usedBytes'> },
): Promise<AppendResult> {
  // A mailbox deleted or made \Noselect since it was read is caught by allocate and takeBackIfGone.
  const mailbox = known?.mailbox.selectable ? known.mailbox : await requireSelectableMailbox(c, mailboxId);
  const size = input.blob.raw.length;
  // Quota and body reference are independent: both at once, each undone if the other fails.
  const [quota, body] = await Promise.allSettled([
    chargeQuota(c, mailbox.user, size, known?.user),
    addBlobReference(c, input.blob),
  ]);
  if (quota.status === 'rejected' || body.status === 'rejected') {
    const charged = quota.status === 'fulfilled' ? size : 0;
    await undoCharges(c, mailbox.user, charged, body.status === 'fulfilled' ? [input.blob.hash] : []);
    throw quota.status === 'rejected' ? quota.reason : (body as PromiseRejectedResult).reason;
  }
  let sent = false;
  let allocation: Allocation | null = null;
  const delivery = randomUUID();
  let threadId: string;
  try {
    threadId = await assignThread(c, mailbox.user, threadKeysOfMessage(input.blob.raw));
  } catch (error) {
    await undoCharges(c, mailbox.user, size, [input.blob.hash]);
    throw error;
  }
  try {
    for (let attempt = 0; ; attempt++) {
      allocation = await allocate(c, mailbox, 1, 1, countsOfNew(input.flags, size));
      const doc: MessageDoc = {
        ...messageDoc(
          mailboxId,
          allocation.firstUid,
          allocation.firstModseq,
          input.flags,
          input.internalDate,
          size,
          input.blob.hash,
          threadId,
        ),
        delivery,
      };
      try {
        sent = true;
        await c.messages.insertOne({ ...doc });
      } catch (error) {
        // Only an import placing a UID it was given can collide; take the next UID.
        if (isDuplicateKey(error) && attempt < 10) {
          sent = false;
          await giveBack(c, allocation, countsOf([doc]));
          allocation = null; // given back: a failure of the next allocation must not give it back again
          continue;
        }
        throw error;
      }
      const [moved] = await Promise.all([
        announce(c, allocation, [newEntry(allocation.mailbox, doc)]),
        rememberKeywords(c, mailboxId, input.flags),
      ]);
      const uid = moved.get(doc.uid) ?? doc.uid;
      await takeBackIfGone(c, allocation.mailbox, [{ ...doc, uid }]);
      return {
        uid,
        modseq: allocation.firstModseq,
        uidValidity: allocation.mailbox.uidValidity,
        mailboxId: String(mailboxId),
      };
    }
  } catch (error) {
    if (!sent) {
      if (allocation) {
        await giveBack(c, allocation, countsOfNew(input.flags, size)).catch(() =>
          releasePositions(c, allocation!.mailbox.user, allocation!.firstPosition, allocation!.changes),
        );
      }
      await undoCharges(c, mailbox.user, size, [input.blob.hash]);
    } else if (isTemporaryFailure(error) && allocation) {
      // The message may or may not be stored, announced or not: the client is about to hear
      // "try again later", so whatever got stored is withdrawn (no duplicate after the retry,
      // no message nobody was told of). If the database stays away, later.
      const pending = {
        c,
        allocation,
        counts: countsOfNew(input.flags, size),
        delivery,
        userId: mailbox.user,
        size,
        blob: input.blob.hash,
      };
      if (!(await withdrawAppend(pending, WITHDRAW_WAIT_MS))) unsettled?.add(pending);
    }
    throw error;
  }
}

/**
 * Several messages at once, all or nothing (MULTIAPPEND), as COPY writes them: the quota for all,
 * every body referenced, one allocation of consecutive UIDs, one insertMany, then one
 * announcement, so sessions learn of all of them together or of none. A failure before the
 * announcement removes whatever was inserted and gives everything back. Should the database go
 * away in the middle of that, what is left is recounted like any write that failed part-way.
 */
export async function appendMessages(
  c: Collections,
  mailboxId: number,
  inputs: readonly AppendInput[],
): Promise<AppendResult[]> {
  const mailbox = await requireSelectableMailbox(c, mailboxId);
  if (inputs.length === 0) return [];
  const bytes = inputs.reduce((total, input) => total + input.blob.raw.length, 0);
  await chargeQuota(c, mailbox.user, bytes);
  const referenced: string[] = [];
  let allocation: Allocation | null = null;
  let docs: MessageDoc[] = [];
  try {
    for (const input of inputs) {
      await addBlobReference(c, input.blob);
      referenced.push(input.blob.hash);
    }
    const counts = countsOf(
      inputs.map((input) => ({
        seen: hasFlag(input.flags, SEEN),
        deleted: hasFlag(input.flags, DELETED),
        size: input.blob.raw.length,
      })),
    );
    const threadIds = await assignThreads(
      c,
      mailbox.user,
      inputs.map((input) => ({ keys: threadKeysOfMessage(input.blob.raw) })),
    );
    allocation = await allocate(c, mailbox, inputs.length, inputs.length, counts);
    const { firstUid, firstModseq } = allocation;
    docs = inputs.map((input, i) =>
      messageDoc(
        mailboxId,
        firstUid + i,
        firstModseq + i,
        input.flags,
        input.internalDate,
        input.blob.raw.length,
        input.blob.hash,
        threadIds[i]!,
      ),
    );
    await c.messages.insertMany(
      docs.map((doc) => ({ ...doc })),
      { ordered: true },
    );
  } catch (error) {
    if (allocation) {
      // Whatever got inserted goes again (with its body reference and bytes), then the rest.
      const removed = await removeDocs(c, allocation.mailbox, docs, {}).catch(() => [] as MessageDoc[]);
      const gone = new Set(removed.map((doc) => doc.uid));
      const left = docs.filter((doc) => !gone.has(doc.uid));
      await undoCharges(
        c,
        mailbox.user,
        left.reduce((total, doc) => total + doc.size, 0),
        left.map((doc) => doc.blob),
      );
      await failAfter(c, allocation, error);
    }
    await undoCharges(c, mailbox.user, bytes, referenced);
    throw error;
  }
  const [moved] = await Promise.all([
    announce(
      c,
      allocation,
      docs.map((doc) => newEntry(allocation.mailbox, doc)),
    ),
    rememberKeywords(
      c,
      mailboxId,
      docs.flatMap((doc) => doc.flags),
    ),
  ]);
  const finalUids = docs.map((doc) => moved.get(doc.uid) ?? doc.uid);
  await takeBackIfGone(
    c,
    allocation.mailbox,
    docs.map((doc, i) => ({ ...doc, uid: finalUids[i]! })),
  );
  return finalUids.map((uid, i) => ({
    uid,
    modseq: allocation.firstModseq + i,
    uidValidity: allocation.mailbox.uidValidity,
    mailboxId: String(mailboxId),
  }));
}

/** How long a failed append waits for the database to settle what it stored, before answering. */
const WITHDRAW_WAIT_MS = 5000;

/** An append that failed after its insert was sent: whatever of it got stored must go. */
export interface UnsettledAppend {
  c: Collections;
  allocation: Allocation;
  /** What the allocation counted, to uncount when the message never got stored. */
  counts: Counts;
  delivery: string;
  userId: number;
  size: number;
  blob: string;
}

/**
 * Removes what an append whose outcome is unknown stored: its message (found by its delivery id,
 * under its UID or a later one it was moved to), journaling the expunge, or else its charges.
 * True when settled; false when the database stayed unreachable for `waitMs`.
 */
export async function withdrawAppend(append: UnsettledAppend, waitMs: number): Promise<boolean> {
  const { c, allocation } = append;
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const found = await c.messages.findOne(
        { mailbox: allocation.mailbox._id, uid: { $gte: allocation.firstUid }, delivery: append.delivery },
        { projection: { _id: 0 } },
      );
      if (found) await removeAndAnnounce(c, allocation.mailbox, [found], {});
      else {
        await releaseBlob(c, append.blob);
        await adjustUsage(c, append.userId, -append.size);
      }
      await giveBack(c, allocation, found ? NO_COUNTS : append.counts);
      return true;
    } catch (error) {
      if (!isTemporaryFailure(error) || Date.now() >= deadline) return false;
      await backoff(attempt + 10);
    }
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

export async function listFlags(c: Collections, mailboxId: number, uidBelow: number): Promise<FlagListing> {
  const mailbox = await requireMailbox(c, mailboxId);
  const listing = new FlagListingBuilder(mailbox.messageCount);
  const docs = c.messages
    .find(
      { mailbox: mailboxId, uid: { $lt: uidBelow } },
      { projection: { _id: 0, uid: 1, modseq: 1, flags: 1 } },
    )
    .sort({ uid: 1 });
  for await (const doc of docs) listing.add(doc.uid, doc.modseq, doc.flags.join('\u0000'), () => doc.flags);
  return listing.finish();
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

/**
 * UIDs expunged above `modseq` (limited to `uids`), ascending; null when the mailbox's record of
 * expunges does not reach that far back (its expungedFloor is above `modseq`).
 */
export async function expungedSince(
  c: Collections,
  mailboxId: number,
  modseq: number,
  uids?: readonly UidRange[],
): Promise<number[] | null> {
  const mailbox = await requireMailbox(c, mailboxId);
  if (modseq < (mailbox.expungedFloor ?? mailbox.highestModseq)) return null;
  const docs = await c.expunged
    .find({ mailbox: mailboxId, modseq: { $gt: modseq } }, { projection: { _id: 0, uid: 1 } })
    .sort({ uid: 1 })
    .toArray();
  const found = docs.map((doc) => doc.uid);
  return uids === undefined ? found : found.filter((uid) => uids.some((r) => uid >= r.from && uid <= r.to));
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
    const allocation = await allocate(c, mailbox, 0, changes.length);
    const first = allocation.firstModseq;
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
    ).catch((error: unknown) => failAfter(c, allocation, error));
    const done: FlagUpdate[] = [];
    const lost: number[] = [];
    const delta = { unseen: 0, deleted: 0 };
    changes.forEach(({ doc, flags: next }, i) => {
      if (results[i]!.matchedCount !== 1) return void lost.push(doc.uid);
      done.push({ uid: doc.uid, modseq: first + i, flags: next });
      delta.unseen += (doc.seen ? 0 : -1) + (hasFlag(next, SEEN) ? 0 : 1);
      delta.deleted += (doc.deleted ? -1 : 0) + (hasFlag(next, DELETED) ? 1 : 0);
    });
    const entries = changes.map(({ doc }, i): NewJournalEntry | null =>
      results[i]!.matchedCount === 1
        ? {
            userId: mailbox.user,
            mailboxId,
            kind: 'message-flags',
            uid: doc.uid,
            modseq: first + i,
            flags: changes[i]!.flags,
          }
        : null,
    );
    // The counters before the journal: once the positions are written, a recount may run.
    await Promise.all([
      rememberKeywords(
        c,
        mailboxId,
        done.flatMap((update) => update.flags),
      ),
      countFlagChange(c, mailboxId, delta).then(() => announce(c, allocation, entries)),
    ]);
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
  let allocation: Allocation | null = null;
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
    // Within one user a copy or move keeps its thread; another user's links decide there.
    const threadIds: string[] = [];
    for (const row of rows)
      threadIds.push(
        !otherUser && row.threadId !== undefined
          ? row.threadId
          : await assignThreadOfBlob(c, target.user, row.blob),
      );
    allocation = await allocate(c, target, rows.length, rows.length, countsOf(rows));
    const { firstUid, firstModseq } = allocation;
    inserted = rows.map((row, i) =>
      messageDoc(
        target._id,
        firstUid + i,
        firstModseq + i,
        row.flags,
        row.internalDate,
        row.size,
        row.blob,
        threadIds[i]!,
      ),
    );
    await c.messages.insertMany(
      inserted.map((doc) => ({ ...doc })),
      { ordered: true },
    );
  } catch (error) {
    // An insert that failed part-way may have stored some: they stay charged; the counters are
    // recounted from what got stored.
    if (allocation) await failAfter(c, allocation, error).catch(() => undefined);
    if (inserted.length === 0) await undoCharges(c, target.user, charged, referenced);
    throw error;
  }
  const [moved] = await Promise.all([
    announce(
      c,
      allocation,
      inserted.map((doc) => newEntry(allocation.mailbox, doc)),
    ),
    rememberKeywords(
      c,
      target._id,
      inserted.flatMap((doc) => doc.flags),
    ),
  ]);
  const finalUids = inserted.map((doc) => moved.get(doc.uid) ?? doc.uid);
  if (move) await expungeMoved(c, source, target, rows);
  await takeBackIfGone(
    c,
    allocation.mailbox,
    inserted.map((doc, i) => ({ ...doc, uid: finalUids[i]! })),
  );
  return {
    uidValidity: allocation.mailbox.uidValidity,
    uidMap: rows.map((row, i) => [row.uid, finalUids[i]!]),
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
  const allocation = await allocate(c, source, 0, rows.length);
  const results = await Promise.all(
    rows.map((row) => c.messages.deleteOne({ mailbox: source._id, uid: row.uid })),
  ).catch((error: unknown) => failAfter(c, allocation, error));
  const removed: MessageDoc[] = [];
  const lost: MessageDoc[] = [];
  rows.forEach((row, i) => (results[i]!.deletedCount === 1 ? removed : lost).push(row));
  // The counters before the journal: once the positions are written, a recount may run.
  await uncount(c, source._id, countsOf(removed));
  await announce(
    c,
    allocation,
    rows.map((row, i) =>
      results[i]!.deletedCount === 1 ? expungeEntry(source, row.uid, allocation.firstModseq + i) : null,
    ),
  );
  for (const row of lost) await addReferences(c, row.blob, 1);
  const lostBytes = lost.reduce((total, row) => total + row.size, 0);
  const removedBytes = removed.reduce((total, row) => total + row.size, 0);
  if (source.user === target.user) await adjustUsage(c, target.user, lostBytes);
  else await adjustUsage(c, source.user, -removedBytes);
}

/**
 * Removes `candidates` (only those still \Deleted with `condition`), each under a MODSEQ and
 * journal position taken before, and journals the removals; returns the UIDs removed.
 */
async function removeAndAnnounce(
  c: Collections,
  mailbox: MailboxDoc,
  candidates: readonly MessageDoc[],
  condition: { deleted?: true },
): Promise<number[]> {
  if (candidates.length === 0) return [];
  const allocation = await allocate(c, mailbox, 0, candidates.length);
  const removed = await removeDocs(c, mailbox, candidates, condition).catch((error: unknown) =>
    failAfter(c, allocation, error),
  );
  const gone = new Set(removed.map((doc) => doc.uid));
  await announce(
    c,
    allocation,
    candidates.map((doc, i) =>
      gone.has(doc.uid) ? expungeEntry(mailbox, doc.uid, allocation.firstModseq + i) : null,
    ),
  );
  return candidates.filter((doc) => gone.has(doc.uid)).map((doc) => doc.uid);
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
  return removeAndAnnounce(c, mailbox, candidates, { deleted: true });
}

export async function deleteMessages(
  c: Collections,
  mailboxId: number,
  uids: readonly number[],
): Promise<number[]> {
  const mailbox = await requireSelectableMailbox(c, mailboxId);
  return removeAndAnnounce(c, mailbox, await messageDocs(c, mailboxId, uids), {});
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
  await c.expunged.deleteMany({ mailbox: mailbox._id });
}
