/**
 * Importing mailboxes and messages from another store (migration between engines), as the sqlite
 * engine does (server/store/sqlite/imports.ts): the numbers a client caches (UIDVALIDITY, UIDs,
 * MODSEQs) are taken as given instead of allocated.
 *
 * Order of an imported message: usage, then the mailbox counters raised past it (so an append
 * never allocates its UID), then the body reference, then the document; an import that finds its
 * UID taken gives back what it took and answers 'exists'.
 *
 * A batch (importMessages, a restore's) does the same steps once for all its messages, in a few
 * commands whatever its size: bodies referenced, then journal positions taken and the counters
 * raised in one write of the mailbox (its journal mark recorded, as an append's allocation does),
 * then one insertMany, then the journal written at those positions. A process killed in between
 * leaves those positions open: a reader fills them and marks the mailbox for a recount
 * (recount.ts), which repairs counters raised for messages never inserted. No message document is
 * ever inserted before its body is complete, and a second call finds the inserted ones 'exists'.
 */
import { checkImportedMailbox, checkImportedMessage } from '../imports.ts';
import { StoreError } from '../errors.ts';
import type { ImportItem, ImportedMailbox, ImportedMessage, Mailbox } from '../types.ts';
import { addBlobReferences, prepareBlob, releaseBlob } from './blobs.ts';
import { backoff, requireSelectableMailbox, requireUser, toMailbox } from './docs.ts';
import {
  insertJournalAt,
  nextPositions,
  releasePositions,
  writeJournal,
  type NewJournalEntry,
} from './journal.ts';
import {
  ensureParents,
  insertMailbox,
  listSubscriptions,
  mailboxByPath,
  setSubscribed,
} from './mailboxes.ts';
import { threadKeysOfMessage } from '../thread-ids.ts';
import { assignThreads } from './thread-links.ts';
import {
  adjustUsage,
  counterIncrement,
  countsOf,
  messageDoc,
  newEntry,
  rememberKeywords,
  takeBackIfGone,
  uncount,
  type Counts,
} from './messages.ts';
import { isDuplicateKey, type Collections, type MailboxDoc, type MessageDoc } from './schema.ts';
import { tryMarkForRecount } from './totals.ts';

/**
 * Creates the mailbox with the given numbers, or adopts the one at that path when it is empty or
 * already carries this UIDVALIDITY. Missing parents are created as ordinary mailboxes.
 */
export async function importMailbox(
  c: Collections,
  userId: number,
  input: ImportedMailbox,
): Promise<Mailbox> {
  const mailbox = checkImportedMailbox(input);
  await requireUser(c, userId);
  // Mailboxes created later must not get a UIDVALIDITY at or below an imported one.
  await c.users.updateOne({ _id: userId }, { $max: { lastUidValidity: mailbox.uidValidity } });
  const subscriptions = await listSubscriptions(c, userId);
  await ensureParents(c, userId, mailbox.path, subscriptions);
  let existing = await mailboxByPath(c, userId, mailbox.path);
  if (!existing) {
    try {
      existing = await insertMailbox(c, userId, mailbox.path, null, subscriptions);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      existing = await mailboxByPath(c, userId, mailbox.path);
      if (!existing) throw new StoreError('UNAVAILABLE', `mailbox ${mailbox.path} changed meanwhile`);
    }
  }
  await setSubscribed(c, userId, mailbox.path, mailbox.subscribed);
  return toMailbox(await adopt(c, existing, mailbox));
}

