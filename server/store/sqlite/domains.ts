/**
 * Domain records on sqlite (see `Domain` in ../types.ts). The catch-all is the `*@domain` row of
 * `addresses` (where it has always lived, so delivery and `listAddresses` need no change); the
 * domain reads it from there.
 */
import { domainOfAddress, normalizeDomainName, tryDomainName, usageText } from '../domains.ts';
import { StoreError } from '../errors.ts';
import type { Domain, DomainPatch, DomainUsage } from '../types.ts';
import type { Sql } from './database.ts';

interface DomainRow {
  name: string;
  dkim: number;
  created_at: number;
  catch_all: string | null;
}

const SELECT = `
  SELECT domains.*, (SELECT users.username FROM addresses JOIN users ON users.id = addresses.user_id
                     WHERE addresses.address = '*@' || domains.name) AS catch_all
  FROM domains`;

function toDomain(row: DomainRow): Domain {
  return {
    name: row.name,
    catchAll: row.catch_all,
    dkim: row.dkim === 1,
    createdAt: new Date(row.created_at),
  };
}

function domainRow(sql: Sql, name: string): DomainRow | undefined {
  return sql.get<DomainRow>(`${SELECT} WHERE name = ?`, name);
}

function requireDomain(sql: Sql, name: string): DomainRow {
  const key = tryDomainName(name) ?? (typeof name === 'string' ? name.trim().toLowerCase() : '');
  const row = domainRow(sql, key);
  if (!row) throw new StoreError('NONEXISTENT', `no such domain ${key}`);
  return row;
}

export function listDomains(sql: Sql): Domain[] {
  return sql.all<DomainRow>(`${SELECT} ORDER BY name`).map(toDomain);
}

export function getDomain(sql: Sql, name: string): Domain | null {
  const key = tryDomainName(name) ?? (typeof name === 'string' ? name.trim().toLowerCase() : '');
  const row = domainRow(sql, key);
  return row ? toDomain(row) : null;
}

export function createDomain(sql: Sql, domain: { name: string }): Domain {
  const name = normalizeDomainName(domain?.name);
  return sql.write(() => {
    if (domainRow(sql, name)) throw new StoreError('ALREADYEXISTS', `domain ${name} exists`);
    sql.run('INSERT INTO domains (name, dkim, created_at) VALUES (?, 1, ?)', name, Date.now());
    return toDomain(domainRow(sql, name)!);
  });
}

/** Records the domain of a stored address when it has none yet (inside the caller's transaction). */
export function ensureDomainOf(sql: Sql, address: string): void {
  const name = domainOfAddress(address);
  if (name !== '')
    sql.run('INSERT OR IGNORE INTO domains (name, dkim, created_at) VALUES (?, 1, ?)', name, Date.now());
}

export function updateDomain(sql: Sql, name: string, patch: DomainPatch): Domain {
  return sql.write(() => {
    const row = requireDomain(sql, name);
    if (patch.dkim !== undefined)
      sql.run('UPDATE domains SET dkim = ? WHERE name = ?', patch.dkim ? 1 : 0, row.name);
    if (patch.catchAll !== undefined) setCatchAll(sql, row.name, patch.catchAll);
    return toDomain(domainRow(sql, row.name)!);
  });
}

function setCatchAll(sql: Sql, domain: string, target: string | null): void {
  const catchAll = `*@${domain}`;
  if (target === null) {
    sql.run('DELETE FROM addresses WHERE address = ?', catchAll);
    return;
  }
  const wanted = typeof target === 'string' ? target.trim().toLowerCase() : '';
  const owner = sql.get<{ user_id: number }>(
    "SELECT user_id FROM addresses WHERE address = ? AND kind != 'catchall'",
    wanted,
  );
  if (!owner) throw new StoreError('NONEXISTENT', `no user has the address ${wanted}`);
  sql.run(
    "INSERT INTO addresses (address, user_id, kind) VALUES (?, ?, 'catchall') ON CONFLICT (address) DO UPDATE SET user_id = excluded.user_id",
    catchAll,
    owner.user_id,
  );
}

/** Users and aliases with an address in the domain (see Store.domainUsage). */
export function domainUsage(sql: Sql, name: string): DomainUsage {
  return usageOf(sql, requireDomain(sql, name).name);
}

function usageOf(sql: Sql, domain: string): DomainUsage {
  return sql.get<DomainUsage>(
    `SELECT count(*) FILTER (WHERE kind = 'primary') AS users, count(*) FILTER (WHERE kind = 'alias') AS aliases
     FROM addresses WHERE address LIKE ? ESCAPE '\\'`,
    `%@${domain.replace(/[\\%_]/g, '\\$&')}`,
  )!;
}

export function deleteDomain(sql: Sql, name: string): void {
  sql.write(() => {
    const row = requireDomain(sql, name);
    const counts = usageOf(sql, row.name);
    if (counts.users + counts.aliases > 0) {
      throw new StoreError(
        'CANNOT',
        `domain ${row.name} is used by ${usageText(counts.users, counts.aliases)}`,
      );
    }
    sql.run('DELETE FROM addresses WHERE address = ?', `*@${row.name}`);
    sql.run('DELETE FROM domains WHERE name = ?', row.name);
  });
}
