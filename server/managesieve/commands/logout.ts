/** LOGOUT (RFC 5804 2.3): OK, then the server closes the connection. */
import type { CommandHandler } from '../context.ts';
import { checkCount } from '../parser.ts';

export const logout: CommandHandler = {
  states: ['unauthenticated', 'authenticated'],
  async run(_ctx, command) {
    checkCount(command, 0, 0);
    return { text: 'Logout completed', close: true };
  },
};
