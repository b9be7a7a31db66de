/** STAT (RFC 1939 5): count and size of the messages not marked as deleted. */
import type { CommandHandler } from '../context.ts';
import { expectArgs } from '../parser.ts';
import { maildropOf } from './maildrop-of.ts';

export const stat: CommandHandler = {
  states: ['transaction'],
  async run(ctx, command) {
    expectArgs(command, 0, 0);
    const { count, size } = await maildropOf(ctx).stat();
    return { text: `${count} ${size}` };
  },
};
