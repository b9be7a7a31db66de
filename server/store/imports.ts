/**
 * Checks of what `importMailbox` / `importMessage` are given (migration between engines), shared
 * by both engines so they refuse the same input with the same words.
 */
import { StoreError } from './errors.ts';
import { normalizeFlags, normalizeMailboxPath, validateSpecialUse } from './normalize.ts';
import { isThreadId } from './thread-ids.ts';
import type { ImportedMailbox, ImportedMessage } from './types.ts';

const MAX_IMAP_UID = 0xffffffff;
/** MODSEQs are 63-bit in IMAP; JS numbers count exactly up to 2^53. */
const MAX_MODSEQ = Number.MAX_SAFE_INTEGER;

function invalid(message: string): never {
  throw new StoreError('INVALID', message);
}

function checkCounter(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    invalid(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Validates an imported mailbox; returns its normalised path and special-use. */
export function checkImportedMailbox(mailbox: ImportedMailbox): ImportedMailbox {
  if (mailbox === null || typeof mailbox !== 'object') invalid('mailbox must be an object');
  return {
    path: normalizeMailboxPath(mailbox.path),
    specialUse: validateSpecialUse(mailbox.specialUse),
    subscribed: mailbox.subscribed !== false,
    uidValidity: checkCounter(mailbox.uidValidity, 'UIDVALIDITY', 1, MAX_IMAP_UID),
    uidNext: checkCounter(mailbox.uidNext, 'UIDNEXT', 1, MAX_IMAP_UID + 1),
    highestModseq: checkCounter(mailbox.highestModseq, 'HIGHESTMODSEQ', 1, MAX_MODSEQ),
  };
}

export function checkImportedMessage(message: ImportedMessage): ImportedMessage {
  if (message === null || typeof message !== 'object') invalid('message must be an object');
  const internalDate = message.internalDate;
  if (!(internalDate instanceof Date) || Number.isNaN(internalDate.getTime()))
    invalid('invalid internal date');
  const savedAt = message.savedAt ?? null;
  if (savedAt !== null && (!(savedAt instanceof Date) || Number.isNaN(savedAt.getTime())))
    invalid('invalid save date');
  return {
    uid: checkCounter(message.uid, 'UID', 1, MAX_IMAP_UID),
    modseq: checkCounter(message.modseq, 'MODSEQ', 1, MAX_MODSEQ),
    flags: normalizeFlags(message.flags),
    internalDate,
    savedAt,
    // A thread id that does not fit the objectid grammar is dropped: this store assigns one.
    threadId: isThreadId(message.threadId) ? message.threadId : null,
  };
}
