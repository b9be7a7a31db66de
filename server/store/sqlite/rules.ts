/**
 * Connection rules. The list is short (tens of rows), so positions are kept contiguous by
 * rewriting the rows in between on every insert, delete and move. Every change bumps the `rules`
 * counter in the same transaction, so a process that polls `rulesVersion` and sees it move reads
 * the whole change.
 */
import { StoreError } from '../errors.ts';
import { applyRulePatch, validatePosition, validateRule, type RuleFields } from '../rules.ts';
import type {
  ConnectionRule,
  ConnectionRuleKind,
  ConnectionRulePatch,
  NewConnectionRule,
  RuleProtocol,
} from '../types.ts';
import type { Sql } from './database.ts';

interface RuleRow {
  id: number;
  position: number;
  kind: string;
  cidrs: string;
  limit_value: number | null;
  window_seconds: number | null;
  protocols: string;
  enabled: number;
  note: string;
  created_at: number;
  updated_at: number;
}

function toRule(row: RuleRow): ConnectionRule {
  return {
    id: String(row.id),
    position: row.position,
    kind: row.kind as ConnectionRuleKind,
    cidrs: JSON.parse(row.cidrs) as string[],
    limit: row.limit_value,
    windowSeconds: row.window_seconds,
    protocols: JSON.parse(row.protocols) as RuleProtocol[],
    enabled: row.enabled !== 0,
    note: row.note,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function fieldsOf(rule: ConnectionRule): RuleFields {
  const { kind, cidrs, limit, windowSeconds, protocols, enabled, note } = rule;
  return { kind, cidrs, limit, windowSeconds, protocols, enabled, note };
}

function bumpVersion(sql: Sql): void {
  sql.run("UPDATE versions SET value = value + 1 WHERE name = 'rules'");
}

function ruleCount(sql: Sql): number {
  return sql.get<{ n: number }>('SELECT count(*) AS n FROM connection_rules')!.n;
}

function requireRuleRow(sql: Sql, id: number): RuleRow {
  const row = sql.get<RuleRow>('SELECT * FROM connection_rules WHERE id = ?', id);
  if (!row) throw new StoreError('NONEXISTENT', `no such rule ${id}`);
  return row;
}

export function listRules(sql: Sql): ConnectionRule[] {
  return sql.all<RuleRow>('SELECT * FROM connection_rules ORDER BY position, id').map(toRule);
}

export function rulesVersion(sql: Sql): number {
  return sql.get<{ value: number }>("SELECT value FROM versions WHERE name = 'rules'")?.value ?? 0;
}

function insertRule(sql: Sql, fields: RuleFields, requested: number | undefined): ConnectionRule {
  const count = ruleCount(sql);
  const position = requested === undefined ? count + 1 : Math.min(requested, count + 1);
  sql.run('UPDATE connection_rules SET position = position + 1 WHERE position >= ?', position);
  const now = Date.now();
  const row = sql.get<RuleRow>(
    `INSERT INTO connection_rules
       (position, kind, cidrs, limit_value, window_seconds, protocols, enabled, note, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    position,
    fields.kind,
    JSON.stringify(fields.cidrs),
    fields.limit,
    fields.windowSeconds,
    JSON.stringify(fields.protocols),
    fields.enabled ? 1 : 0,
    fields.note,
    now,
    now,
  )!;
  bumpVersion(sql);
  return toRule(row);
}

export function createRule(sql: Sql, input: NewConnectionRule): ConnectionRule {
  const fields = validateRule(input);
  const position = input.position === undefined ? undefined : validatePosition(input.position);
  return sql.write(() => insertRule(sql, fields, position));
}

export function seedRules(sql: Sql, inputs: NewConnectionRule[]): boolean {
  if (!Array.isArray(inputs)) throw new StoreError('INVALID', 'rules to seed must be a list');
  // Validate them all first: a bad one seeds nothing.
  const all = inputs.map((input) => validateRule(input));
  return sql.write(() => {
    if (rulesVersion(sql) !== 0 || all.length === 0) return false;
    for (const fields of all) insertRule(sql, fields, undefined);
    return true;
  });
}

export function updateRule(sql: Sql, id: number, patch: ConnectionRulePatch): ConnectionRule {
  return sql.write(() => {
    const current = toRule(requireRuleRow(sql, id));
    const fields = applyRulePatch(fieldsOf(current), patch);
    const row = sql.get<RuleRow>(
      `UPDATE connection_rules SET kind = ?, cidrs = ?, limit_value = ?, window_seconds = ?, protocols = ?,
         enabled = ?, note = ?, updated_at = ? WHERE id = ? RETURNING *`,
      fields.kind,
      JSON.stringify(fields.cidrs),
      fields.limit,
      fields.windowSeconds,
      JSON.stringify(fields.protocols),
      fields.enabled ? 1 : 0,
      fields.note,
      Math.max(Date.now(), current.updatedAt.getTime()),
      id,
    )!;
    bumpVersion(sql);
    return toRule(row);
  });
}

export function deleteRule(sql: Sql, id: number): void {
  sql.write(() => {
    const row = requireRuleRow(sql, id);
    sql.run('DELETE FROM connection_rules WHERE id = ?', id);
    sql.run('UPDATE connection_rules SET position = position - 1 WHERE position > ?', row.position);
    bumpVersion(sql);
  });
}

export function moveRule(sql: Sql, id: number, requested: number): ConnectionRule {
  const wanted = validatePosition(requested);
  return sql.write(() => {
    const row = requireRuleRow(sql, id);
    const position = Math.min(wanted, ruleCount(sql));
    if (position === row.position) return toRule(row);
    if (position < row.position) {
      sql.run(
        'UPDATE connection_rules SET position = position + 1 WHERE position >= ? AND position < ?',
        position,
        row.position,
      );
    } else {
      sql.run(
        'UPDATE connection_rules SET position = position - 1 WHERE position > ? AND position <= ?',
        row.position,
        position,
      );
    }
    const moved = sql.get<RuleRow>(
      'UPDATE connection_rules SET position = ?, updated_at = ? WHERE id = ? RETURNING *',
      position,
      Math.max(Date.now(), row.updated_at),
      id,
    )!;
    bumpVersion(sql);
    return toRule(moved);
  });
}
