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

/**
 * The newest id of the whole journal: ids are shared by every user and only grow, so every earlier
 * change of any user is at or below it (the contract's per-user head).
 */
export function journalHead(sql: Sql): number {
  return sql.get<{ head: number | null }>('SELECT max(id) AS head FROM journal')?.head ?? 0;
}

/**
 * The entries of the users in `after` past each one's id, in id order (which is each user's
 * order), at most `limit`. One query: a range scan from the lowest position, filtered per user.
 */
export function readJournal(
  sql: Sql,
  after: ReadonlyMap<string, number>,
  limit = DEFAULT_JOURNAL_LIMIT,
): JournalEntry[] {
  const boundedLimit = Math.max(1, Math.min(MAX_JOURNAL_LIMIT, Math.floor(limit) || DEFAULT_JOURNAL_LIMIT));
  const cursors: Array<[number, number]> = [];
  for (const [userId, position] of after) {
    const id = Number(userId);
    if (Number.isSafeInteger(id) && String(id) === userId)
      cursors.push([id, Math.max(0, Math.floor(position) || 0)]);
  }
  const rows: JournalRow[] = [];
  // Bounded by the number of SQL variables per statement.
  for (let start = 0; start < cursors.length && rows.length < boundedLimit; start += 400) {
    const batch = cursors.slice(start, start + 400);
    const lowest = Math.min(...batch.map(([, position]) => position));
    rows.push(
      ...sql.all<JournalRow>(
        `SELECT * FROM journal WHERE id > ? AND (${batch.map(() => '(user_id = ? AND id > ?)').join(' OR ')})
         ORDER BY id LIMIT ?`,
        lowest,
        ...batch.flat(),
        boundedLimit - rows.length,
      ),
    );
  }
  return rows.sort((x, y) => x.id - y.id).map(toJournalEntry);
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
