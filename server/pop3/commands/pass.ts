/**
 * PASS (RFC 1939 7). The argument is the rest of the line, spaces included (a password may
 * contain them). The name from USER is used once, whatever the outcome.
 */
import { loginWithPassword } from '../auth-flow.ts';
import type { CommandHandler } from '../context.ts';
import { err } from '../errors.ts';

export const pass: CommandHandler = {
  states: ['authorization'],
  async run(ctx, command) {
    const username = ctx.session.pendingUser;
    ctx.session.pendingUser = null;
    if (username === null) throw err('Send USER first');
    if (command.rest === '') throw err('PASS needs one argument: the password');
    return loginWithPassword(ctx, username, command.rest);
  },
};
