/**
 * UIDONLY (RFC 9586): after `ENABLE UIDONLY` a session works by UID alone. Commands that take
 * message sequence numbers (FETCH, STORE, COPY, MOVE, SEARCH, SORT, THREAD, REPLACE without UID,
 * and a sequence set among search keys) are refused with `BAD [UIDREQUIRED]`; FETCH responses,
 * solicited or not, become `* uid UIDFETCH (...)`; expunges are reported as `* VANISHED uids`, as
 * with QRESYNC. Offered only where the account allows it (User.uidOnly, else the server's
 * imap.uidonly default): some Outlook builds mishandle it.
 */
import type { Config } from '../config/schema.ts';
import type { ImapSession } from './context.ts';
import type { ParsedCommand, SearchKey } from './parser/index.ts';

export function isUidOnly(session: Pick<ImapSession, 'enabled'>): boolean {
  return session.enabled.has('UIDONLY');
}

/** Whether UIDONLY is offered to a logged-in account: its own setting, else the server's default. */
export function uidOnlyAllowed(session: Pick<ImapSession, 'user'>, config: Config): boolean {
  const own = session.user?.uidOnly ?? null;
  return own ?? config.imap.uidonly;
}

/** `* n FETCH (` or, with UIDONLY, `* uid UIDFETCH (` (without the leading `* `). */
export function fetchPrefix(session: Pick<ImapSession, 'enabled'>, seq: number, uid: number): string {
  return isUidOnly(session) ? `${uid} UIDFETCH (` : `${seq} FETCH (`;
}

function searchUsesSequence(key: SearchKey): boolean {
  if (key.type === 'seq') return !key.set.saved; // `$` holds UIDs
  if (key.type === 'and') return key.keys.some(searchUsesSequence);
  if (key.type === 'or') return searchUsesSequence(key.left) || searchUsesSequence(key.right);
  if (key.type === 'not') return searchUsesSequence(key.key);
  return false;
}

/** Commands whose UID form is the only one allowed under UIDONLY. */
const BY_NUMBER: ReadonlySet<string> = new Set(['FETCH', 'STORE', 'COPY', 'MOVE', 'REPLACE']);

/** True when the command names messages by sequence number (refused under UIDONLY). */
export function usesSequenceNumbers(command: ParsedCommand): boolean {
  if (BY_NUMBER.has(command.name)) return !(command as { uid: boolean }).uid;
  if (command.name === 'SEARCH') return !command.uid || searchUsesSequence(command.criteria);
  if (command.name === 'SORT' || command.name === 'THREAD')
    return !command.uid || searchUsesSequence(command.search);
  return false;
}
