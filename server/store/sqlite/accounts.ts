/**
 * Users, addresses and app passwords. Every function runs inside the caller's transaction or is a
 * single read; the store class decides where transactions begin.
 */
import { StoreError } from '../errors.ts';
import {
  normalizeUsername,
  parseAddress,
  recipientCandidates,
  validateName,
  validatePasswordHash,
  validateQuota,
} from '../normalize.ts';
import {
  DEFAULT_MAILBOXES,
  type Address,
  type AddressKind,
  type AppPassword,
  type Credentials,
  type NewUser,
  type User,
  type UserPatch,
  type UserQuery,
} from '../types.ts';
import type { Sql } from './database.ts';
import { ensureDomainOf } from './domains.ts';
import { insertMailbox } from './mailboxes.ts';
import { removeAllMessagesOfUser } from './messages.ts';
import { writeJournal } from './journal.ts';
import {
  requireUserRow,
  toAppPassword,
  toUser,
  userRow,
  type AppPasswordRow,
  type MailboxRow,
  type UserRow,
} from './rows.ts';

export function userRowByUsername(sql: Sql, username: string): UserRow | undefined {
  return sql.get<UserRow>('SELECT * FROM users WHERE username = ?', username);
}

function addressTaken(sql: Sql, address: string): boolean {
  return sql.get('SELECT 1 FROM addresses WHERE address = ?', address) !== undefined;
}

/** Creates the user, its primary address and the default mailboxes (all subscribed). */
export function createUser(sql: Sql, user: NewUser): User {
  const username = normalizeUsername(user.username);
  if (username.includes('*')) throw new StoreError('INVALID', 'username must not contain "*"');
  const passwordHash = validatePasswordHash(user.passwordHash);
  const name = validateName(user.name);
  const quotaBytes = validateQuota(user.quotaBytes);
  return sql.write(() => {
    if (userRowByUsername(sql, username)) {
      throw new StoreError('ALREADYEXISTS', `user ${username} exists`);
    }
    if (addressTaken(sql, username)) {
      throw new StoreError('ALREADYEXISTS', `address ${username} is taken`);
    }
    const row = sql.get<UserRow>(
      `INSERT INTO users (username, name, password_hash, quota_bytes, created_at)
       VALUES (?, ?, ?, ?, ?) RETURNING *`,
      username,
      name,
      passwordHash,
      quotaBytes,
      Date.now(),
    )!;
    sql.run("INSERT INTO addresses (address, user_id, kind) VALUES (?, ?, 'primary')", username, row.id);
    ensureDomainOf(sql, username);
    for (const mailbox of DEFAULT_MAILBOXES) {
      insertMailbox(sql, row.id, mailbox.path, mailbox.specialUse, true);
    }
    return toUser(row);
  });
}

export function listUsers(sql: Sql, query: UserQuery = {}): { users: User[]; total: number } {
  const search = query.search?.trim().toLowerCase() ?? '';
  const offset = Math.max(0, Math.floor(query.offset ?? 0) || 0);
  // LIMIT -1 is "no limit" in sqlite.
  const limit = query.limit === undefined ? -1 : Math.max(0, Math.floor(query.limit) || 0);
  const where = "WHERE ? = '' OR instr(mallard_lower(username), ?) > 0 OR instr(mallard_lower(name), ?) > 0";
  const total = sql.get<{ total: number }>(
    `SELECT count(*) AS total FROM users ${where}`,
    search,
    search,
    search,
  )!;
  const rows = sql.all<UserRow>(
    `SELECT * FROM users ${where} ORDER BY username LIMIT ? OFFSET ?`,
    search,
    search,
    search,
    limit,
    offset,
  );
  return { users: rows.map(toUser), total: total.total };
}

export function updateUser(sql: Sql, userId: number, patch: UserPatch): User {
  const name = patch.name === undefined ? undefined : validateName(patch.name);
  const quotaBytes = patch.quotaBytes === undefined ? undefined : validateQuota(patch.quotaBytes);
  const disabled = patch.disabled === undefined ? undefined : patch.disabled ? 1 : 0;
  const saveSent = patch.saveSentCopy === undefined ? undefined : patch.saveSentCopy ? 1 : 0;
  return sql.write(() => {
    const current = requireUserRow(sql, userId);
    const uidOnly =
      patch.uidOnly === undefined ? current.uid_only : patch.uidOnly === null ? null : patch.uidOnly ? 1 : 0;
    const row = sql.get<UserRow>(
      'UPDATE users SET name = ?, quota_bytes = ?, disabled = ?, save_sent = ?, uid_only = ? WHERE id = ? RETURNING *',
      name ?? current.name,
      quotaBytes ?? current.quota_bytes,
      disabled ?? current.disabled,
      saveSent ?? current.save_sent,
      uidOnly,
      userId,
    )!;
    return toUser(row);
  });
}

export function setPasswordHash(sql: Sql, userId: number, passwordHash: string): void {
  const hash = validatePasswordHash(passwordHash);
  const changes = sql.run('UPDATE users SET password_hash = ? WHERE id = ?', hash, userId).changes;
  if (changes === 0) throw new StoreError('NONEXISTENT', `no such user ${userId}`);
}

