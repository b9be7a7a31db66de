/**
 * Names for new mailboxes (CREATE, RENAME targets): decoded from the wire, a trailing hierarchy
 * delimiter dropped (RFC 3501 6.3.3: it only declares the intent to create children), and checked
 * against the store's naming rules here so the client gets a clear NO [CANNOT] up front.
 */
import type { ImapContext } from '../context.ts';
import { no } from '../errors.ts';
import { mailboxFromWire } from '../names.ts';
import { isStoreError } from '../../store/errors.ts';
import { normalizeMailboxPath } from '../../store/normalize.ts';
import { MAILBOX_DELIMITER } from '../../store/types.ts';

/** The normalised path a CREATE or RENAME would give the mailbox, or NO [CANNOT]. */
export function newMailboxPath(ctx: ImapContext, wireName: string): string {
  let name = mailboxFromWire(ctx, wireName);
  if (name.endsWith(MAILBOX_DELIMITER)) name = name.slice(0, -MAILBOX_DELIMITER.length);
  try {
    return normalizeMailboxPath(name);
  } catch (error) {
    if (isStoreError(error, 'INVALID')) throw no('CANNOT', `Invalid mailbox name: ${error.message}`);
    throw error;
  }
}
