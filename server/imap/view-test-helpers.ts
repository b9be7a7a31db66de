/**
 * Test helpers for the shared mailbox state and its views: a mailbox, message summaries and journal
 * entries, of user `u1`'s mailbox `m1` (INBOX).
 */
import type { Flag, JournalEntry, Mailbox, MessageSummary } from '../store/types.ts';

/** INBOX holding UIDs 1..messages, each with its UID as MODSEQ. */
export function testMailbox(messages: number): Mailbox {
  return {
    id: 'm1',
    userId: 'u1',
    path: 'INBOX',
    specialUse: null,
    subscribed: true,
    selectable: true,
    uidValidity: 1,
    uidNext: messages + 1,
    highestModseq: messages,
  };
}

export function testSummary(uid: number, flags: Flag[] = []): MessageSummary {
  return {
    mailboxId: 'm1',
    uid,
    modseq: uid,
    flags,
    internalDate: new Date(0),
    size: 1,
    blobId: 'x',
    savedAt: null,
    threadId: null,
  };
}

let nextEntryId = 1;

/** A journal entry of the mailbox, with the next entry id. */
export function journalEntry(
  kind: JournalEntry['kind'],
  uid: number,
  modseq: number,
  flags: Flag[] | null = null,
): JournalEntry {
  return {
    id: nextEntryId++,
    userId: 'u1',
    mailboxId: 'm1',
    kind,
    uid,
    modseq,
    flags,
    path: null,
    oldPath: null,
    at: new Date(0),
  };
}
