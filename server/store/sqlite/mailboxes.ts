/**
 * Mailboxes: the hierarchy, UIDVALIDITY, subscriptions and the \Recent mark.
 *
 * The hierarchy keeps one invariant: every ancestor of an existing mailbox exists (selectable or as
 * a \Noselect placeholder). Create and rename add missing parents; delete of a mailbox with children
 * leaves a placeholder; a placeholder whose children go away is kept, as Dovecot does.
 */
import { StoreError } from '../errors.ts';
import {
  isInbox,
  isSameOrDescendant,
  normalizeMailboxPath,
  parentPaths,
  validateSpecialUse,
} from '../normalize.ts';
import { MAILBOX_DELIMITER, type Mailbox, type SpecialUse } from '../types.ts';
import type { Sql } from './database.ts';
import { writeJournal } from './journal.ts';
import { deleteMailboxMetadata } from './metadata.ts';
import { allMessageRows, removeAllMessages, transferMessages } from './messages.ts';
import { mailboxRowByPath, requireMailboxRow, requireUserRow, toMailbox, type MailboxRow } from './rows.ts';

/**
 * A fresh UIDVALIDITY for one of the user's mailboxes: the current time in seconds, but always
 * above the last one handed out, so a mailbox deleted and re-created within the same second (or
 * after the clock went back) still gets a different value.
 */
function allocateUidValidity(sql: Sql, userId: number): number {
  const nowSeconds = Math.floor(Date.now() / 1000);
  return sql.get<{ value: number }>(
    `UPDATE users SET last_uid_validity = max(?, last_uid_validity + 1) WHERE id = ?
     RETURNING last_uid_validity AS value`,
    nowSeconds,
    userId,
  )!.value;
}

/** `mailboxes.subscribed` for a path: whether the name is on the user's subscription list. */
const IS_SUBSCRIBED = 'EXISTS (SELECT 1 FROM subscriptions WHERE user_id = ? AND path = ?)';

/**
 * Inserts a new mailbox and journals it; `subscribe` puts its name on the subscription list (the
 * default mailboxes of a new account). The caller has checked that the path is free.
 */
export function insertMailbox(
  sql: Sql,
  userId: number,
  path: string,
  specialUse: SpecialUse | null,
  subscribe = false,
): MailboxRow {
  if (subscribe) addSubscription(sql, userId, path);
  const row = sql.get<MailboxRow>(
    `INSERT INTO mailboxes (user_id, path, special_use, uid_validity, subscribed)
     VALUES (?, ?, ?, ?, ${IS_SUBSCRIBED}) RETURNING *`,
    userId,
    path,
    specialUse,
    allocateUidValidity(sql, userId),
    userId,
    path,
  )!;
  writeJournal(sql, { userId, mailboxId: row.id, kind: 'mailbox-create', path });
  return row;
}

/** Creates the missing ancestors of `path` as ordinary (selectable) mailboxes. */
function ensureParents(sql: Sql, userId: number, path: string): void {
  for (const parent of parentPaths(path)) {
    if (!mailboxRowByPath(sql, userId, parent)) insertMailbox(sql, userId, parent, null);
  }
}

function descendants(sql: Sql, userId: number, path: string): MailboxRow[] {
  // Every path starting with "path/" sorts between "path/" and "path0" ("0" follows "/" in ASCII),
  // which lets the (user_id, path) index answer without LIKE-escaping the name.
  return sql.all<MailboxRow>(
    'SELECT * FROM mailboxes WHERE user_id = ? AND path > ? AND path < ? ORDER BY path',
    userId,
    path + MAILBOX_DELIMITER,
    path + '0',
  );
}

function requireMailboxByPath(sql: Sql, userId: number, path: string): MailboxRow {
  const row = mailboxRowByPath(sql, userId, path);
  if (!row) throw new StoreError('NONEXISTENT', `no such mailbox ${path}`);
  return row;
}

// --- reading ---

/** INBOX first, then by path. */
export function listMailboxes(sql: Sql, userId: number): Mailbox[] {
  return sql
    .all<MailboxRow>("SELECT * FROM mailboxes WHERE user_id = ? ORDER BY path <> 'INBOX', path", userId)
    .map(toMailbox);
}

export { getMailbox, mailboxCounts, mailboxStatus } from './mailbox-reads.ts';

// --- changes ---

export function createMailbox(
  sql: Sql,
  userId: number,
  path: string,
  specialUse: SpecialUse | null | undefined,
): Mailbox {
  const normalized = normalizeMailboxPath(path);
  const use = validateSpecialUse(specialUse);
  return sql.write(() => {
    requireUserRow(sql, userId);
    const existing = mailboxRowByPath(sql, userId, normalized);
    if (existing?.selectable) throw new StoreError('ALREADYEXISTS', `mailbox ${normalized} exists`);
    ensureParents(sql, userId, normalized);
    if (existing) return toMailbox(revivePlaceholder(sql, existing, use));
    return toMailbox(insertMailbox(sql, userId, normalized, use));
  });
}

/**
 * Makes a \Noselect placeholder selectable again. It gets a new UIDVALIDITY: to a client this is a
 * new mailbox, and nothing it cached about the old one may apply.
 */
function revivePlaceholder(sql: Sql, placeholder: MailboxRow, specialUse: SpecialUse | null): MailboxRow {
  const row = sql.get<MailboxRow>(
    `UPDATE mailboxes SET selectable = 1, uid_validity = ?, special_use = coalesce(?, special_use)
     WHERE id = ? RETURNING *`,
    allocateUidValidity(sql, placeholder.user_id),
    specialUse,
    placeholder.id,
  )!;
  writeJournal(sql, { userId: row.user_id, mailboxId: row.id, kind: 'mailbox-create', path: row.path });
  return row;
}

