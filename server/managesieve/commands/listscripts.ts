/** LISTSCRIPTS (RFC 5804 2.7): one line per script, the active one marked ACTIVE, then OK. */
import type { CommandHandler } from '../context.ts';
import { encodeString } from '../encoder.ts';
import { checkCount } from '../parser.ts';
import { userOf } from '../scripts.ts';

export const listscripts: CommandHandler = {
  states: ['authenticated'],
  async run(ctx, command) {
    checkCount(command, 0, 0);
    const scripts = await ctx.services.store.listSieveScripts(userOf(ctx).id);
    const body = scripts
      .map((script) => `${encodeString(script.name)}${script.active ? ' ACTIVE' : ''}\r\n`)
      .join('');
    return { body, text: 'Listscripts completed' };
  },
};
