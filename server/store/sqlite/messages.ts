/**
 * Messages: append, flags, copy/move, expunge. UIDs and MODSEQs are allocated from the mailbox row
 * inside the same write transaction as the rows and journal entries they number, so two processes
 * appending at once serialise on sqlite's write lock and can never hand out the same UID.
 */
import { StoreError } from '../errors.ts';
import {
  DELETED,
  SEEN,
  applyFlagOperation,
  flagKey,
  hasFlag,
  keywordsOf,
  mergeUidRanges,
  sameFlags,
  sortedUniqueUids,
} from '../normalize.ts';
import type {
  FlagListing,
  AppendResult,
  CopyResult,
  Flag,
  FlagOperation,
  FlagUpdate,
  MessageSummary,
  StoreFlagsResult,
  UidRange,
  SortBasics,
} from '../types.ts';
import { FlagListingBuilder } from '../flag-listing.ts';
import { addBlobReference, addBlobReferences, releaseBlob, type PreparedBlob } from './blobs.ts';
import type { Sql } from './database.ts';
import { writeJournal } from './journal.ts';
import { assignThread, assignThreadOfBlob } from './thread-links.ts';
import { threadKeysOfMessage } from '../thread-ids.ts';
import {
  MESSAGE_COLUMNS,
  requireMailboxRow,
  requireSelectableMailbox,
  requireUserRow,
  toMessageSummary,
  type MailboxRow,
  type MessageRow,
} from './rows.ts';

// --- counters ---

const MAX_IMAP_UID = 0xffffffff;

/** Reserves `count` consecutive UIDs and MODSEQs in a mailbox; returns the first of each. */
function allocateUids(sql: Sql, mailboxId: number, count: number): { firstUid: number; firstModseq: number } {
  const row = sql.get<{ firstUid: number; firstModseq: number }>(
    `UPDATE mailboxes SET uid_next = uid_next + ?, highest_modseq = highest_modseq + ? WHERE id = ?
     RETURNING uid_next - ? AS firstUid, highest_modseq - ? + 1 AS firstModseq`,
    count,
    count,
    mailboxId,
    count,
    count,
  );
  if (!row) throw new StoreError('NONEXISTENT', `no such mailbox ${mailboxId}`);
  // IMAP UIDs are 32-bit; throwing rolls the whole transaction back.
  if (row.firstUid + count - 1 > MAX_IMAP_UID) throw new StoreError('LIMIT', 'the mailbox ran out of UIDs');
  return row;
}

/** The next MODSEQ of a mailbox (its HIGHESTMODSEQ after this change). */
function nextModseq(sql: Sql, mailboxId: number): number {
  return sql.get<{ modseq: number }>(
    'UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq AS modseq',
    mailboxId,
  )!.modseq;
}

/** Counts `bytes` against the user's quota (OVERQUOTA when it would be exceeded). */
function chargeQuota(sql: Sql, userId: number, bytes: number): void {
  const user = requireUserRow(sql, userId);
  if (user.quota_bytes > 0 && user.used_bytes + bytes > user.quota_bytes) {
    throw new StoreError('OVERQUOTA', `quota of ${user.username} exceeded`);
  }
  adjustUsage(sql, userId, bytes);
}

function adjustUsage(sql: Sql, userId: number, delta: number): void {
  if (delta !== 0)
    sql.run('UPDATE users SET used_bytes = max(0, used_bytes + ?) WHERE id = ?', delta, userId);
}

/** Records keywords as used in the mailbox; the first spelling of a keyword wins. */
function rememberKeywords(sql: Sql, mailboxId: number, flags: readonly Flag[]): void {
  for (const keyword of keywordsOf(flags)) {
    sql.run(
      'INSERT OR IGNORE INTO mailbox_keywords (mailbox_id, key, keyword) VALUES (?, ?, ?)',
      mailboxId,
      flagKey(keyword),
      keyword,
    );
  }
}

// --- rows ---

export interface NewMessage {
  mailboxId: number;
  uid: number;
  modseq: number;
  flags: readonly Flag[];
  internalDate: number;
  size: number;
  blobHash: string;
  /** The save date (ms); absent: now. Null: none known (an import that had none). */
  savedAt?: number | null;
  /** The message's thread (thread-links.ts). */
  threadId: string;
}