async function adopt(c: Collections, existing: MailboxDoc, mailbox: ImportedMailbox): Promise<MailboxDoc> {
  if (existing.uidValidity !== mailbox.uidValidity) {
    if (await c.messages.findOne({ mailbox: existing._id }, { projection: { _id: 1 } })) {
      throw new StoreError(
        'ALREADYEXISTS',
        `mailbox ${mailbox.path} holds messages under another UIDVALIDITY (${existing.uidValidity})`,
      );
    }
  }
  const set = {
    uidValidity: mailbox.uidValidity,
    specialUse: mailbox.specialUse,
    subscribed: mailbox.subscribed,
    selectable: true,
  };
  const before = await c.mailboxes.findOneAndUpdate(
    { _id: existing._id },
    {
      $set: set,
      // The source's expunges are unknown here: QRESYNC from before the import gets a larger set.
      $max: {
        uidNext: mailbox.uidNext,
        highestModseq: mailbox.highestModseq,
        expungedFloor: mailbox.highestModseq,
      },
    },
    { returnDocument: 'before' },
  );
  if (!before) throw new StoreError('NONEXISTENT', `mailbox ${mailbox.path} was deleted meanwhile`);
  return {
    ...before,
    ...set,
    uidNext: Math.max(before.uidNext, mailbox.uidNext),
    highestModseq: Math.max(before.highestModseq, mailbox.highestModseq),
  };
}

/**
 * Stores one message under its own UID and MODSEQ: a batch of one (importMessages). Usage is
 * counted but the quota is not enforced: the source store held the message, and a migration must
 * not lose it.
 */
export async function importMessage(
  c: Collections,
  mailboxId: number,
  message: ImportedMessage,
  raw: Buffer,
): Promise<'imported' | 'exists'> {
  const [result] = await importMessages(c, mailboxId, [{ message, raw }]);
  return result!;
}

/** Attempts at raising a mailbox's counters against concurrent writers taking later positions. */
const MAX_CLAIM_ATTEMPTS = 100;

/**
 * importMessage for a batch of one mailbox (see the top): the results in the order given; a UID
 * already there, or given twice, is 'exists' (the first one given wins).
 */
export async function importMessages(
  c: Collections,
  mailboxId: number,
  items: readonly ImportItem[],
): Promise<Array<'imported' | 'exists'>> {
  if (!Array.isArray(items)) throw new StoreError('INVALID', 'messages must be a list');
  const checked = items.map((item) => {
    const message = checkImportedMessage(item?.message);
    if (!Buffer.isBuffer(item.raw)) throw new StoreError('INVALID', 'message must be a Buffer');
    return { message, blob: prepareBlob(item.raw) };
  });
  const results: Array<'imported' | 'exists'> = checked.map(() => 'exists');
  const mailbox = await requireSelectableMailbox(c, mailboxId);
  if (checked.length === 0) return results;
  const present = await c.messages
    .find(
      { mailbox: mailboxId, uid: { $in: checked.map((item) => item.message.uid) } },
      { projection: { uid: 1 } },
    )
    .toArray();
  const taken = new Set(present.map((doc) => doc.uid));
  const fresh: Array<{ index: number; doc: MessageDoc }> = [];
  const wanted = checked.flatMap((item, index) => {
    if (taken.has(item.message.uid)) return [];
    taken.add(item.message.uid);
    return [{ ...item, index }];
  });
  if (wanted.length === 0) return results;
  const threads = await assignThreads(
    c,
    mailbox.user,
    wanted.map(({ message, blob }) => ({ keys: threadKeysOfMessage(blob.raw), given: message.threadId })),
  );
  for (const [i, { index, message, blob }] of wanted.entries()) {
    fresh.push({ index, doc: importedDoc(mailboxId, message, blob.hash, blob.raw.length, threads[i]!) });
  }
  const docs = fresh.map((entry) => entry.doc);
  const bytes = docs.reduce((total, doc) => total + doc.size, 0);
  await adjustUsage(c, mailbox.user, bytes);
  await addBlobReferences(
    c,
    fresh.map((entry) => checked[entry.index]!.blob),
  );
  const counts = countsOf(docs);
  const firstPosition = await raiseCounters(c, mailbox, docs, counts);
  const refused = await insertImported(c, mailbox, docs, firstPosition);
  const entries: Array<NewJournalEntry | null> = docs.map((doc, i) =>
    refused.has(i) ? null : newEntry(mailbox, doc),
  );
  const inserted = docs.filter((_, i) => !refused.has(i));
  if (refused.size > 0)
    await giveBackRefused(
      c,
      mailbox,
      docs.filter((_, i) => refused.has(i)),
    );
  const [lost] = await Promise.all([
    insertJournalAt(c, mailbox.user, firstPosition, entries),
    rememberKeywords(
      c,
      mailboxId,
      inserted.flatMap((doc) => doc.flags),
    ),
  ]);
  if (lost.length > 0) {
    // A reader took this writer for dead and filled its positions: journaled again, recounted.
    await writeJournal(
      c,
      mailbox.user,
      lost.map((index) => entries[index]!),
    );
    await tryMarkForRecount(c, mailbox);
  }
  await takeBackIfGone(c, mailbox, inserted);
  for (const [i, { index }] of fresh.entries()) if (!refused.has(i)) results[index] = 'imported';
  return results;
}

