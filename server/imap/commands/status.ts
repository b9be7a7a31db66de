/**
 * STATUS (RFC 3501 6.3.10): counters of a mailbox without selecting it. Allowed on the selected
 * mailbox too (the values are the store's, which may run ahead of what the session has been
 * told), with OK [CLIENTBUG] as Dovecot answers. The items are listed in status-items.ts.
 */
import type { CommandHandler } from '../context.ts';
import { appendStatusResponse, noteCondstoreUse, statusValues } from '../mailbox/status-items.ts';
import { requireMailbox } from '../names.ts';
import type { StatusCommand } from '../parser/index.ts';

export const status: CommandHandler<StatusCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const mailbox = await requireMailbox(ctx, command.mailbox);
    await noteCondstoreUse(ctx, command.items);
    const values = await statusValues(ctx, mailbox, command.items);
    await ctx.write(appendStatusResponse(ctx.builder(), mailbox.path, values));
    // Allowed, but a client should know better (RFC 9051 6.3.11); Dovecot says so the same way.
    if (ctx.session.view?.mailbox.id === mailbox.id) {
      return { code: 'CLIENTBUG', text: 'Status on selected mailbox completed' };
    }
  },
};
