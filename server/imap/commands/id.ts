/** ID (RFC 2971): records the client's name for the session and answers with ours. */
import type { CommandHandler } from '../context.ts';
import type { IdCommand } from '../parser/index.ts';
import { VERSION } from '../../version.ts';

export const id: CommandHandler<IdCommand> = {
  states: ['not-authenticated', 'authenticated', 'selected'],
  async run(ctx, command) {
    if (command.params) {
      ctx.session.clientId = Object.fromEntries(
        command.params.map(([key, value]) => [key.toLowerCase(), value]),
      );
      ctx.log.info({ client: ctx.session.clientId }, 'client id');
    }
    const ours = ['name', 'Mallard', 'version', VERSION, 'vendor', 'Mallard'];
    await ctx.write(ctx.builder().untagged().text('ID ').list(ours).crlf());
  },
};
