/**
 * QUIT (RFC 1939 6). In the AUTHORIZATION state it just ends the session. In TRANSACTION it enters
 * UPDATE: the messages marked deleted are expunged (or moved to Trash with
 * `pop3.delete_mode: trash`), and then the connection closes. When that fails the reply is -ERR and
 * the connection closes all the same (RFC 1939: "-ERR some deleted messages not removed").
 */
import type { CommandHandler } from '../context.ts';
import { Pop3Error } from '../errors.ts';
import { expectArgs } from '../parser.ts';

export const quit: CommandHandler = {
  states: ['authorization', 'transaction'],
  async run(ctx, command) {
    expectArgs(command, 0, 0);
    const { maildrop, user } = ctx.session;
    if (!maildrop || !user) return { text: 'Bye', close: true };
    try {
      const result = await maildrop.commit(user.id, ctx.services.config.pop3.delete_mode, ctx.log);
      ctx.log.info({ removed: result.removed, missing: result.missing }, 'maildrop updated');
      return { text: `Bye, ${result.removed} messages deleted`, close: true };
    } catch (error) {
      ctx.log.error({ err: error }, 'maildrop update failed');
      throw new Pop3Error('SYS/TEMP', 'Some deleted messages were not removed', true);
    }
  },
};
