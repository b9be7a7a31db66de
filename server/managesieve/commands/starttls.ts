/**
 * STARTTLS (RFC 5804 2.2): the OK goes out in clear text, the handshake follows, and the server then
 * sends its capabilities again (without STARTTLS) and an OK. Bytes the client sent after STARTTLS
 * before the handshake are dropped (command injection).
 */
import type { CommandHandler } from '../context.ts';
import { err } from '../errors.ts';
import { checkCount } from '../parser.ts';

export const starttls: CommandHandler = {
  states: ['unauthenticated'],
  async run(ctx, command) {
    checkCount(command, 0, 0);
    if (ctx.session.secure) throw err('TLS is already active');
    return { text: 'Begin TLS negotiation now', after: () => ctx.startTls() };
  },
};
