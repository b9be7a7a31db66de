/**
 * Leases: a named lock with an expiry, shared by every process on the database (see
 * Store.acquireLease). One upsert decides atomically: the row is written only when it is new,
 * ours, or expired, so two processes cannot both get `true` for the same key.
 */
import type { Sql } from './database.ts';

export function acquireLease(sql: Sql, key: string, holder: string, ttlMs: number): boolean {
  const now = Date.now();
  const result = sql.run(
    `INSERT INTO leases (key, holder, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.holder = excluded.holder OR leases.expires_at < ?`,
    key,
    holder,
    now + ttlMs,
    now,
  );
  return result.changes === 1;
}

export function releaseLease(sql: Sql, key: string, holder: string): void {
  sql.run('DELETE FROM leases WHERE key = ? AND holder = ?', key, holder);
}
