/**
 * Importing mailboxes and messages from another store (migration between engines), as the sqlite
 * engine does (server/store/sqlite/imports.ts): the numbers a client caches (UIDVALIDITY, UIDs,
 * MODSEQs) are taken as given instead of allocated.
 *
 * Order of an imported message: usage, then the mailbox counters raised past it (so an append
 * never allocates its UID), then the body reference, then the document; an import that finds its
 * UID taken gives back what it took and answers 'exists'.
 */
import { checkImportedMailbox, checkImportedMessage } from '../imports.ts';
import { StoreError } from '../errors.ts';
import { DELETED, SEEN, hasFlag } from '../normalize.ts';
import type { ImportedMailbox, ImportedMessage, Mailbox } from '../types.ts';
import { addBlobReference, prepareBlob, releaseBlob } from './blobs.ts';
import { requireSelectableMailbox, requireUser, toMailbox } from './docs.ts';
import { writeJournal } from './journal.ts';
import {
  ensureParents,
  insertMailbox,
  listSubscriptions,
  mailboxByPath,
  setSubscribed,
} from './mailboxes.ts';
import { threadKeysOfMessage } from '../thread-ids.ts';
import { assignThread } from './thread-links.ts';
import { adjustUsage, messageDoc, rememberKeywords, takeBackIfGone } from './messages.ts';
import { isDuplicateKey, type Collections, type MailboxDoc } from './schema.ts';

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
 * Stores one message under its own UID and MODSEQ. Usage is counted but the quota is not
 * enforced: the source store held the message, and a migration must not lose it.
 */
export async function importMessage(
  c: Collections,
  mailboxId: number,
  input: ImportedMessage,
  raw: Buffer,
): Promise<'imported' | 'exists'> {
  const message = checkImportedMessage(input);
  if (!Buffer.isBuffer(raw)) throw new StoreError('INVALID', 'message must be a Buffer');
  const mailbox = await requireSelectableMailbox(c, mailboxId);
  if (await c.messages.findOne({ mailbox: mailboxId, uid: message.uid }, { projection: { _id: 1 } })) {
    return 'exists';
  }
  const blob = prepareBlob(raw);
  const threadId = await assignThread(c, mailbox.user, threadKeysOfMessage(blob.raw), message.threadId);
  const size = blob.raw.length;
  await adjustUsage(c, mailbox.user, size);
  await c.mailboxes.updateOne(
    { _id: mailboxId },
    {
      $max: { uidNext: message.uid + 1, highestModseq: message.modseq },
      $inc: {
        messageCount: 1,
        unseenCount: hasFlag(message.flags, SEEN) ? 0 : 1,
        deletedCount: hasFlag(message.flags, DELETED) ? 1 : 0,
        byteCount: size,
      },
    },
  );
  await addBlobReference(c, blob);
  const doc = messageDoc(
    mailboxId,
    message.uid,
    message.modseq,
    message.flags,
    message.internalDate,
    size,
    blob.hash,
    threadId,
  );
  // Imported: the save date it had, or none (never the time of the import).
  if (message.savedAt) doc.savedAt = message.savedAt;
  else delete doc.savedAt;
  try {
    await c.messages.insertOne({ ...doc });
  } catch (error) {
    await releaseBlob(c, blob.hash);
    await adjustUsage(c, mailbox.user, -size);
    await c.mailboxes.updateOne(
      { _id: mailboxId },
      {
        $inc: {
          messageCount: -1,
          unseenCount: hasFlag(message.flags, SEEN) ? 0 : -1,
          deletedCount: hasFlag(message.flags, DELETED) ? -1 : 0,
          byteCount: -size,
        },
      },
    );
    if (isDuplicateKey(error)) return 'exists';
    throw error;
  }
  await rememberKeywords(c, mailboxId, message.flags);
  await writeJournal(c, mailbox.user, [
    {
      userId: mailbox.user,
      mailboxId,
      kind: 'message-new',
      uid: message.uid,
      modseq: message.modseq,
      flags: message.flags,
    },
  ]);
  await takeBackIfGone(c, mailbox, [doc]);
  return 'imported';
}