export function insertMessage(sql: Sql, message: NewMessage): void {
  sql.run(
    `INSERT INTO messages (mailbox_id, uid, modseq, flags, seen, deleted, internal_date, size, blob_hash, saved_at, thread_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    message.mailboxId,
    message.uid,
    message.modseq,
    JSON.stringify(message.flags),
    hasFlag(message.flags, SEEN) ? 1 : 0,
    hasFlag(message.flags, DELETED) ? 1 : 0,
    message.internalDate,
    message.size,
    message.blobHash,
    // The save date: added to this mailbox now (also by COPY and MOVE), unless an import says.
    message.savedAt === undefined ? Date.now() : message.savedAt,
    message.threadId,
  );
  rememberKeywords(sql, message.mailboxId, message.flags);
}

function messageRow(sql: Sql, mailboxId: number, uid: number): MessageRow | undefined {
  return sql.get<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE mailbox_id = ? AND uid = ?`,
    mailboxId,
    uid,
  );
}

/** The existing messages among `uids`, in UID order. */
function messageRows(sql: Sql, mailboxId: number, uids: readonly number[]): MessageRow[] {
  const rows: MessageRow[] = [];
  for (const uid of sortedUniqueUids(uids)) {
    const row = messageRow(sql, mailboxId, uid);
    if (row) rows.push(row);
  }
  return rows;
}

function parseFlags(row: MessageRow): Flag[] {
  return JSON.parse(row.flags) as Flag[];
}

// --- append ---

export interface AppendInput {
  blob: PreparedBlob;
  flags: Flag[];
  internalDate: Date;
}

export function appendMessage(sql: Sql, mailboxId: number, input: AppendInput): AppendResult {
  return sql.write(() => {
    const mailbox = requireSelectableMailbox(sql, mailboxId);
    const size = input.blob.raw.length;
    chargeQuota(sql, mailbox.user_id, size);
    const { firstUid: uid, firstModseq: modseq } = allocateUids(sql, mailboxId, 1);
    addBlobReference(sql, input.blob);
    insertMessage(sql, {
      mailboxId,
      uid,
      modseq,
      flags: input.flags,
      internalDate: input.internalDate.getTime(),
      size,
      blobHash: input.blob.hash,
      threadId: assignThread(sql, mailbox.user_id, threadKeysOfMessage(input.blob.raw)),
    });
    writeJournal(sql, {
      userId: mailbox.user_id,
      mailboxId,
      kind: 'message-new',
      uid,
      modseq,
      flags: input.flags,
    });
    return { uid, modseq, uidValidity: mailbox.uid_validity, mailboxId: String(mailboxId) };
  });
}

// --- reading ---

