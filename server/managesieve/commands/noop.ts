/** NOOP (RFC 5804 2.13): OK, echoing the optional tag as (TAG "...") so clients can match replies. */
import type { CommandHandler } from '../context.ts';
import { stringArgs } from '../parser.ts';

export const noop: CommandHandler = {
  states: ['unauthenticated', 'authenticated'],
  async run(_ctx, command) {
    const [tag] = stringArgs(command, 0, 1);
    return { text: 'Done', code: tag === undefined ? undefined : { code: 'TAG', value: tag } };
  },
};
