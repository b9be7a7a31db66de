/**
 * UNSELECT (RFC 3691) and CLOSE (RFC 3501 6.4.2). CLOSE first expunges \Deleted messages
 * silently, unless the mailbox is read-only.
 */
import { isStoreError } from '../../store/errors.ts';
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
    if (view.readOnly) return;
    try {
      await ctx.services.store.expunge(view.mailbox.id);
    } catch (error) {
      // Deleted meanwhile by another session: nothing is left to expunge, and CLOSE has no NO.
      if (!isStoreError(error, 'NONEXISTENT')) throw error;
    }
  },
};
