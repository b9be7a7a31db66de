/**
 * UNSELECT (RFC 3691) and CLOSE (RFC 3501 6.4.2). CLOSE first expunges \Deleted messages
 * silently, unless the mailbox is read-only.
 */
import type { CommandHandler, ImapContext } from '../context.ts';

function deselect(ctx: ImapContext): void {
  ctx.session.view = null;
  ctx.session.state = 'authenticated';
}

export const unselect: CommandHandler = {
  states: ['selected'],
  async run(ctx) {
    deselect(ctx);
  },
};

export const close: CommandHandler = {
  states: ['selected'],
  async run(ctx) {
    const view = ctx.session.view!;
    deselect(ctx);
    if (!view.readOnly) await ctx.services.store.expunge(view.mailbox.id);
  },
};
