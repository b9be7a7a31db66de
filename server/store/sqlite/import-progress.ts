/** The IMAP import's progress table (Store.saveImportProgress): one row per user, source, folder. */
import type { ImportProgress } from '../import-progress.ts';
import type { Sql } from './database.ts';
import { requireUserRow } from './rows.ts';

export function saveImportProgress(sql: Sql, userId: number, progress: ImportProgress): void {
  requireUserRow(sql, userId);
  sql.run(
    `INSERT INTO import_progress (user_id, source, folder, uid_validity, last_uid) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (user_id, source, folder)
     DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid`,
    userId,
    progress.source,
    progress.folder,
    progress.uidValidity,
    progress.lastUid,
  );
}

/** One source's folders, or every source's (by source, then folder) when `source` is null. */
export function listImportProgress(sql: Sql, userId: number, source: string | null): ImportProgress[] {
  type Row = { source: string; folder: string; uid_validity: number; last_uid: number };
  const rows =
    source === null
      ? sql.all<Row>(
          `SELECT source, folder, uid_validity, last_uid FROM import_progress
           WHERE user_id = ? ORDER BY source, folder`,
          userId,
        )
      : sql.all<Row>(
          `SELECT source, folder, uid_validity, last_uid FROM import_progress
           WHERE user_id = ? AND source = ? ORDER BY folder`,
          userId,
          source,
        );
  return rows.map((row) => ({
    source: row.source,
    folder: row.folder,
    uidValidity: row.uid_validity,
    lastUid: row.last_uid,
  }));
}
