/**
 * RETR msg (RFC 1939 5): the whole message, as stored but with CRLF line ends and dot-stuffed
 * (encoder.ts). The size in the +OK line is the one LIST gives.
 */
import type { CommandHandler } from '../context.ts';
import { expectArgs, parseNumber } from '../parser.ts';
import { maildropOf } from './maildrop-of.ts';

export const retr: CommandHandler = {
  states: ['transaction'],
  async run(ctx, command) {
    expectArgs(command, 1, 1);
    const number = parseNumber(command.args[0], 'message number', 1);
    const maildrop = maildropOf(ctx);
    const raw = await maildrop.read(number, true);
    return { text: `${await maildrop.size(number)} octets`, message: { raw } };
  },
};
