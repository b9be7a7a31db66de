/** UIDL [msg] (RFC 1939 7): the unique id of one message, or of every message not marked as deleted. */
import type { CommandHandler } from '../context.ts';
import { expectArgs, parseNumber } from '../parser.ts';
import { maildropOf } from './maildrop-of.ts';

export const uidl: CommandHandler = {
  states: ['transaction'],
  async run(ctx, command) {
    expectArgs(command, 0, 1);
    const maildrop = maildropOf(ctx);
    if (command.args.length === 1) {
      const number = parseNumber(command.args[0], 'message number', 1);
      return { text: `${number} ${maildrop.uidl(number)}` };
    }
    const lines = [...maildrop.live()].map((number) => `${number} ${maildrop.uidl(number)}`);
    return { text: 'Unique-ID listing follows', lines };
  },
};
