/**
 * The spam filter's tables (Store.listSpamEntries, Store.greylist): lists keyed by (user, pattern),
 * greylisting triplets with their expiry. Each call runs in one write transaction, so a triplet is
 * read and written by one process at a time.
 */
import { StoreError } from '../errors.ts';
import { normalizeSpamPattern, type GreylistResult, type SpamListEntry, type SpamListKind } from '../spam.ts';
import type { Sql } from './database.ts';
import { requireUserRow } from './rows.ts';

interface SpamListRow {
  user_id: number;
  pattern: string;
  list: SpamListKind;
  created_at: number;
}

/** Expired triplets removed per new one: the table stays small without a sweeper. */
const PURGE_BATCH = 100;

function entryOf(row: SpamListRow): SpamListEntry {
  return {
    userId: String(row.user_id),
    list: row.list,
    pattern: row.pattern,
    createdAt: new Date(row.created_at),
  };
}

export function listSpamEntries(sql: Sql, userId: number): SpamListEntry[] {
  return sql
    .all<SpamListRow>('SELECT * FROM spam_lists WHERE user_id = ? ORDER BY pattern', userId)
    .map(entryOf);
}

export function setSpamEntry(sql: Sql, userId: number, list: SpamListKind, pattern: string): SpamListEntry {
  const normalized = normalizeSpamPattern(pattern);
  return sql.write(() => {
    requireUserRow(sql, userId);
    sql.run(
      `INSERT INTO spam_lists (user_id, pattern, list, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, pattern) DO UPDATE SET list = excluded.list`,
      userId,
      normalized,
      list,
      Date.now(),
    );
    return entryOf(
      sql.get<SpamListRow>('SELECT * FROM spam_lists WHERE user_id = ? AND pattern = ?', userId, normalized)!,
    );
  });
}

export function removeSpamEntry(sql: Sql, userId: number, pattern: string): void {
  const normalized = normalizeSpamPattern(pattern);
  const result = sql.run('DELETE FROM spam_lists WHERE user_id = ? AND pattern = ?', userId, normalized);
  if (result.changes === 0)
    throw new StoreError('NONEXISTENT', `${normalized} is on no list of user ${userId}`);
}

export function greylist(
  sql: Sql,
  triplet: string,
  delayMs: number,
  expiryMs: number,
  now: number,
): GreylistResult {
  return sql.write(() => {
    const row = sql.get<{ first_seen: number; expires_at: number }>(
      'SELECT first_seen, expires_at FROM greylist WHERE triplet = ?',
      triplet,
    );
    if (!row || row.expires_at < now) {
      sql.run(
        'DELETE FROM greylist WHERE triplet IN (SELECT triplet FROM greylist WHERE expires_at < ? LIMIT ?)',
        now,
        PURGE_BATCH,
      );
      sql.run(
        `INSERT INTO greylist (triplet, first_seen, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (triplet) DO UPDATE SET first_seen = excluded.first_seen, expires_at = excluded.expires_at`,
        triplet,
        now,
        now + expiryMs,
      );
      return { passed: false, retryAt: new Date(now + delayMs) };
    }
    const retryAt = row.first_seen + delayMs;
    if (now < retryAt) return { passed: false, retryAt: new Date(retryAt) };
    sql.run('UPDATE greylist SET expires_at = ? WHERE triplet = ?', now + expiryMs, triplet);
    return { passed: true, retryAt: new Date(retryAt) };
  });
}
