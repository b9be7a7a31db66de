/**
 * SUBSCRIBE and UNSUBSCRIBE (RFC 3501 6.3.6-7). The subscription is a flag on an existing
 * mailbox in our store, so subscribing to a name that does not exist answers NO [NONEXISTENT]
 * (RFC 3501 lets a server refuse; Dovecot 2.3 refuses too). Unsubscribing from a name that does
 * not exist succeeds, as in Dovecot: afterwards it is not subscribed, which is what was asked.
 * Both are idempotent.
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import { no } from '../errors.ts';
import { mailboxFromWire } from '../names.ts';
import type { MailboxCommand } from '../parser/index.ts';

async function setSubscribed(ctx: ImapContext, wireName: string, subscribed: boolean): Promise<void> {
  const { store } = ctx.services;
  const userId = ctx.session.user!.id;
  const mailbox = await store.getMailbox(userId, mailboxFromWire(ctx, wireName));
  if (!mailbox) {
    if (subscribed) throw no('NONEXISTENT', 'No such mailbox');
    return;
  }
  await store.setSubscribed(userId, mailbox.path, subscribed);
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
