/**
 * URLAUTH keys (RFC 4467) on sqlite: a column of the mailbox's row, so a RENAME keeps the key and
 * DELETE takes it. A key is made once: two sessions asking at the same time get the same one.
 */
import crypto from 'node:crypto';
import { StoreError } from '../errors.ts';
import type { Sql } from './database.ts';

export const URLAUTH_KEY_BYTES = 32;

export function urlAuthKey(sql: Sql, mailboxId: number, create: boolean): Buffer | null {
  const read = () =>
    sql.get<{ key: Buffer | null }>(
      'SELECT urlauth_key AS key FROM mailboxes WHERE id = ? AND selectable = 1',
      mailboxId,
    );
  const row = read();
  if (!row) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
  if (row.key !== null || !create) return row.key;
  return sql.write(() => {
    sql.run(
      'UPDATE mailboxes SET urlauth_key = ? WHERE id = ? AND urlauth_key IS NULL',
      crypto.randomBytes(URLAUTH_KEY_BYTES),
      mailboxId,
    );
    const made = read();
    if (!made?.key) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
    return made.key;
  });
}

export function resetUrlAuthKeys(sql: Sql, userId: number, mailboxId: number | null): void {
  if (mailboxId === null) {
    sql.run('UPDATE mailboxes SET urlauth_key = NULL WHERE user_id = ?', userId);
    return;
  }
  const changed = sql.run(
    'UPDATE mailboxes SET urlauth_key = NULL WHERE id = ? AND user_id = ?',
    mailboxId,
    userId,
  );
  if (changed.changes === 0) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
}
