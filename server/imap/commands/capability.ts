/** CAPABILITY (RFC 3501 6.1.1). */
import type { CommandHandler } from '../context.ts';

export const capability: CommandHandler = {
  states: ['not-authenticated', 'authenticated', 'selected'],
  async run(ctx) {
    await ctx.write(
      ctx
        .builder()
        .untagged()
        .text(`CAPABILITY ${ctx.capabilities().join(' ')}`)
        .crlf(),
    );
  },
};
