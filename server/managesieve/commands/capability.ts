/** CAPABILITY (RFC 5804 2.4): the capability lines, then OK. */
import type { CommandHandler } from '../context.ts';
import { checkCount } from '../parser.ts';

export const capability: CommandHandler = {
  states: ['unauthenticated', 'authenticated'],
  async run(ctx, command) {
    checkCount(command, 0, 0);
    return { body: ctx.capabilities(), text: 'Capability completed' };
  },
};
