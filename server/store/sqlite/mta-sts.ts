/** The MTA-STS policy cache's table (Store.saveStsPolicy): one row per domain. */
import type { CachedStsPolicy } from '../mta-sts.ts';
import type { Sql } from './database.ts';

export function saveStsPolicy(sql: Sql, domain: string, cached: CachedStsPolicy): void {
  sql.run(
    `INSERT INTO mta_sts_policies (domain, policy, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (domain) DO UPDATE SET policy = excluded.policy, expires_at = excluded.expires_at`,
    domain,
    cached.policy,
    cached.expiresAt.getTime(),
  );
}

export function getStsPolicy(sql: Sql, domain: string): CachedStsPolicy | null {
  const row = sql.get<{ policy: string; expires_at: number }>(
    'SELECT policy, expires_at FROM mta_sts_policies WHERE domain = ?',
    domain,
  );
  return row ? { policy: row.policy, expiresAt: new Date(row.expires_at) } : null;
}
