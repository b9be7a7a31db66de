/**
 * Object identifiers (RFC 8474 OBJECTID), and the rules that make them:
 * - MAILBOXID: the store's mailbox id (sqlite AUTOINCREMENT, MongoDB counter: never reused, kept
 *   by RENAME), sent only when it fits the objectid grammar.
 * - EMAILID: `M` and the first 24 hex digits (96 bits) of the body's SHA-256. It names the
 *   immutable content, so a COPY or MOVE keeps it, and so do two deliveries of identical bytes
 *   (RFC 8474 5.1 allows that).
 * - THREADID: the thread id the store gave the message when it was stored (server/store/
 *   thread-ids.ts): per user and across mailboxes, consistent with THREAD=REFERENCES, kept by COPY
 *   and MOVE, never changed. NIL only for a message the MongoDB start-up backfill has not reached.
 */

const OBJECT_ID = /^[A-Za-z0-9_-]{1,255}$/;

export function isObjectId(text: string): boolean {
  return OBJECT_ID.test(text);
}

export function emailIdOf(blobId: string): string {
  return `M${blobId.slice(0, 24)}`;
}
