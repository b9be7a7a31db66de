/**
 * METADATA entries (RFC 5464) on sqlite: one row per entry, keyed by the mailbox's id so that a
 * rename carries them along; mailbox_id 0 holds the user's server entries. Every change is
 * journaled (NOTIFY's MailboxMetadataChange and ServerMetadataChange in every process).
 */
import { StoreError } from '../errors.ts';
import { normalizeMailboxPath } from '../normalize.ts';
import type { MetadataChange, MetadataEntry } from '../types.ts';
import type { Sql } from './database.ts';
import { writeJournal } from './journal.ts';
import { mailboxRowByPath, requireUserRow } from './rows.ts';

const SERVER = 0;

/** The row key of a mailbox's entries ("" is the server); NONEXISTENT when there is no such mailbox. */
function ownerKey(sql: Sql, userId: number, path: string): number {
  requireUserRow(sql, userId);
  if (path === '') return SERVER;
  const normalized = normalizeMailboxPath(path);
  const row = mailboxRowByPath(sql, userId, normalized);
  if (!row) throw new StoreError('NONEXISTENT', `no such mailbox ${normalized}`);
  return row.id;
}

function entriesOf(sql: Sql, userId: number, mailboxId: number): MetadataEntry[] {
  return sql.all<MetadataEntry>(
    'SELECT name, value FROM metadata WHERE user_id = ? AND mailbox_id = ? ORDER BY name',
    userId,
    mailboxId,
  );
}

export function getMetadata(sql: Sql, userId: number, path: string): MetadataEntry[] {
  return entriesOf(sql, userId, ownerKey(sql, userId, path));
}

export function setMetadata(
  sql: Sql,
  userId: number,
  path: string,
  changes: readonly MetadataChange[],
  maxEntries: number,
): void {
  sql.write(() => {
    const mailboxId = ownerKey(sql, userId, path);
    for (const { name, value } of changes) {
      if (value === null) {
        sql.run(
          'DELETE FROM metadata WHERE user_id = ? AND mailbox_id = ? AND name = ?',
          userId,
          mailboxId,
          name,
        );
      } else {
        sql.run(
          'INSERT OR REPLACE INTO metadata (user_id, mailbox_id, name, value) VALUES (?, ?, ?, ?)',
          userId,
          mailboxId,
          name,
          Buffer.from(value.buffer, value.byteOffset, value.byteLength),
        );
      }
    }
    const { count } = sql.get<{ count: number }>(
      'SELECT count(*) AS count FROM metadata WHERE user_id = ? AND mailbox_id = ?',
      userId,
      mailboxId,
    )!;
    // Thrown inside the transaction, so none of the changes stays.
    if (count > maxEntries) throw new StoreError('LIMIT', `more than ${maxEntries} metadata entries`);
    writeJournal(sql, {
      userId,
      mailboxId,
      kind: 'metadata-change',
      path: path === '' ? '' : normalizeMailboxPath(path),
      flags: changes.map((change) => change.name),
    });
  });
}

/** A deleted mailbox's entries go with it (also when it stays as a \Noselect placeholder). */
export function deleteMailboxMetadata(sql: Sql, mailboxId: number): void {
  sql.run('DELETE FROM metadata WHERE mailbox_id = ?', mailboxId);
}
