/** CHECKSCRIPT content (RFC 5804 2.12): the interpreter's verdict without storing anything. */
import type { CommandHandler } from '../context.ts';
import { err } from '../errors.ts';
import { stringArgs } from '../parser.ts';
import { checkContent } from '../scripts.ts';

export const checkscript: CommandHandler = {
  states: ['authenticated'],
  async run(ctx, command) {
    const [content] = stringArgs(command, 1, 1) as [string];
    const limit = ctx.services.config.managesieve.max_script_size;
    if (Buffer.byteLength(content) > limit)
      throw err(`The script is larger than ${limit} bytes`, 'QUOTA/MAXSIZE');
    await checkContent(ctx, content);
    return { text: 'Script is valid' };
  },
};
