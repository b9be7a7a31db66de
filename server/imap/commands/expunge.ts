/**
 * EXPUNGE (RFC 3501 6.4.3) and UID EXPUNGE (RFC 4315 2.1): removes the messages flagged \Deleted
 * (for UID EXPUNGE, only those in the UID set). The untagged `* n EXPUNGE` responses are not made
 * here: they come from the journal like everyone else's changes, through the view, which orders
 * them so each sequence number is right when it is read.
 */
import type { CommandHandler } from '../context.ts';
import { no } from '../errors.ts';
import type { ExpungeCommand } from '../parser/index.ts';
import { selectedUids } from './message-set.ts';

export const expunge: CommandHandler<ExpungeCommand> = {
  states: ['selected'],
  async run(ctx, command) {
    const view = ctx.session.view!;
    const uids = command.sequence ? selectedUids(view, command.sequence, true) : undefined;
    if (view.readOnly) throw no('READ-ONLY', 'Mailbox is read-only (EXAMINE): nothing can be expunged');
    if (uids?.length !== 0) await ctx.services.store.expunge(view.mailbox.id, uids);
    // Report the EXPUNGEs before the tagged OK.
    await ctx.flushUpdates(true);
    return { text: `${command.uid ? 'UID EXPUNGE' : 'EXPUNGE'} completed` };
  },
};
