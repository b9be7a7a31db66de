/** UNAUTHENTICATE (RFC 5804 2.14): back to the unauthenticated state, to log in as someone else. */
import type { CommandHandler } from '../context.ts';
import { checkCount } from '../parser.ts';

export const unauthenticate: CommandHandler = {
  states: ['authenticated'],
  async run(ctx, command) {
    checkCount(command, 0, 0);
    ctx.logout();
    return { text: 'Logged out' };
  },
};
