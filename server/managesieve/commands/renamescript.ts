/** RENAMESCRIPT old new (RFC 5804 2.11): the active flag moves along with the name. */
import type { CommandHandler } from '../context.ts';
import { stringArgs } from '../parser.ts';
import { checkName, userOf } from '../scripts.ts';

export const renamescript: CommandHandler = {
  states: ['authenticated'],
  async run(ctx, command) {
    const [from, to] = stringArgs(command, 2, 2) as [string, string];
    await ctx.services.store.renameSieveScript(userOf(ctx).id, from, checkName(to));
    return { text: 'Script renamed' };
  },
};
