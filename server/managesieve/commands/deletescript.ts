/** DELETESCRIPT name (RFC 5804 2.10): the active script cannot be deleted, NO (ACTIVE). */
import { isStoreError } from '../../store/errors.ts';
import type { CommandHandler } from '../context.ts';
import { err } from '../errors.ts';
import { stringArgs } from '../parser.ts';
import { userOf } from '../scripts.ts';

export const deletescript: CommandHandler = {
  states: ['authenticated'],
  async run(ctx, command) {
    const [name] = stringArgs(command, 1, 1) as [string];
    const user = userOf(ctx);
    try {
      await ctx.services.store.deleteSieveScript(user.id, name);
    } catch (error) {
      if (isStoreError(error, 'CANNOT')) throw err('The active script cannot be deleted', 'ACTIVE');
      throw error;
    }
    ctx.log.info({ user: user.username, script: name, via: 'managesieve' }, 'Sieve script deleted');
    return { text: 'Script deleted' };
  },
};
