/**
 * SUBSCRIBE and UNSUBSCRIBE (RFC 3501 6.3.6-7). Subscriptions are a list of names kept by the store
 * apart from the mailboxes: deleting or renaming a mailbox leaves them. Subscribing to a name that
 * does not exist answers NO [NONEXISTENT] (RFC 3501 lets a server refuse; Dovecot 2.3 refuses too).
 * Unsubscribing works for any name, so a client can drop a subscription whose mailbox is gone.
 * Both are idempotent.
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import { no } from '../errors.ts';
import { mailboxFromWire } from '../names.ts';
import type { MailboxCommand } from '../parser/index.ts';
import { noteOwnChange } from '../notify-own.ts';
import { tryNormalizeMailboxPath } from '../../store/normalize.ts';

async function setSubscribed(ctx: ImapContext, wireName: string, subscribed: boolean): Promise<void> {
  const { store } = ctx.services;
  const userId = ctx.session.user!.id;
  const path = mailboxFromWire(ctx, wireName);
  const mailbox = await store.getMailbox(userId, path);
  if (mailbox) {
    await store.setSubscribed(userId, mailbox.path, subscribed);
    noteOwnChange(ctx, { kind: 'subscription', path: mailbox.path });
    return;
  }
  if (subscribed) throw no('NONEXISTENT', 'No such mailbox');
  const normalized = tryNormalizeMailboxPath(path);
  if (normalized === null) return;
  await store.setSubscribed(userId, normalized, false);
  noteOwnChange(ctx, { kind: 'subscription', path: normalized });
}

export const subscribe: CommandHandler<MailboxCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    await setSubscribed(ctx, command.mailbox, true);
  },
};

export const unsubscribe: CommandHandler<MailboxCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    await setSubscribed(ctx, command.mailbox, false);
  },
};
