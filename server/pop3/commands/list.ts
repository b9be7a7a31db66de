/** LIST [msg] (RFC 1939 5): the size of one message, or of every message not marked as deleted. */
import type { CommandHandler } from '../context.ts';
import { expectArgs, parseNumber } from '../parser.ts';
import { maildropOf } from './maildrop-of.ts';

export const list: CommandHandler = {
  states: ['transaction'],
  async run(ctx, command) {
    expectArgs(command, 0, 1);
    const maildrop = maildropOf(ctx);
    if (command.args.length === 1) {
      const number = parseNumber(command.args[0], 'message number', 1);
      return { text: `${number} ${await maildrop.size(number)}` };
    }
    const lines: string[] = [];
    let size = 0;
    for (const number of maildrop.live()) {
      const messageSize = await maildrop.size(number);
      size += messageSize;
      lines.push(`${number} ${messageSize}`);
    }
    return { text: `${lines.length} messages (${size} octets)`, lines };
  },
};
