/**
 * The change journal. Entries are written inside the transaction of the change they describe, and
 * sqlite has a single writer, so ids become visible in commit order: a reader that follows
 * `id > last seen` never skips an entry that commits later with a smaller id.
 */
import type { Flag, JournalEntry, JournalKind } from '../types.ts';
import type { Sql } from './database.ts';
import { toJournalEntry, type JournalRow } from './rows.ts';

export const DEFAULT_JOURNAL_LIMIT = 1000;
const MAX_JOURNAL_LIMIT = 10_000;
/** Journal entries older than this are pruned when a store opens (sessions follow within seconds). */
export const JOURNAL_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

export interface NewJournalEntry {
  userId: number;
  mailboxId: number;
  kind: JournalKind;
  uid?: number;
  modseq?: number;
  flags?: readonly Flag[];
  path?: string;
  oldPath?: string;
}

export function writeJournal(sql: Sql, entry: NewJournalEntry): void {
  sql.run(
    `INSERT INTO journal (user_id, mailbox_id, kind, uid, modseq, flags, path, old_path, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    entry.userId,
    entry.mailboxId,
    entry.kind,
    entry.uid ?? null,
    entry.modseq ?? null,
    entry.flags ? JSON.stringify(entry.flags) : null,
    entry.path ?? null,
    entry.oldPath ?? null,
    Date.now(),
  );
}

export function journalHead(sql: Sql): number {
  return sql.get<{ head: number | null }>('SELECT max(id) AS head FROM journal')?.head ?? 0;
}

export function readJournal(sql: Sql, afterId: number, limit = DEFAULT_JOURNAL_LIMIT): JournalEntry[] {
  const boundedLimit = Math.max(1, Math.min(MAX_JOURNAL_LIMIT, Math.floor(limit) || DEFAULT_JOURNAL_LIMIT));
  const rows = sql.all<JournalRow>(
    'SELECT * FROM journal WHERE id > ? ORDER BY id LIMIT ?',
    Math.max(0, Math.floor(afterId) || 0),
    boundedLimit,
  );
  return rows.map(toJournalEntry);
}

/**
 * Deletes entries older than `before`; returns how many. The newest entry is always kept, and
 * AUTOINCREMENT never hands out a deleted id again, so journalHead keeps growing.
 */
export function pruneJournal(sql: Sql, before: Date): number {
  return sql.write(
    () =>
      sql.run('DELETE FROM journal WHERE at < ? AND id < (SELECT max(id) FROM journal)', before.getTime())
        .changes,
  );
}
