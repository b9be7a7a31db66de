/**
 * IMAP4rev2 (RFC 9051) beside IMAP4rev1. Both are advertised; a session speaks rev1 until the
 * client sends `ENABLE IMAP4rev2`, then these differences of RFC 9051 Appendix E apply (each one
 * where the rev1 behaviour lives, marked with `isRev2`):
 *
 * - \Recent is gone (E.13): no `* n RECENT` in SELECT/EXAMINE or later, no \Recent in FLAGS, and
 *   the session claims no message as recent, so a rev1 session still sees them as new.
 *   STATUS (RECENT) is not in the rev2 grammar: BAD. The RECENT, NEW and OLD search keys are
 *   accepted as rev1 defines them (nothing is recent for the session, so NEW matches nothing).
 * - SEARCH answers with ESEARCH (E.7, RFC 4731 folded in): `* ESEARCH (TAG "t") [UID] ALL set`,
 *   never `* SEARCH`. SORT and THREAD (extensions) answer as before.
 * - SELECT/EXAMINE: no `[UNSEEN n]` (E.14), and a `* LIST () "/" name` with the mailbox's name as
 *   the server spells it (6.3.2); `* OK [CLOSED]` when another mailbox was selected (6.3.2, from
 *   QRESYNC: now always).
 * - Mailbox names are UTF-8 on the wire (E.6: the mailbox-name part of UTF8=ACCEPT), no longer
 *   modified UTF-7.
 * - Folded in and already offered to every session: NAMESPACE, UNSELECT, UIDPLUS, ESEARCH,
 *   SEARCHRES, ENABLE, IDLE, SASL-IR, LIST-EXTENDED, LIST-STATUS, MOVE, LITERAL-, BINARY,
 *   SPECIAL-USE, STATUS=SIZE and STATUS DELETED (E.1-E.5, E.8-E.11). LSUB, the RFC822 FETCH items
 *   and CHECK are deprecated, not removed: still answered.
 */
import type { ImapSession } from './context.ts';

export function isRev2(session: Pick<ImapSession, 'enabled'>): boolean {
  return session.enabled.has('IMAP4rev2');
}

/** Mailbox names travel as UTF-8 (UTF8=ACCEPT, or IMAP4rev2), else as modified UTF-7. */
export function utf8Names(session: Pick<ImapSession, 'enabled'>): boolean {
  return session.enabled.has('UTF8=ACCEPT') || isRev2(session);
}
