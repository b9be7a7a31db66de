/**
 * The reads of one mailbox's row and counters (getMailbox, STATUS): single-row lookups, nothing
 * that grows with the mailbox. Kept apart from mailboxes.ts so the event loop's own read
 * connection (inline-reads.ts) loads only these.
 */
import { tryNormalizeMailboxPath } from '../normalize.ts';
import { recentPlan } from '../recent-count.ts';
import type { Mailbox, MailboxCounts, MailboxStatus } from '../types.ts';
import type { Sql } from './database.ts';
import { mailboxRow, mailboxRowByPath, requireMailboxRow, toMailbox, type MailboxRow } from './rows.ts';

export function getMailbox(sql: Sql, userId: number, path: string): Mailbox | null {
  const normalized = tryNormalizeMailboxPath(path);
  if (normalized === null) return null;
  const row = mailboxRowByPath(sql, userId, normalized);
  return row ? toMailbox(row) : null;
}

export function mailboxCounts(sql: Sql, mailboxId: number): MailboxCounts {
  return countsOf(sql, requireMailboxRow(sql, mailboxId));
}

export function mailboxStatus(sql: Sql, userId: number, path: string): MailboxStatus | null {
  const normalized = tryNormalizeMailboxPath(path);
  if (normalized === null) return null;
  const row = mailboxRowByPath(sql, userId, normalized);
  return row ? { mailbox: toMailbox(row), counts: countsOf(sql, row) } : null;
}

export function countsOf(sql: Sql, mailbox: MailboxRow): MailboxCounts {
  // The counters are kept by triggers (schema.ts); \Recent is counted on the primary key, on the
  // side of the mark with fewer UIDs (recent-count.ts).
  const plan = recentPlan(mailbox.recent_mark, mailbox.uid_next, mailbox.message_count);
  const recent = plan.recentOf(
    sql.get<{ count: number }>(
      plan.countAbove
        ? 'SELECT count(*) AS count FROM messages WHERE mailbox_id = ? AND uid > ?'
        : 'SELECT count(*) AS count FROM messages WHERE mailbox_id = ? AND uid <= ?',
      mailbox.id,
      mailbox.recent_mark,
    )!.count,
  );
  return {
    messages: mailbox.message_count,
    unseen: mailbox.unseen_count,
    recent,
    bytes: mailbox.byte_count,
    deleted: mailbox.deleted_count,
  };
}

export function getMailboxById(sql: Sql, mailboxId: number): Mailbox | null {
  const row = mailboxRow(sql, mailboxId);
  return row ? toMailbox(row) : null;
}
