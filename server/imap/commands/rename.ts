/**
 * RENAME (RFC 3501 6.3.5): the mailbox and all its children are renamed, missing parents of the
 * new name are created. Renaming INBOX moves its messages to the new mailbox and leaves INBOX
 * empty, with its children in place. The store keeps UIDVALIDITY, so a selected mailbox stays
 * selected under its new name (the view follows the mailbox id, not the name).
 */
import type { CommandHandler } from '../context.ts';
import { no } from '../errors.ts';
import { newMailboxPath } from '../mailbox/new-name.ts';
import { mailboxFromWire } from '../names.ts';
import type { RenameCommand } from '../parser/index.ts';
import { noteOwnChange } from '../notify-own.ts';
import { isSameOrDescendant } from '../../store/normalize.ts';

export const rename: CommandHandler<RenameCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const { store } = ctx.services;
    const userId = ctx.session.user!.id;
    const source = await store.getMailbox(userId, mailboxFromWire(ctx, command.from));
    if (!source) throw no('NONEXISTENT', 'No such mailbox');
    const target = newMailboxPath(ctx, command.to);
    if (await store.getMailbox(userId, target)) throw no('ALREADYEXISTS', 'Target mailbox already exists');
    if (source.path !== 'INBOX' && isSameOrDescendant(target, source.path)) {
      throw no('CANNOT', 'A mailbox cannot be moved into itself');
    }
    await store.renameMailbox(userId, source.path, target);
    noteOwnChange(ctx, { kind: 'name', path: target, children: true });
    // RENAME INBOX moves its messages into a new mailbox (RFC 3501 6.3.5): both mailboxes' changes.
    if (source.path === 'INBOX') {
      noteOwnChange(ctx, { kind: 'mailbox', mailboxId: source.id });
      const moved = await store.getMailbox(userId, target);
      if (moved) noteOwnChange(ctx, { kind: 'mailbox', mailboxId: moved.id });
    }
  },
};
