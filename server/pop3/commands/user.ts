/**
 * USER (RFC 1939 7): remembers the name for PASS. Refused where passwords need TLS first, so the
 * client learns at once that it must use STLS, before it sends the password with PASS.
 */
import { requirePasswordsAllowed } from '../auth-flow.ts';
import type { CommandHandler } from '../context.ts';
import { err } from '../errors.ts';

export const user: CommandHandler = {
  states: ['authorization'],
  async run(ctx, command) {
    requirePasswordsAllowed(ctx);
    const name = command.rest.trim();
    if (name === '' || command.args.length !== 1) throw err('USER needs one argument: the user name');
    ctx.session.pendingUser = name;
    return { text: 'Send your password' };
  },
};