/** Removes the user and everything it owns; blobs lose the user's references. */
export function deleteUser(sql: Sql, userId: number): void {
  sql.write(() => {
    requireUserRow(sql, userId);
    removeAllMessagesOfUser(sql, userId);
    const mailboxes = sql.all<MailboxRow>('SELECT * FROM mailboxes WHERE user_id = ?', userId);
    for (const mailbox of mailboxes) {
      writeJournal(sql, { userId, mailboxId: mailbox.id, kind: 'mailbox-delete', path: mailbox.path });
    }
    sql.run(
      'DELETE FROM mailbox_keywords WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE user_id = ?)',
      userId,
    );
    sql.run('DELETE FROM metadata WHERE user_id = ?', userId);
    sql.run('DELETE FROM mailboxes WHERE user_id = ?', userId);
    sql.run('DELETE FROM addresses WHERE user_id = ?', userId);
    sql.run('DELETE FROM app_passwords WHERE user_id = ?', userId);
    sql.run('DELETE FROM users WHERE id = ?', userId);
  });
}

/** Usernames are compared lower-cased, as they are stored. */
function userRowByLogin(sql: Sql, username: string): UserRow | undefined {
  return userRowByUsername(sql, typeof username === 'string' ? username.trim().toLowerCase() : '');
}

export function getUserByUsername(sql: Sql, username: string): User | null {
  const row = userRowByLogin(sql, username);
  return row ? toUser(row) : null;
}

export function getCredentials(sql: Sql, username: string): Credentials | null {
  const row = userRowByLogin(sql, username);
  if (!row) return null;
  const appPasswords = sql.all<{ id: number; hash: string }>(
    'SELECT id, hash FROM app_passwords WHERE user_id = ? ORDER BY id',
    row.id,
  );
  return {
    user: toUser(row),
    passwordHash: row.password_hash,
    appPasswords: appPasswords.map((password) => ({ id: String(password.id), hash: password.hash })),
  };
}

// --- addresses ---

export function addAddress(sql: Sql, userId: number, address: string): Address {
  const parsed = parseAddress(address);
  const kind: AddressKind = parsed.catchAll ? 'catchall' : 'alias';
  return sql.write(() => {
    requireUserRow(sql, userId);
    if (addressTaken(sql, parsed.address)) {
      throw new StoreError('ALREADYEXISTS', `address ${parsed.address} is taken`);
    }
    sql.run('INSERT INTO addresses (address, user_id, kind) VALUES (?, ?, ?)', parsed.address, userId, kind);
    ensureDomainOf(sql, parsed.address);
    return { address: parsed.address, userId: String(userId), kind };
  });
}

/** Removes an alias or catch-all; the primary address goes only with its user (CANNOT). */
export function removeAddress(sql: Sql, address: string): void {
  const normalized = typeof address === 'string' ? address.trim().toLowerCase() : '';
  sql.write(() => {
    const row = sql.get<{ kind: AddressKind }>('SELECT kind FROM addresses WHERE address = ?', normalized);
    if (!row) throw new StoreError('NONEXISTENT', `no such address ${normalized}`);
    if (row.kind === 'primary') throw new StoreError('CANNOT', 'the primary address cannot be removed');
    sql.run('DELETE FROM addresses WHERE address = ?', normalized);
  });
}

export function listAddresses(sql: Sql, userId: number): Address[] {
  const rows = sql.all<{ address: string; user_id: number; kind: AddressKind }>(
    // primary first, then aliases, then catch-alls
    `SELECT * FROM addresses WHERE user_id = ?
     ORDER BY CASE kind WHEN 'primary' THEN 0 WHEN 'alias' THEN 1 ELSE 2 END, address`,
    userId,
  );
  return rows.map((row) => ({ address: row.address, userId: String(row.user_id), kind: row.kind }));
}

/** Exact address, then without "+tag", then the domain's catch-all; disabled users included. */
export function resolveRecipient(sql: Sql, recipient: string): User | null {
  for (const candidate of recipientCandidates(recipient)) {
    const row = sql.get<UserRow>(
      'SELECT users.* FROM addresses JOIN users ON users.id = addresses.user_id WHERE address = ?',
      candidate,
    );
    if (row) return toUser(row);
  }
  return null;
}

// --- app passwords ---

export function createAppPassword(sql: Sql, userId: number, label: string, hash: string): AppPassword {
  if (typeof label !== 'string') throw new StoreError('INVALID', 'label must be a string');
  const validHash = validatePasswordHash(hash);
  return sql.write(() => {
    requireUserRow(sql, userId);
    const row = sql.get<AppPasswordRow>(
      'INSERT INTO app_passwords (user_id, label, hash, created_at) VALUES (?, ?, ?, ?) RETURNING *',
      userId,
      label,
      validHash,
      Date.now(),
    )!;
    return toAppPassword(row);
  });
}

export function listAppPasswords(sql: Sql, userId: number): AppPassword[] {
  return sql
    .all<AppPasswordRow>('SELECT * FROM app_passwords WHERE user_id = ? ORDER BY id', userId)
    .map(toAppPassword);
}

export function deleteAppPassword(sql: Sql, userId: number, id: number): void {
  const changes = sql.run('DELETE FROM app_passwords WHERE id = ? AND user_id = ?', id, userId).changes;
  if (changes === 0) throw new StoreError('NONEXISTENT', `no such app password ${id}`);
}

/** Records a use; an unknown id is ignored (the password may have been revoked meanwhile). */
export function touchAppPassword(sql: Sql, id: number): void {
  sql.run('UPDATE app_passwords SET last_used_at = ? WHERE id = ?', Date.now(), id);
}

export function getUser(sql: Sql, userId: number): User | null {
  const row = userRow(sql, userId);
  return row ? toUser(row) : null;
}
