/**
 * Importing mailboxes and messages from another store (migration between engines). The numbers a
 * client caches (UIDVALIDITY, UIDs, MODSEQs) are taken as given instead of allocated, so a client
 * that synchronised against the old store finds the new one unchanged.
 */
import { checkImportedMailbox } from '../imports.ts';
import { StoreError } from '../errors.ts';
import { parentPaths } from '../normalize.ts';
import type { ImportedMailbox, ImportedMessage, Mailbox } from '../types.ts';
import { addBlobReference, type PreparedBlob } from './blobs.ts';
import type { Sql } from './database.ts';
import { writeJournal } from './journal.ts';
import { insertMailbox, setSubscribed } from './mailboxes.ts';
import { insertMessage } from './messages.ts';
import { assignThread } from './thread-links.ts';
import { threadKeysOfMessage } from '../thread-ids.ts';
import {
  mailboxRowByPath,
  requireSelectableMailbox,
  requireUserRow,
  toMailbox,
  type MailboxRow,
} from './rows.ts';

/**
 * Creates the mailbox with the given numbers, or adopts the one at that path when it is empty or
 * already carries this UIDVALIDITY. Missing parents are created as ordinary mailboxes.
 */
export function importMailbox(sql: Sql, userId: number, input: ImportedMailbox): Mailbox {
  const mailbox = checkImportedMailbox(input);
  return sql.write(() => {
    requireUserRow(sql, userId);
    // Mailboxes created later must not get a UIDVALIDITY at or below an imported one.
    sql.run(
      'UPDATE users SET last_uid_validity = max(last_uid_validity, ?) WHERE id = ?',
      mailbox.uidValidity,
      userId,
    );
    for (const parent of parentPaths(mailbox.path)) {
      if (!mailboxRowByPath(sql, userId, parent)) insertMailbox(sql, userId, parent, null);
    }
    const existing =
      mailboxRowByPath(sql, userId, mailbox.path) ?? insertMailbox(sql, userId, mailbox.path, null);
    setSubscribed(sql, userId, mailbox.path, mailbox.subscribed);
    return toMailbox(adopt(sql, existing, mailbox));
  });
}

function adopt(sql: Sql, existing: MailboxRow, mailbox: ImportedMailbox): MailboxRow {
  if (existing.uid_validity !== mailbox.uidValidity) {
    const holds = sql.get('SELECT 1 FROM messages WHERE mailbox_id = ? LIMIT 1', existing.id) !== undefined;
    if (holds) {
      throw new StoreError(
        'ALREADYEXISTS',
        `mailbox ${mailbox.path} holds messages under another UIDVALIDITY (${existing.uid_validity})`,
      );
    }
  }
  return sql.get<MailboxRow>(
    `UPDATE mailboxes SET uid_validity = ?, uid_next = max(uid_next, ?),
       highest_modseq = max(highest_modseq, ?), special_use = ?, subscribed = ?, selectable = 1,
       -- The source's expunges are unknown here: QRESYNC from before the import gets a larger set.
       expunged_floor = max(expunged_floor, ?)
     WHERE id = ? RETURNING *`,
    mailbox.uidValidity,
    mailbox.uidNext,
    mailbox.highestModseq,
    mailbox.specialUse,
    mailbox.subscribed ? 1 : 0,
    mailbox.highestModseq,
    existing.id,
  )!;
}

/**
 * Stores one message under its own UID and MODSEQ. Usage is counted but the quota is not
 * enforced: the source store held the message, and a migration must not lose it.
 */
export function importMessage(
  sql: Sql,
  mailboxId: number,
  message: ImportedMessage,
  blob: PreparedBlob,
): 'imported' | 'exists' {
  return sql.write(() => {
    const mailbox = requireSelectableMailbox(sql, mailboxId);
    if (sql.get('SELECT 1 FROM messages WHERE mailbox_id = ? AND uid = ?', mailboxId, message.uid)) {
      return 'exists';
    }
    const size = blob.raw.length;
    sql.run('UPDATE users SET used_bytes = used_bytes + ? WHERE id = ?', size, mailbox.user_id);
    sql.run(
      `UPDATE mailboxes SET uid_next = max(uid_next, ?), highest_modseq = max(highest_modseq, ?)
       WHERE id = ?`,
      message.uid + 1,
      message.modseq,
      mailboxId,
    );
    addBlobReference(sql, blob);
    insertMessage(sql, {
      mailboxId,
      uid: message.uid,
      modseq: message.modseq,
      flags: message.flags,
      internalDate: message.internalDate.getTime(),
      size,
      blobHash: blob.hash,
      savedAt: message.savedAt ? message.savedAt.getTime() : null,
      threadId: assignThread(sql, mailbox.user_id, threadKeysOfMessage(blob.raw), message.threadId),
    });
    writeJournal(sql, {
      userId: mailbox.user_id,
      mailboxId,
      kind: 'message-new',
      uid: message.uid,
      modseq: message.modseq,
      flags: message.flags,
    });
    return 'imported';
  });
}
