/**
 * The outbound queue on sqlite (Store.enqueueOutbound and friends). Claiming is one write
 * transaction, and sqlite has one writer at a time across processes, so two workers never lease
 * the same message.
 */
import { StoreError } from '../errors.ts';
import {
  checkNewOutbound,
  checkOutboundHolder,
  messageDsnOf,
  newOutboundId,
  recipientDsnOf,
  type DsnNotify,
  type NewOutboundMessage,
  type OutboundMessage,
  type OutboundRecipient,
  type OutboundResult,
  type OutboundState,
} from '../outbound.ts';
import type { Sql } from './database.ts';

interface MessageRow {
  id: string;
  user_id: number | null;
  sender: string;
  size: number;
  created_at: number;
  dsn_ret: string | null;
  dsn_envid: string | null;
}

interface RecipientRow {
  message_id: string;
  address: string;
  state: string;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  warned: number;
  updated_at: number;
  notify: string | null;
  orcpt: string | null;
}

const MESSAGE_COLUMNS = 'id, user_id, sender, size, created_at, dsn_ret, dsn_envid';

function recipientOf(row: RecipientRow): OutboundRecipient {
  return {
    address: row.address,
    state: row.state as OutboundState,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at === null ? null : new Date(row.next_attempt_at),
    lastError: row.last_error,
    warned: row.warned === 1,
    updatedAt: new Date(row.updated_at),
    notify: row.notify === null ? null : (row.notify.split(',') as DsnNotify[]),
    orcpt: row.orcpt,
  };
}

function messageOf(sql: Sql, row: MessageRow): OutboundMessage {
  const recipients = sql.all<RecipientRow>(
    'SELECT * FROM outbound_recipients WHERE message_id = ? ORDER BY position',
    row.id,
  );
  return {
    id: row.id,
    userId: row.user_id === null ? null : String(row.user_id),
    sender: row.sender,
    size: row.size,
    createdAt: new Date(row.created_at),
    dsn: { ret: row.dsn_ret as 'FULL' | 'HDRS' | null, envid: row.dsn_envid },
    recipients: recipients.map(recipientOf),
  };
}

