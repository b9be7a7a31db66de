/** HAVESPACE name size (RFC 5804 2.5): whether PUTSCRIPT of that size would fit the limits. */
import type { CommandHandler } from '../context.ts';
import { err } from '../errors.ts';
import { checkCount } from '../parser.ts';
import { checkName, checkSpace } from '../scripts.ts';

export const havespace: CommandHandler = {
  states: ['authenticated'],
  async run(ctx, command) {
    checkCount(command, 2, 2);
    const [name, size] = command.args;
    if (name?.type !== 'string' || size?.type !== 'number') throw err('HAVESPACE takes a name and a number');
    await checkSpace(ctx, checkName(name.value), size.value);
    return { text: 'Putscript would succeed' };
  },
};
