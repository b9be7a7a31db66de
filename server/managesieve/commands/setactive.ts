/** SETACTIVE name (RFC 5804 2.8): makes it the one active script; "" leaves none active. */
import type { CommandHandler } from '../context.ts';
import { stringArgs } from '../parser.ts';
import { userOf } from '../scripts.ts';

export const setactive: CommandHandler = {
  states: ['authenticated'],
  async run(ctx, command) {
    const [name] = stringArgs(command, 1, 1) as [string];
    const user = userOf(ctx);
    await ctx.services.store.activateSieveScript(user.id, name === '' ? null : name);
    ctx.log.info({ user: user.username, script: name || null, via: 'managesieve' }, 'Sieve script activated');
    return { text: name === '' ? 'No script is active' : 'Script activated' };
  },
};