/**
 * Deletes a mailbox. INBOX cannot go; a mailbox with children loses its messages and stays as a
 * \Noselect placeholder (and deleting such a placeholder is refused, as RFC 3501 says).
 */
export function deleteMailbox(sql: Sql, userId: number, path: string): void {
  const normalized = normalizeMailboxPath(path);
  if (isInbox(normalized)) throw new StoreError('CANNOT', 'INBOX cannot be deleted');
  sql.write(() => {
    const mailbox = requireMailboxByPath(sql, userId, normalized);
    const hasChildren = descendants(sql, userId, normalized).length > 0;
    if (hasChildren && !mailbox.selectable) {
      throw new StoreError('CANNOT', `mailbox ${normalized} has children and is not selectable`);
    }
    removeAllMessages(sql, mailbox);
    deleteMailboxMetadata(sql, mailbox.id);
    // A placeholder keeps its id: its URLAUTH key goes, so no old URL works on a revived mailbox.
    if (hasChildren)
      sql.run('UPDATE mailboxes SET selectable = 0, urlauth_key = NULL WHERE id = ?', mailbox.id);
    else sql.run('DELETE FROM mailboxes WHERE id = ?', mailbox.id);
    writeJournal(sql, { userId, mailboxId: mailbox.id, kind: 'mailbox-delete', path: normalized });
  });
}

/**
 * Renames a mailbox with its children (UIDVALIDITY kept). INBOX is special: its messages move to
 * a new mailbox and INBOX stays, empty, with its children in place (RFC 3501).
 */
export function renameMailbox(sql: Sql, userId: number, fromPath: string, toPath: string): void {
  const from = normalizeMailboxPath(fromPath);
  const to = normalizeMailboxPath(toPath);
  sql.write(() => {
    requireUserRow(sql, userId);
    const source = requireMailboxByPath(sql, userId, from);
    if (mailboxRowByPath(sql, userId, to)) throw new StoreError('ALREADYEXISTS', `mailbox ${to} exists`);
    if (isInbox(from)) {
      renameInbox(sql, source, to);
      return;
    }
    if (isSameOrDescendant(to, from)) {
      throw new StoreError('CANNOT', `cannot rename ${from} into its own child ${to}`);
    }
    ensureParents(sql, userId, to);
    for (const mailbox of [source, ...descendants(sql, userId, from)]) {
      const newPath = to + mailbox.path.slice(from.length);
      sql.run(
        `UPDATE mailboxes SET path = ?, subscribed = ${IS_SUBSCRIBED} WHERE id = ?`,
        newPath,
        userId,
        newPath,
        mailbox.id,
      );
      writeJournal(sql, {
        userId,
        mailboxId: mailbox.id,
        kind: 'mailbox-rename',
        path: newPath,
        oldPath: mailbox.path,
      });
    }
  });
}

function renameInbox(sql: Sql, inbox: MailboxRow, to: string): void {
  ensureParents(sql, inbox.user_id, to);
  const target = insertMailbox(sql, inbox.user_id, to, null);
  transferMessages(sql, inbox, target, allMessageRows(sql, inbox.id), true);
}

/** Puts the name on the list; true when it was not on it yet. */
function addSubscription(sql: Sql, userId: number, path: string): boolean {
  return (
    sql.run('INSERT OR IGNORE INTO subscriptions (user_id, path) VALUES (?, ?)', userId, path).changes > 0
  );
}

/** Changes the list; a change is journaled (NOTIFY's SubscriptionChange in every process). */
export function setSubscribed(sql: Sql, userId: number, path: string, subscribed: boolean): void {
  const normalized = normalizeMailboxPath(path);
  sql.write(() => {
    requireUserRow(sql, userId);
    const changed = subscribed
      ? addSubscription(sql, userId, normalized)
      : sql.run('DELETE FROM subscriptions WHERE user_id = ? AND path = ?', userId, normalized).changes > 0;
    if (changed) {
      const kind = subscribed ? 'mailbox-subscribe' : 'mailbox-unsubscribe';
      writeJournal(sql, { userId, mailboxId: 0, kind, path: normalized });
    }
    sql.run(
      'UPDATE mailboxes SET subscribed = ? WHERE user_id = ? AND path = ?',
      subscribed ? 1 : 0,
      userId,
      normalized,
    );
  });
}

export function listSubscriptions(sql: Sql, userId: number): string[] {
  return sql
    .all<{ path: string }>('SELECT path FROM subscriptions WHERE user_id = ? ORDER BY path', userId)
    .map((row) => row.path);
}

/**
 * What claimRecent returns when nothing arrived since the last claim (the usual SELECT), read
 * without writing; null when there is something to claim. Claiming nothing would change nothing, so
 * answering from this read is the same as the claim (it simply happened before any later append),
 * and spares a write transaction and its fsync.
 */
export function unchangedRecentClaim(
  sql: Sql,
  mailboxId: number,
): { previous: number; current: number } | null {
  const mailbox = requireMailboxRow(sql, mailboxId);
  const current = mailbox.uid_next - 1;
  return mailbox.recent_mark === current ? { previous: current, current } : null;
}

/** Moves the \Recent mark to UIDNEXT-1 and returns the old and new marks, in one transaction. */
export function claimRecent(sql: Sql, mailboxId: number): { previous: number; current: number } {
  const unchanged = unchangedRecentClaim(sql, mailboxId);
  if (unchanged) return unchanged;
  return sql.write(() => {
    const mailbox = requireMailboxRow(sql, mailboxId);
    const current = mailbox.uid_next - 1;
    sql.run('UPDATE mailboxes SET recent_mark = ? WHERE id = ?', current, mailboxId);
    return { previous: mailbox.recent_mark, current };
  });
}
