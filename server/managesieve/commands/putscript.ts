/**
 * PUTSCRIPT name content (RFC 5804 2.6): checked by the interpreter first (a script that does not
 * compile is refused with its line and column and not stored), within the limits, then stored; an
 * active script stays active, so the new content is in force for the next delivery.
 */
import type { CommandHandler } from '../context.ts';
import { stringArgs } from '../parser.ts';
import { checkContent, checkName, checkSpace, userOf } from '../scripts.ts';

export const putscript: CommandHandler = {
  states: ['authenticated'],
  async run(ctx, command) {
    const [name, content] = stringArgs(command, 2, 2) as [string, string];
    checkName(name);
    await checkSpace(ctx, name, Buffer.byteLength(content));
    await checkContent(ctx, content, name);
    const user = userOf(ctx);
    await ctx.services.store.putSieveScript(user.id, name, content);
    ctx.log.info({ user: user.username, script: name, via: 'managesieve' }, 'Sieve script stored');
    return { text: 'Script stored' };
  },
};