export function listMessages(
  sql: Sql,
  mailboxId: number,
  filter: { uids?: UidRange[]; changedSince?: number } = {},
): MessageSummary[] {
  requireMailboxRow(sql, mailboxId);
  const changedSince = filter.changedSince ?? -1;
  const ranges =
    filter.uids === undefined ? [{ from: 1, to: Number.MAX_SAFE_INTEGER }] : mergeUidRanges(filter.uids);
  // Ranges are sorted and disjoint, so one indexed range scan each keeps the result in UID order.
  const rows: MessageRow[] = [];
  for (const range of ranges) {
    rows.push(
      ...sql.all<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages
         WHERE mailbox_id = ? AND uid BETWEEN ? AND ? AND modseq > ? ORDER BY uid`,
        mailboxId,
        range.from,
        range.to,
        changedSince,
      ),
    );
  }
  return rows.map(toMessageSummary);
}

/** Store.listSortBasics: four columns, no summary objects (no flags parsed, no Dates made). */
export function listSortBasics(sql: Sql, mailboxId: number): SortBasics {
  const mailbox = requireMailboxRow(sql, mailboxId);
  const rows = sql.all<{ uid: number; internal_date: number; size: number; blob_hash: string }>(
    'SELECT uid, internal_date, size, blob_hash FROM messages WHERE mailbox_id = ? ORDER BY uid',
    mailbox.id,
  );
  const basics: SortBasics = {
    uids: new Float64Array(rows.length),
    arrivals: new Float64Array(rows.length),
    sizes: new Float64Array(rows.length),
    blobIds: new Array<string>(rows.length),
  };
  rows.forEach((row, i) => {
    basics.uids[i] = row.uid;
    basics.arrivals[i] = row.internal_date;
    basics.sizes[i] = row.size;
    basics.blobIds[i] = row.blob_hash;
  });
  return basics;
}

export function listFlags(sql: Sql, mailboxId: number, uidBelow: number): FlagListing {
  const mailbox = requireMailboxRow(sql, mailboxId);
  const listing = new FlagListingBuilder(mailbox.message_count);
  const statement = sql.statement(
    'SELECT uid, modseq, flags FROM messages WHERE mailbox_id = ? AND uid < ? ORDER BY uid',
  );
  sql.withoutMemoryMap(() => {
    const rows = statement.raw(true).iterate(mailboxId, uidBelow) as IterableIterator<
      [number, number, string]
    >;
    for (const [uid, modseq, flags] of rows) listing.add(uid, modseq, flags, flagsFromText);
  });
  return listing.finish();
}

const flagsFromText = (text: string): Flag[] => JSON.parse(text) as Flag[];

export function getMessage(sql: Sql, mailboxId: number, uid: number): MessageSummary | null {
  if (!Number.isSafeInteger(uid)) return null;
  const row = messageRow(sql, mailboxId, uid);
  return row ? toMessageSummary(row) : null;
}

export function listKeywords(sql: Sql, mailboxId: number): string[] {
  requireMailboxRow(sql, mailboxId);
  return sql
    .all<{ keyword: string }>(
      'SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ? ORDER BY key',
      mailboxId,
    )
    .map((row) => row.keyword);
}

/**
 * UIDs expunged above `modseq` (limited to `uids`), ascending; null when the mailbox's record of
 * expunges does not reach that far back (its expunged_floor is above `modseq`).
 */
export function expungedSince(
  sql: Sql,
  mailboxId: number,
  modseq: number,
  uids?: readonly UidRange[],
): number[] | null {
  const mailbox = requireMailboxRow(sql, mailboxId);
  if (modseq < mailbox.expunged_floor) return null;
  const rows = sql.all<{ uid: number }>(
    'SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid',
    mailboxId,
    modseq,
  );
  const found = rows.map((row) => row.uid);
  return uids === undefined ? found : found.filter((uid) => uids.some((r) => uid >= r.from && uid <= r.to));
}

// --- flags ---

export function storeFlags(
  sql: Sql,
  mailboxId: number,
  uids: readonly number[],
  operation: FlagOperation,
  flags: readonly Flag[],
  unchangedSince?: number,
): StoreFlagsResult {
  return sql.write(() => {
    const mailbox = requireSelectableMailbox(sql, mailboxId);
    const updated: FlagUpdate[] = [];
    const modified: number[] = [];
    for (const row of messageRows(sql, mailboxId, uids)) {
      if (unchangedSince !== undefined && row.modseq > unchangedSince) {
        modified.push(row.uid);
        continue;
      }
      const current = parseFlags(row);
      const next = applyFlagOperation(current, operation, flags);
      if (sameFlags(current, next)) continue;
      updated.push(updateFlags(sql, mailbox, row.uid, next));
    }
    return { updated, modified };
  });
}

/** Writes new flags with a fresh MODSEQ (each changed message gets its own). */
function updateFlags(sql: Sql, mailbox: MailboxRow, uid: number, flags: Flag[]): FlagUpdate {
  const modseq = nextModseq(sql, mailbox.id);
  sql.run(
    'UPDATE messages SET flags = ?, seen = ?, deleted = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?',
    JSON.stringify(flags),
    hasFlag(flags, SEEN) ? 1 : 0,
    hasFlag(flags, DELETED) ? 1 : 0,
    modseq,
    mailbox.id,
    uid,
  );
  rememberKeywords(sql, mailbox.id, flags);
  writeJournal(sql, {
    userId: mailbox.user_id,
    mailboxId: mailbox.id,
    kind: 'message-flags',
    uid,
    modseq,
    flags,
  });
  return { uid, modseq, flags };
}

// --- copy and move ---

/**
 * Copies `rows` of `source` into `target` with new UIDs in the rows' (UID) order. A move keeps the
 * body references and the usage (unless the target belongs to another user), then expunges the
 * originals.
 */
export function transferMessages(
  sql: Sql,
  source: MailboxRow,
  target: MailboxRow,
  rows: readonly MessageRow[],
  move: boolean,
): CopyResult {
  if (rows.length === 0) return { uidValidity: target.uid_validity, uidMap: [] };
  const bytes = rows.reduce((total, row) => total + row.size, 0);
  if (!move || source.user_id !== target.user_id) chargeQuota(sql, target.user_id, bytes);
  if (move && source.user_id !== target.user_id) adjustUsage(sql, source.user_id, -bytes);
  const { firstUid, firstModseq } = allocateUids(sql, target.id, rows.length);
  const uidMap: Array<[number, number]> = [];
  rows.forEach((row, index) => {
    const uid = firstUid + index;
    const modseq = firstModseq + index;
    const flags = parseFlags(row);
    if (!move) addBlobReferences(sql, row.blob_hash, 1);
    insertMessage(sql, {
      mailboxId: target.id,
      uid,
      modseq,
      flags,
      internalDate: row.internal_date,
      size: row.size,
      blobHash: row.blob_hash,
      // Within one user a copy or move keeps its thread; another user's links decide there.
      threadId:
        source.user_id === target.user_id && row.thread_id !== null
          ? row.thread_id
          : assignThreadOfBlob(sql, target.user_id, row.blob_hash),
    });
    writeJournal(sql, {
      userId: target.user_id,
      mailboxId: target.id,
      kind: 'message-new',
      uid,
      modseq,
      flags,
    });
    uidMap.push([row.uid, uid]);
  });
  if (move) {
    for (const row of rows) deleteMessageRow(sql, source, row.uid);
  }
  return { uidValidity: target.uid_validity, uidMap };
}

export function copyMessages(
  sql: Sql,
  mailboxId: number,
  uids: readonly number[],
  targetId: number,
  move: boolean,
): CopyResult {
  return sql.write(() => {
    const source = requireSelectableMailbox(sql, mailboxId);
    const target = requireSelectableMailbox(sql, targetId);
    return transferMessages(sql, source, target, messageRows(sql, mailboxId, uids), move);
  });
}

// --- removal ---

/** Deletes one message row and journals the expunge with a fresh MODSEQ; no blob or usage change. */
function deleteMessageRow(sql: Sql, mailbox: MailboxRow, uid: number): void {
  sql.run('DELETE FROM messages WHERE mailbox_id = ? AND uid = ?', mailbox.id, uid);
  const modseq = nextModseq(sql, mailbox.id);
  sql.run(
    'INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)',
    mailbox.id,
    uid,
    modseq,
  );
  writeJournal(sql, { userId: mailbox.user_id, mailboxId: mailbox.id, kind: 'message-expunge', uid, modseq });
}

/** Removes messages for good: rows, journal entries, body references and usage. */
function removeMessages(sql: Sql, mailbox: MailboxRow, rows: readonly MessageRow[]): number[] {
  let bytes = 0;
  for (const row of rows) {
    deleteMessageRow(sql, mailbox, row.uid);
    releaseBlob(sql, row.blob_hash);
    bytes += row.size;
  }
  adjustUsage(sql, mailbox.user_id, -bytes);
  return rows.map((row) => row.uid);
}

export function expunge(sql: Sql, mailboxId: number, uids?: readonly number[]): number[] {
  return sql.write(() => {
    const mailbox = requireSelectableMailbox(sql, mailboxId);
    const candidates =
      uids === undefined
        ? sql.all<MessageRow>(
            `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE mailbox_id = ? AND deleted = 1 ORDER BY uid`,
            mailboxId,
          )
        : messageRows(sql, mailboxId, uids).filter((row) => hasFlag(parseFlags(row), DELETED));
    return removeMessages(sql, mailbox, candidates);
  });
}

export function deleteMessages(sql: Sql, mailboxId: number, uids: readonly number[]): number[] {
  return sql.write(() => {
    const mailbox = requireSelectableMailbox(sql, mailboxId);
    return removeMessages(sql, mailbox, messageRows(sql, mailboxId, uids));
  });
}

/**
 * Removes every message of one mailbox in bulk (mailbox deletion: the 'mailbox-delete' journal
 * entry stands for them all). Releases each body once per reference.
 */
export function removeAllMessages(sql: Sql, mailbox: MailboxRow): void {
  const groups = sql.all<{ hash: string; count: number; bytes: number }>(
    `SELECT blob_hash AS hash, count(*) AS count, sum(size) AS bytes FROM messages
     WHERE mailbox_id = ? GROUP BY blob_hash`,
    mailbox.id,
  );
  let bytes = 0;
  for (const group of groups) {
    releaseBlob(sql, group.hash, group.count);
    bytes += group.bytes;
  }
  sql.run('DELETE FROM messages WHERE mailbox_id = ?', mailbox.id);
  sql.run('DELETE FROM mailbox_keywords WHERE mailbox_id = ?', mailbox.id);
  sql.run('DELETE FROM expunged WHERE mailbox_id = ?', mailbox.id);
  adjustUsage(sql, mailbox.user_id, -bytes);
}

export function removeAllMessagesOfUser(sql: Sql, userId: number): void {
  const mailboxes = sql.all<MailboxRow>('SELECT * FROM mailboxes WHERE user_id = ?', userId);
  for (const mailbox of mailboxes) removeAllMessages(sql, mailbox);
}

/** All messages of a mailbox in UID order (for moving INBOX on rename). */
export function allMessageRows(sql: Sql, mailboxId: number): MessageRow[] {
  return sql.all<MessageRow>(
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE mailbox_id = ? ORDER BY uid`,
    mailboxId,
  );
}
