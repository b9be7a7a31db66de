/**
 * RESETKEY (RFC 4467 6.2): forgets the URLAUTH key of one mailbox, or without arguments of all the
 * user's mailboxes, so that every URL made with it stops working. Mechanisms named must be ones we
 * have (INTERNAL); a missing mailbox is NO [NONEXISTENT].
 */
import type { CommandHandler } from '../context.ts';
import { no } from '../errors.ts';
import { requireMailbox } from '../names.ts';
import type { ResetKeyCommand } from '../parser/index.ts';
import { URLAUTH_MECHANISM } from '../url/urlauth.ts';

export const resetKey: CommandHandler<ResetKeyCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const unknown = command.mechanisms.find((mechanism) => mechanism !== URLAUTH_MECHANISM);
    if (unknown !== undefined) throw no(null, `Unknown URLAUTH mechanism ${unknown}`);
    const user = ctx.session.user!;
    const mailbox = command.mailbox === null ? null : await requireMailbox(ctx, command.mailbox);
    await ctx.services.store.resetUrlAuthKeys(user.id, mailbox?.id ?? null);
    return { text: 'RESETKEY completed' };
  },
};
