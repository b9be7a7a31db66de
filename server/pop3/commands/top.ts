/**
 * TOP msg n (RFC 1939 7): the header, the blank line, and the first n lines of the body. Does not
 * count as retrieval (the message is not flagged \Seen).
 */
import type { CommandHandler } from '../context.ts';
import { expectArgs, parseNumber } from '../parser.ts';
import { maildropOf } from './maildrop-of.ts';

export const top: CommandHandler = {
  states: ['transaction'],
  async run(ctx, command) {
    expectArgs(command, 2, 2);
    const number = parseNumber(command.args[0], 'message number', 1);
    const bodyLines = parseNumber(command.args[1], 'number of lines', 0);
    const raw = await maildropOf(ctx).read(number, false);
    return { text: 'Top of message follows', message: { raw, bodyLines } };
  },
};
