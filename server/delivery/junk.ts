/**
 * Delivery into a user's Junk mailbox, for mail an inbound check marked as junk (DMARC
 * p=quarantine, a spam score). The Junk mailbox is the one with the \Junk special use (RFC 6154),
 * whatever the user renamed it to; a user who deleted it gets a new "Junk" (so quarantined mail is
 * never dropped, nor slipped into INBOX).
 */
import { isStoreError, StoreError } from '../store/errors.ts';
import type { DeliveryResult, Mailbox, Store, User } from '../store/types.ts';

const JUNK_PATH = 'Junk';

/** The user's \Junk mailbox, made when missing. */
export async function junkMailboxOf(store: Store, user: User): Promise<Mailbox> {
  const mailboxes = await store.listMailboxes(user.id);
  const junk = mailboxes.find((mailbox) => mailbox.specialUse === '\\Junk');
  if (junk) return junk;
  // A "Junk" without the special use (made by a client): use it rather than making "Junk2".
  const named = await store.getMailbox(user.id, JUNK_PATH);
  if (named) return named;
  try {
    return await store.createMailbox(user.id, JUNK_PATH, '\\Junk');
  } catch (error) {
    // Another delivery made it at the same moment.
    if (!isStoreError(error, 'ALREADYEXISTS')) throw error;
    const made = await store.getMailbox(user.id, JUNK_PATH);
    if (!made) throw error;
    return made;
  }
}

/** Like store.deliver, into the recipient's Junk mailbox instead of INBOX. */
export async function deliverToJunk(store: Store, recipient: string, raw: Buffer): Promise<DeliveryResult> {
  const user = await store.resolveRecipient(recipient);
  if (!user) throw new StoreError('NONEXISTENT', `no recipient ${recipient}`);
  if (user.disabled) throw new StoreError('CANNOT', `user ${user.username} is disabled`);
  const mailbox = await junkMailboxOf(store, user);
  return { ...(await store.append(mailbox.id, raw)), userId: user.id };
}
