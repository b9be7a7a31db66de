/** LOGOUT (RFC 3501 6.1.3): BYE, then the tagged OK, then the connection closes. */
import type { CommandHandler } from '../context.ts';

export const logout: CommandHandler = {
  states: ['not-authenticated', 'authenticated', 'selected'],
  async run(ctx) {
    await ctx.write(ctx.builder().status('*', 'BYE', 'Mallard logging out'));
    ctx.closeAfterResponse();
    return { text: 'LOGOUT completed' };
  },
};
