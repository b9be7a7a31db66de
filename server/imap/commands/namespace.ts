/** NAMESPACE (RFC 2342): one personal namespace with "/" as delimiter, no others. */
import type { CommandHandler } from '../context.ts';

export const namespace: CommandHandler = {
  states: ['authenticated', 'selected'],
  async run(ctx) {
    await ctx.write(ctx.builder().untagged().text('NAMESPACE (("" "/")) NIL NIL').crlf());
  },
};
