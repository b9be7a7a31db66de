/**
 * ENABLE (RFC 5161): CONDSTORE and QRESYNC (RFC 7162; QRESYNC implies CONDSTORE), UTF8=ACCEPT
 * (RFC 6855), IMAP4rev2 (RFC 9051: the session's rules change, see rev2.ts), UIDONLY (RFC 9586,
 * uidonly.ts).
 */
import { enableCondstore } from '../condstore.ts';
import type { CommandHandler } from '../context.ts';
import type { EnableCommand } from '../parser/index.ts';
import { uidOnlyAllowed } from '../uidonly.ts';

const ENABLEABLE = new Set(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4REV2', 'UIDONLY']);
/** Names as the client is told of them (capability names are case-insensitive). */
const SPELLING: Record<string, string> = { IMAP4REV2: 'IMAP4rev2' };

export const enable: CommandHandler<EnableCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const newly = command.capabilities
      .filter((name) => ENABLEABLE.has(name))
      // UIDONLY only where the account allows it (uidonly.ts): elsewhere it is not advertised.
      .filter((name) => name !== 'UIDONLY' || uidOnlyAllowed(ctx.session, ctx.services.config))
      .map((name) => SPELLING[name] ?? name)
      .filter((name, index, all) => !ctx.session.enabled.has(name) && all.indexOf(name) === index);
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
