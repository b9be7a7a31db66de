/**
 * Mailbox names on the wire: modified UTF-7 (RFC 3501 5.1.3), or UTF-8 once the client enabled
 * UTF8=ACCEPT or IMAP4rev2. Stored names are always UTF-8.
 */
import type { ImapContext } from './context.ts';
import { decodeModifiedUtf7, Utf7Error } from './encoder/index.ts';
import { no } from './errors.ts';
import { utf8Names } from './rev2.ts';

export function mailboxFromWire(ctx: ImapContext, name: string): string {
  const decoded = tryMailboxFromWire(ctx, name);
  if (decoded === null) throw no('CANNOT', 'Mailbox name is not valid modified UTF-7');
  return decoded;
}

/** The stored form of a wire name, or null when it is not valid modified UTF-7. */
export function tryMailboxFromWire(ctx: ImapContext, name: string): string | null {
  if (utf8Names(ctx.session)) return name;
  try {
    return decodeModifiedUtf7(name);
  } catch (error) {
    if (error instanceof Utf7Error) return null;
    throw error;
  }
}

/** The mailbox a command names, which must exist and be selectable. */
export async function requireMailbox(ctx: ImapContext, wireName: string, missingCode = 'NONEXISTENT') {
  const user = ctx.session.user!;
  const mailbox = await ctx.services.store.getMailbox(user.id, mailboxFromWire(ctx, wireName));
  if (!mailbox || !mailbox.selectable) throw no(missingCode, 'No such mailbox');
  return mailbox;
}
