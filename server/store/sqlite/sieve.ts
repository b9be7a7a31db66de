/**
 * Sieve scripts and memory on sqlite (Store.putSieveScript and friends, server/store/sieve.ts). A
 * partial unique index keeps one active script per user; each change runs in one write transaction.
 */
import { StoreError } from '../errors.ts';
import type { SieveMemoryEntry, SieveScriptRecord } from '../sieve.ts';
import type { Sql } from './database.ts';
import { requireUserRow } from './rows.ts';

interface ScriptRow {
  user_id: number;
  name: string;
  content: string;
  active: number;
  updated_at: number;
}

/** Expired memory removed per new key: the table stays small without a sweeper. */
const PURGE_BATCH = 100;

function recordOf(row: ScriptRow): SieveScriptRecord {
  return {
    userId: String(row.user_id),
    name: row.name,
    content: row.content,
    active: row.active === 1,
    updatedAt: new Date(row.updated_at),
  };
}

export function listSieveScripts(sql: Sql, userId: number): SieveScriptRecord[] {
  return sql
    .all<ScriptRow>('SELECT * FROM sieve_scripts WHERE user_id = ? ORDER BY name', userId)
    .map(recordOf);
}

export function getSieveScript(sql: Sql, userId: number, name: string): SieveScriptRecord | null {
  const row = sql.get<ScriptRow>('SELECT * FROM sieve_scripts WHERE user_id = ? AND name = ?', userId, name);
  return row ? recordOf(row) : null;
}

export function getActiveSieveScript(sql: Sql, userId: number): SieveScriptRecord | null {
  const row = sql.get<ScriptRow>('SELECT * FROM sieve_scripts WHERE user_id = ? AND active = 1', userId);
  return row ? recordOf(row) : null;
}

export function putSieveScript(sql: Sql, userId: number, name: string, content: string): SieveScriptRecord {
  return sql.write(() => {
    requireUserRow(sql, userId);
    sql.run(
      `INSERT INTO sieve_scripts (user_id, name, content, active, updated_at) VALUES (?, ?, ?, 0, ?)
       ON CONFLICT (user_id, name) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at`,
      userId,
      name,
      content,
      Date.now(),
    );
    return getSieveScript(sql, userId, name)!;
  });
}

function requireScript(sql: Sql, userId: number, name: string): SieveScriptRecord {
  const script = getSieveScript(sql, userId, name);
  if (!script) throw new StoreError('NONEXISTENT', `no script ${JSON.stringify(name)}`);
  return script;
}

export function activateSieveScript(sql: Sql, userId: number, name: string | null): void {
  sql.write(() => {
    if (name !== null) requireScript(sql, userId, name);
    sql.run('UPDATE sieve_scripts SET active = 0 WHERE user_id = ? AND active = 1', userId);
    if (name !== null)
      sql.run('UPDATE sieve_scripts SET active = 1 WHERE user_id = ? AND name = ?', userId, name);
  });
}

export function deleteSieveScript(sql: Sql, userId: number, name: string): void {
  sql.write(() => {
    if (requireScript(sql, userId, name).active) {
      throw new StoreError('CANNOT', `script ${JSON.stringify(name)} is active`);
    }
    sql.run('DELETE FROM sieve_scripts WHERE user_id = ? AND name = ?', userId, name);
  });
}

export function renameSieveScript(sql: Sql, userId: number, from: string, to: string): void {
  sql.write(() => {
    requireScript(sql, userId, from);
    if (from === to) return;
    if (getSieveScript(sql, userId, to))
      throw new StoreError('ALREADYEXISTS', `script ${JSON.stringify(to)} exists`);
    sql.run('UPDATE sieve_scripts SET name = ? WHERE user_id = ? AND name = ?', to, userId, from);
  });
}

export function claimSieveMemory(
  sql: Sql,
  userId: number,
  key: string,
  expiresAt: number,
  now: number,
): boolean {
  return sql.write(() => {
    requireUserRow(sql, userId);
    const row = sql.get<{ expires_at: number }>(
      'SELECT expires_at FROM sieve_memory WHERE user_id = ? AND key = ?',
      userId,
      key,
    );
    if (row && row.expires_at > now) return false;
    sql.run(
      'DELETE FROM sieve_memory WHERE (user_id, key) IN (SELECT user_id, key FROM sieve_memory WHERE expires_at <= ? LIMIT ?)',
      now,
      PURGE_BATCH,
    );
    sql.run(
      `INSERT INTO sieve_memory (user_id, key, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id, key) DO UPDATE SET expires_at = excluded.expires_at`,
      userId,
      key,
      expiresAt,
    );
    return true;
  });
}

export function listSieveMemory(sql: Sql, userId: number, now: number): SieveMemoryEntry[] {
  return sql
    .all<{ key: string; expires_at: number }>(
      'SELECT key, expires_at FROM sieve_memory WHERE user_id = ? AND expires_at > ? ORDER BY key',
      userId,
      now,
    )
    .map((row) => ({ key: row.key, expiresAt: new Date(row.expires_at) }));
}

export function hasSieveMemory(sql: Sql, userId: number, key: string, now: number): boolean {
  const row = sql.get<{ expires_at: number }>(
    'SELECT expires_at FROM sieve_memory WHERE user_id = ? AND key = ?',
    userId,
    key,
  );
  return row !== undefined && row.expires_at > now;
}
