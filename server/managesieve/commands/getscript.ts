/** GETSCRIPT name (RFC 5804 2.9): the script's content as a literal, then OK. */
import type { CommandHandler } from '../context.ts';
import { err } from '../errors.ts';
import { stringArgs } from '../parser.ts';
import { userOf } from '../scripts.ts';

export const getscript: CommandHandler = {
  states: ['authenticated'],
  async run(ctx, command) {
    const [name] = stringArgs(command, 1, 1) as [string];
    const script = await ctx.services.store.getSieveScript(userOf(ctx).id, name);
    if (!script) throw err('There is no script by that name', 'NONEXISTENT');
    // Always a literal, whatever its length: clients save it to a file as it comes.
    return {
      body: `{${Buffer.byteLength(script.content)}}\r\n${script.content}\r\n`,
      text: 'Getscript completed',
    };
  },
};
