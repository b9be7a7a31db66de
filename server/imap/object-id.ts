/**
 * Object identifiers (RFC 8474 OBJECTID), and the rules that make them:
 * - MAILBOXID: the store's mailbox id (sqlite AUTOINCREMENT, MongoDB counter: never reused, kept
 *   by RENAME), sent only when it fits the objectid grammar.
 * - EMAILID: `M` and the first 24 hex digits (96 bits) of the body's SHA-256. It names the
 *   immutable content, so a COPY or MOVE keeps it, and so do two deliveries of identical bytes
 *   (RFC 8474 5.1 allows that).
 * - THREADID: NIL for every message (RFC 8474 5.2: a server that does not compute threads
 *   answers NIL); a search for a THREADID matches nothing.
 */

const OBJECT_ID = /^[A-Za-z0-9_-]{1,255}$/;

export function isObjectId(text: string): boolean {
  return OBJECT_ID.test(text);
}

export function emailIdOf(blobId: string): string {
  return `M${blobId.slice(0, 24)}`;
}
