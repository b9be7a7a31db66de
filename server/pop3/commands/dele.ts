/** DELE msg (RFC 1939 5): marks the message; QUIT removes it, RSET unmarks it. */
import type { CommandHandler } from '../context.ts';
import { expectArgs, parseNumber } from '../parser.ts';
import { maildropOf } from './maildrop-of.ts';

export const dele: CommandHandler = {
  states: ['transaction'],
  async run(ctx, command) {
    expectArgs(command, 1, 1);
    const number = parseNumber(command.args[0], 'message number', 1);
    maildropOf(ctx).dele(number);
    return { text: `Message ${number} deleted` };
  },
};
