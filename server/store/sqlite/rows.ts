/**
 * Row shapes of the sqlite tables and their mapping to the contract types. Ids are INTEGER in the
 * database and strings in the contract.
 */
import { StoreError } from '../errors.ts';
import type {
  AppPassword,
  Flag,
  JournalEntry,
  JournalKind,
  Mailbox,
  MessageSummary,
  SpecialUse,
  User,
} from '../types.ts';
import type { Sql } from './database.ts';

export interface UserRow {
  id: number;
  username: string;
  name: string;
  password_hash: string;
  disabled: number;
  save_sent: number;
  /** NULL: the server's default; 0 or 1. */
  uid_only: number | null;
  quota_bytes: number;
  used_bytes: number;
  last_uid_validity: number;
  created_at: number;
}

export interface MailboxRow {
  id: number;
  user_id: number;
  path: string;
  special_use: string | null;
  subscribed: number;
  selectable: number;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  recent_mark: number;
  /** STATUS counters, kept by triggers on messages (schema migration 11). */
  message_count: number;
  unseen_count: number;
  byte_count: number;
  /** Messages flagged \Deleted, kept by the same triggers (migration 14). */
  deleted_count: number;
  /** Every expunge with a higher MODSEQ is in the expunged table (migration 12). */
  expunged_floor: number;
}

export interface MessageRow {
  mailbox_id: number;
  uid: number;
  modseq: number;
  flags: string;
  internal_date: number;
  size: number;
  blob_hash: string;
  saved_at: number | null;
  /** Null only between migration 22's ALTER and its backfill. */
  thread_id: string | null;
}

export interface AppPasswordRow {
  id: number;
  user_id: number;
  label: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
}

export interface JournalRow {
  id: number;
  user_id: number;
  mailbox_id: number;
  kind: string;
  uid: number | null;
  modseq: number | null;
  flags: string | null;
  path: string | null;
  old_path: string | null;
  at: number;
}

export const MESSAGE_COLUMNS =
  'mailbox_id, uid, modseq, flags, internal_date, size, blob_hash, saved_at, thread_id';

export function toUser(row: UserRow): User {
  return {
    id: String(row.id),
    username: row.username,
    name: row.name,
    disabled: row.disabled !== 0,
    saveSentCopy: row.save_sent === 1,
    uidOnly: row.uid_only === null || row.uid_only === undefined ? null : row.uid_only === 1,
    quotaBytes: row.quota_bytes,
    usedBytes: row.used_bytes,
    createdAt: new Date(row.created_at),
  };
}

export function toMailbox(row: MailboxRow): Mailbox {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    path: row.path,
    specialUse: row.special_use as SpecialUse | null,
    subscribed: row.subscribed !== 0,
    selectable: row.selectable !== 0,
    uidValidity: row.uid_validity,
    uidNext: row.uid_next,
    highestModseq: row.highest_modseq,
  };
}

export function toMessageSummary(row: MessageRow): MessageSummary {
  return {
    mailboxId: String(row.mailbox_id),
    uid: row.uid,
    modseq: row.modseq,
    flags: JSON.parse(row.flags) as Flag[],
    internalDate: new Date(row.internal_date),
    size: row.size,
    blobId: row.blob_hash,
    savedAt: row.saved_at === null ? null : new Date(row.saved_at),
    threadId: row.thread_id,
  };
}

export function toAppPassword(row: AppPasswordRow): AppPassword {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    label: row.label,
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
  };
}

export function toJournalEntry(row: JournalRow): JournalEntry {
  return {
    id: row.id,
    userId: String(row.user_id),
    mailboxId: String(row.mailbox_id),
    kind: row.kind as JournalKind,
    uid: row.uid,
    modseq: row.modseq,
    flags: row.flags === null ? null : (JSON.parse(row.flags) as Flag[]),
    path: row.path,
    oldPath: row.old_path,
    at: new Date(row.at),
  };
}

// --- shared look-ups used inside transactions ---

export function userRow(sql: Sql, userId: number): UserRow | undefined {
  return sql.get<UserRow>('SELECT * FROM users WHERE id = ?', userId);
}

export function requireUserRow(sql: Sql, userId: number): UserRow {
  const row = userRow(sql, userId);
  if (!row) throw new StoreError('NONEXISTENT', `no such user ${userId}`);
  return row;
}

export function mailboxRow(sql: Sql, mailboxId: number): MailboxRow | undefined {
  return sql.get<MailboxRow>('SELECT * FROM mailboxes WHERE id = ?', mailboxId);
}

export function requireMailboxRow(sql: Sql, mailboxId: number): MailboxRow {
  const row = mailboxRow(sql, mailboxId);
  if (!row) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
  return row;
}

/** A mailbox that can hold messages (not a \Noselect placeholder). */
export function requireSelectableMailbox(sql: Sql, mailboxId: number): MailboxRow {
  const row = requireMailboxRow(sql, mailboxId);
  if (row.selectable === 0) throw new StoreError('CANNOT', `mailbox ${row.path} is not selectable`);
  return row;
}

export function mailboxRowByPath(sql: Sql, userId: number, path: string): MailboxRow | undefined {
  return sql.get<MailboxRow>('SELECT * FROM mailboxes WHERE user_id = ? AND path = ?', userId, path);
}
