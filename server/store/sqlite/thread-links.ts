/**
 * Thread ids of the sqlite engine (server/store/thread-ids.ts): the links of each user's thread keys
 * in thread_links, the thread id of each message in messages.thread_id (schema migration 22), and
 * the backfill of the messages stored before.
 */
import {
  chooseThread,
  lookupKeys,
  threadKeysOfMessage,
  type ThreadChoice,
  type ThreadKeys,
} from '../thread-ids.ts';
import type { Sql } from './database.ts';

/** Bytes of a stored body read for its header in the backfill (a longer header is cut there). */
const HEAD_BYTES = 64 * 1024;

function linkedThreads(sql: Sql, userId: number, keys: ThreadKeys): Map<string, string> {
  const wanted = lookupKeys(keys);
  if (wanted.length === 0) return new Map();
  const rows = sql.all<{ key: string; thread_id: string }>(
    `SELECT key, thread_id FROM thread_links
     WHERE user_id = ? AND key IN (SELECT value FROM json_each(?))`,
    userId,
    JSON.stringify(wanted),
  );
  return new Map(rows.map((row) => [row.key, row.thread_id]));
}

function addLinks(sql: Sql, userId: number, choice: ThreadChoice): void {
  for (const key of choice.newLinks)
    sql.run(
      'INSERT OR IGNORE INTO thread_links (user_id, key, thread_id) VALUES (?, ?, ?)',
      userId,
      key,
      choice.threadId,
    );
}

/**
 * The thread of a message being stored for this user, its new links written. `given` (an import's
 * or a restore's thread id) is kept, and the message's unlinked keys are linked to it.
 */
export function assignThread(sql: Sql, userId: number, keys: ThreadKeys, given?: string | null): string {
  const linked = linkedThreads(sql, userId, keys);
  const choice = chooseThread(keys, linked);
  if (given) choice.threadId = given;
  addLinks(sql, userId, choice);
  return choice.threadId;
}

/** The thread of a stored body for this user (a copy to another user's mailbox). */
export function assignThreadOfBlob(sql: Sql, userId: number, blobHash: string): string {
  return assignThread(sql, userId, threadKeysOfMessage(blobHead(sql, blobHash)));
}

function blobHead(sql: Sql, blobHash: string): Buffer {
  const row = sql.get<{ head: Buffer }>(
    'SELECT substr(data, 1, ?) AS head FROM blobs WHERE hash = ?',
    HEAD_BYTES,
    blobHash,
  );
  return row?.head ?? Buffer.alloc(0);
}

/**
 * Schema migration 22's backfill, inside its transaction: every user's messages in the order they
 * arrived (internal date, then mailbox and UID) get a thread as if delivered in that order. Each
 * body's header is read once per user.
 */
export function backfillThreadIds(sql: Sql): void {
  const users = sql.all<{ id: number }>('SELECT id FROM users ORDER BY id');
  for (const user of users) {
    const rows = sql.all<{ mailbox_id: number; uid: number; blob_hash: string }>(
      `SELECT m.mailbox_id, m.uid, m.blob_hash FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
       WHERE b.user_id = ? ORDER BY m.internal_date, m.mailbox_id, m.uid`,
      user.id,
    );
    const byBlob = new Map<string, string>();
    for (const row of rows) {
      let threadId = byBlob.get(row.blob_hash);
      if (threadId === undefined) {
        threadId = assignThreadOfBlob(sql, user.id, row.blob_hash);
        byBlob.set(row.blob_hash, threadId);
      }
      sql.run(
        'UPDATE messages SET thread_id = ? WHERE mailbox_id = ? AND uid = ?',
        threadId,
        row.mailbox_id,
        row.uid,
      );
    }
  }
}
