/**
 * DELETE (RFC 3501 6.3.4). INBOX cannot be deleted (Dovecot's choice too). A mailbox with
 * children loses its messages and stays as a \Noselect placeholder (the store does this); such a
 * placeholder cannot be deleted again while it has children.
 *
 * Deleting the selected mailbox is allowed, as in Dovecot: the mailbox is closed first, the
 * tagged OK is sent, then `* BYE Selected mailbox was deleted, have to disconnect.` ends the
 * connection (the session has nothing sensible left to show).
 */
import type { CommandHandler } from '../context.ts';
import { no } from '../errors.ts';
import { mailboxFromWire } from '../names.ts';
import type { MailboxCommand } from '../parser/index.ts';
import { noteOwnChange } from '../notify-own.ts';
import { isStoreError } from '../../store/errors.ts';

export const deleteMailbox: CommandHandler<MailboxCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const { store } = ctx.services;
    const userId = ctx.session.user!.id;
    const path = mailboxFromWire(ctx, command.mailbox);
    if (path.toUpperCase() === 'INBOX') throw no('CANNOT', 'INBOX cannot be deleted');
    const mailbox = await store.getMailbox(userId, path);
    if (!mailbox) throw no('NONEXISTENT', 'No such mailbox');
    try {
      await store.deleteMailbox(userId, mailbox.path);
      noteOwnChange(ctx, { kind: 'name', path: mailbox.path });
    } catch (error) {
      // The one refusal left after the checks above: a placeholder that still has children.
      if (isStoreError(error, 'CANNOT')) throw no('CANNOT', 'Mailbox has children, delete them first');
      throw error;
    }
    const view = ctx.session.view;
    if (view && view.mailbox.id === mailbox.id) {
      ctx.session.view = null;
      ctx.session.state = 'authenticated';
      return { after: () => ctx.bye('Selected mailbox was deleted, have to disconnect.') };
    }
  },
};
