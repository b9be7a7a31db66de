/** RSET (RFC 1939 5): unmarks every message marked as deleted. */
import type { CommandHandler } from '../context.ts';
import { expectArgs } from '../parser.ts';
import { maildropOf } from './maildrop-of.ts';

export const rset: CommandHandler = {
  states: ['transaction'],
  async run(ctx, command) {
    expectArgs(command, 0, 0);
    const maildrop = maildropOf(ctx);
    maildrop.reset();
    const { count, size } = await maildrop.stat();
    return { text: `Maildrop has ${count} messages (${size} octets)` };
  },
};