function importedDoc(
  mailboxId: number,
  message: ImportedMessage,
  hash: string,
  size: number,
  threadId: string,
): MessageDoc {
  const doc = messageDoc(
    mailboxId,
    message.uid,
    message.modseq,
    message.flags,
    message.internalDate,
    size,
    hash,
    threadId,
  );
  // Imported: the save date it had, or none (never the time of the import).
  if (message.savedAt) doc.savedAt = message.savedAt;
  else delete doc.savedAt;
  return doc;
}

/**
 * Takes one journal position per message and, in one write of the mailbox, raises UIDNEXT and
 * HIGHESTMODSEQ past the messages, counts them, and records the last position as its journal
 * mark; as an allocation does, refused while a writer holding later positions allocated first.
 */
async function raiseCounters(
  c: Collections,
  mailbox: MailboxDoc,
  docs: readonly MessageDoc[],
  counts: Counts,
): Promise<number> {
  const uidNext = Math.max(...docs.map((doc) => doc.uid)) + 1;
  const highestModseq = Math.max(...docs.map((doc) => doc.modseq));
  for (let attempt = 0; ; attempt++) {
    const first = await nextPositions(c, mailbox.user, docs.length);
    const result = await c.mailboxes.updateOne(
      { _id: mailbox._id, selectable: true, userJournalMark: { $not: { $gte: first } } },
      {
        $max: { uidNext, highestModseq },
        $inc: counterIncrement(counts, 1),
        $set: { userJournalMark: first + docs.length - 1 },
      },
    );
    if (result.matchedCount === 1) return first;
    await releasePositions(c, mailbox.user, first, docs.length);
    await requireSelectableMailbox(c, mailbox._id);
    if (attempt >= MAX_CLAIM_ATTEMPTS) throw new StoreError('UNAVAILABLE', 'mailbox too busy to import into');
    await backoff(attempt);
  }
}

/**
 * One unordered insertMany; returns the indexes refused because their UID was taken meanwhile (an
 * append or another import). Any other failure marks the mailbox for a recount, gives the
 * positions back and is thrown: what got inserted stays, and is found 'exists' next time.
 */
async function insertImported(
  c: Collections,
  mailbox: MailboxDoc,
  docs: readonly MessageDoc[],
  firstPosition: number,
): Promise<Set<number>> {
  try {
    await c.messages.insertMany(
      docs.map((doc) => ({ ...doc })),
      { ordered: false },
    );
    return new Set();
  } catch (error) {
    const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
    const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : []) as Array<{
      index: number;
    }>;
    if (list.length > 0 && list.every((e) => isDuplicateKey(e))) return new Set(list.map((e) => e.index));
    if (list.length === 0 && docs.length === 1 && isDuplicateKey(error)) return new Set([0]);
    await tryMarkForRecount(c, mailbox);
    await releasePositions(c, mailbox.user, firstPosition, docs.length);
    throw error;
  }
}

/** What the refused messages took: their body references, bytes and counts. */
async function giveBackRefused(
  c: Collections,
  mailbox: MailboxDoc,
  refused: readonly MessageDoc[],
): Promise<void> {
  for (const doc of refused) await releaseBlob(c, doc.blob);
  await adjustUsage(c, mailbox.user, -refused.reduce((total, doc) => total + doc.size, 0));
  await uncount(c, mailbox._id, countsOf(refused));
}
