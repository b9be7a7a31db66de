/** CAPA (RFC 2449 5). */
import type { CommandHandler } from '../context.ts';
import { expectArgs } from '../parser.ts';

export const capa: CommandHandler = {
  states: ['authorization', 'transaction'],
  async run(ctx, command) {
    expectArgs(command, 0, 0);
    return { text: 'Capability list follows', lines: ctx.capabilities() };
  },
};
