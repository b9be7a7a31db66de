/**
 * Mapping between stored documents and the contract types, and the look-ups every module shares.
 * Ids are numbers in the database and decimal strings in the contract.
 */
import { StoreError } from '../errors.ts';
import type { AppPassword, Mailbox, MessageSummary, User } from '../types.ts';
import type { AppPasswordDoc, Collections, MailboxDoc, MessageDoc, UserDoc } from './schema.ts';

export function toUser(doc: UserDoc): User {
  return {
    id: String(doc._id),
    username: doc.username,
    name: doc.name,
    disabled: doc.disabled,
    saveSentCopy: doc.saveSentCopy === true,
    uidOnly: typeof doc.uidOnly === 'boolean' ? doc.uidOnly : null,
    quotaBytes: doc.quotaBytes,
    usedBytes: doc.usedBytes,
    createdAt: doc.createdAt,
  };
}

export function toMailbox(doc: MailboxDoc): Mailbox {
  return {
    id: String(doc._id),
    userId: String(doc.user),
    path: doc.path,
    specialUse: doc.specialUse,
    subscribed: doc.subscribed,
    selectable: doc.selectable,
    uidValidity: doc.uidValidity,
    uidNext: doc.uidNext,
    highestModseq: doc.highestModseq,
    journalMark: doc.userJournalMark ?? 0,
  };
}

export function toMessageSummary(doc: MessageDoc): MessageSummary {
  return {
    mailboxId: String(doc.mailbox),
    uid: doc.uid,
    modseq: doc.modseq,
    flags: doc.flags,
    internalDate: doc.internalDate,
    size: doc.size,
    blobId: doc.blob,
    savedAt: doc.savedAt ?? null,
    threadId: doc.threadId ?? null,
  };
}

export function toAppPassword(doc: AppPasswordDoc): AppPassword {
  return {
    id: String(doc._id),
    userId: String(doc.user),
    label: doc.label,
    createdAt: doc.createdAt,
    lastUsedAt: doc.lastUsedAt,
  };
}

export async function requireUser(c: Collections, userId: number): Promise<UserDoc> {
  const doc = await c.users.findOne({ _id: userId });
  if (!doc) throw new StoreError('NONEXISTENT', `no such user ${userId}`);
  return doc;
}

export async function requireMailbox(c: Collections, mailboxId: number): Promise<MailboxDoc> {
  const doc = await c.mailboxes.findOne({ _id: mailboxId });
  if (!doc) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
  return doc;
}

/** A mailbox that can hold messages (not a \Noselect placeholder). */
export async function requireSelectableMailbox(c: Collections, mailboxId: number): Promise<MailboxDoc> {
  const doc = await requireMailbox(c, mailboxId);
  if (!doc.selectable) throw new StoreError('CANNOT', `mailbox ${doc.path} is not selectable`);
  return doc;
}

/** Sleeps a little before retrying an optimistic update that lost a race (with jitter). */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(50, 1 + attempt * 2) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}
