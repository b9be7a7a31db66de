/** ENABLE (RFC 5161): CONDSTORE and QRESYNC (RFC 7162; QRESYNC implies CONDSTORE), UTF8=ACCEPT (RFC 6855). */
import { enableCondstore } from '../condstore.ts';
import type { CommandHandler } from '../context.ts';
import type { EnableCommand } from '../parser/index.ts';

const ENABLEABLE = new Set(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT']);

export const enable: CommandHandler<EnableCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const newly = command.capabilities.filter(
      (name) => ENABLEABLE.has(name) && !ctx.session.enabled.has(name),
    );
    for (const name of newly) if (name !== 'CONDSTORE') ctx.session.enabled.add(name);
    await ctx.write(
      ctx
        .builder()
        .untagged()
        .text(['ENABLED', ...newly].join(' '))
        .crlf(),
    );
    if (newly.includes('CONDSTORE') || newly.includes('QRESYNC')) await enableCondstore(ctx);
  },
};
