/**
 * STATUS (RFC 3501 6.3.10): counters of a mailbox without selecting it. Allowed on the selected
 * mailbox too (the values are the store's, which may run ahead of what the session has been
 * told), with OK [CLIENTBUG] as Dovecot answers. The items are listed in status-items.ts.
 */
import type { CommandHandler } from '../context.ts';
import { no } from '../errors.ts';
import { appendStatusResponse, noteCondstoreUse, statusValues } from '../mailbox/status-items.ts';
import { mailboxFromWire } from '../names.ts';
import type { StatusCommand } from '../parser/index.ts';

export const status: CommandHandler<StatusCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const path = mailboxFromWire(ctx, command.mailbox);
    // The mailbox and its counters in one store call, none of it growing with the mailbox.
    const status = await ctx.services.store.mailboxStatus(ctx.session.user!.id, path);
    if (!status || !status.mailbox.selectable) throw no('NONEXISTENT', 'No such mailbox');
    const { mailbox, counts } = status;
    await noteCondstoreUse(ctx, command.items);
    const values = await statusValues(ctx, mailbox, command.items, counts);
    await ctx.write(appendStatusResponse(ctx.builder(), mailbox.path, values));
    // Allowed, but a client should know better (RFC 9051 6.3.11); Dovecot says so the same way.
    if (ctx.session.view?.mailbox.id === mailbox.id) {
      return { code: 'CLIENTBUG', text: 'Status on selected mailbox completed' };
    }
  },
};
