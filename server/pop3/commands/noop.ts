/** NOOP (RFC 1939 5). */
import type { CommandHandler } from '../context.ts';
import { expectArgs } from '../parser.ts';

export const noop: CommandHandler = {
  states: ['transaction'],
  async run(_ctx, command) {
    expectArgs(command, 0, 0);
    return { text: 'Done' };
  },
};