export function enqueueOutbound(sql: Sql, message: NewOutboundMessage): OutboundMessage {
  const recipients = checkNewOutbound(message);
  const dsn = messageDsnOf(message);
  const recipientDsn = recipients.map((address) => recipientDsnOf(message, address));
  const id = newOutboundId();
  const now = Date.now();
  sql.write(() => {
    sql.run(
      `INSERT INTO outbound_messages (id, user_id, sender, raw, size, created_at, dsn_ret, dsn_envid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      message.userId === null ? null : Number(message.userId),
      message.sender,
      message.raw,
      message.raw.length,
      now,
      dsn.ret,
      dsn.envid,
    );
    recipients.forEach((address, position) => {
      const { notify, orcpt } = recipientDsn[position]!;
      sql.run(
        `INSERT INTO outbound_recipients
           (message_id, position, address, state, next_attempt_at, updated_at, notify, orcpt)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)`,
        id,
        position,
        address,
        now,
        now,
        notify === null ? null : notify.join(','),
        orcpt,
      );
    });
  });
  return getOutbound(sql, id)!;
}

export function claimOutbound(
  sql: Sql,
  holder: string,
  leaseMs: number,
  limit: number,
  now: number,
): OutboundMessage[] {
  checkOutboundHolder(holder, leaseMs);
  const dueIds = () =>
    sql.all<{ id: string }>(
      `SELECT m.id AS id FROM outbound_messages m
       JOIN outbound_recipients r ON r.message_id = m.id
       WHERE r.next_attempt_at IS NOT NULL AND r.next_attempt_at <= ?
         AND (m.lease_holder IS NULL OR m.lease_until < ?)
       GROUP BY m.id ORDER BY MIN(r.next_attempt_at), m.created_at LIMIT ?`,
      now,
      now,
      Math.max(0, Math.floor(limit)),
    );
  // Read first: the poll of an empty queue (nearly every poll) takes no write lock, so it never
  // queues behind, or holds up, deliveries and flag changes (nor meets SQLITE_BUSY under their load).
  if (limit < 1 || dueIds().length === 0) return [];
  const ids = sql.write(() => {
    const due = dueIds(); // again inside the transaction: another process may have claimed them
    for (const { id } of due) {
      sql.run(
        'UPDATE outbound_messages SET lease_holder = ?, lease_until = ? WHERE id = ?',
        holder,
        now + leaseMs,
        id,
      );
    }
    return due.map((row) => row.id);
  });
  return ids.map((id) => getOutbound(sql, id)).filter((message) => message !== null);
}

export function recordOutbound(
  sql: Sql,
  id: string,
  holder: string,
  address: string,
  result: OutboundResult,
): boolean {
  checkOutboundHolder(holder);
  const now = Date.now();
  return sql.write(() => {
    const leased = sql.get<{ id: string }>(
      'SELECT id FROM outbound_messages WHERE id = ? AND lease_holder = ? AND lease_until >= ?',
      id,
      holder,
      now,
    );
    if (!leased) return false;
    const next = result.state === 'deferred' ? result.nextAttemptAt.getTime() : null;
    const error = result.state === 'delivered' ? null : result.error;
    const changed = sql.run(
      `UPDATE outbound_recipients
       SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = COALESCE(?, last_error),
           warned = MAX(warned, ?), updated_at = ?
       WHERE message_id = ? AND address = ? AND state IN ('queued', 'deferred')`,
      result.state,
      next,
      error,
      result.state === 'deferred' && result.warned ? 1 : 0,
      now,
      id,
      address,
    );
    return changed.changes === 1;
  });
}

export function renewOutbound(sql: Sql, id: string, holder: string, leaseMs: number): boolean {
  checkOutboundHolder(holder, leaseMs);
  const now = Date.now();
  const changed = sql.run(
    'UPDATE outbound_messages SET lease_until = ? WHERE id = ? AND lease_holder = ? AND lease_until >= ?',
    now + leaseMs,
    id,
    holder,
    now,
  );
  return changed.changes === 1;
}

export function releaseOutbound(sql: Sql, id: string, holder: string): void {
  sql.run(
    'UPDATE outbound_messages SET lease_holder = NULL, lease_until = 0 WHERE id = ? AND lease_holder = ?',
    id,
    holder,
  );
}

export function readOutboundRaw(sql: Sql, id: string): Buffer {
  const row = sql.get<{ raw: Buffer }>('SELECT raw FROM outbound_messages WHERE id = ?', id);
  if (!row) throw new StoreError('NONEXISTENT', `No queued message ${id}`);
  return row.raw;
}

export function getOutbound(sql: Sql, id: string): OutboundMessage | null {
  const row = sql.get<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM outbound_messages WHERE id = ?`, id);
  return row ? messageOf(sql, row) : null;
}

export function listOutbound(sql: Sql): OutboundMessage[] {
  return sql
    .all<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM outbound_messages ORDER BY created_at, id`)
    .map((row) => messageOf(sql, row));
}

export function retryOutbound(sql: Sql, id: string): OutboundMessage {
  const now = Date.now();
  sql.write(() => {
    if (!getOutbound(sql, id)) throw new StoreError('NONEXISTENT', `No queued message ${id}`);
    sql.run(
      `UPDATE outbound_recipients SET next_attempt_at = ?, updated_at = ?
       WHERE message_id = ? AND state IN ('queued', 'deferred')`,
      now,
      now,
      id,
    );
  });
  return getOutbound(sql, id)!;
}

export function deleteOutbound(sql: Sql, id: string): void {
  const deleted = sql.write(() => {
    sql.run('DELETE FROM outbound_recipients WHERE message_id = ?', id);
    return sql.run('DELETE FROM outbound_messages WHERE id = ?', id).changes;
  });
  if (deleted === 0) throw new StoreError('NONEXISTENT', `No queued message ${id}`);
}
