/**
 * STLS (RFC 2595 4): the +OK is written in clear text, then the handshake starts. Whatever the
 * client sent after STLS before the handshake is dropped (command injection), and a USER given
 * before is forgotten.
 */
import type { CommandHandler } from '../context.ts';
import { err } from '../errors.ts';
import { expectArgs } from '../parser.ts';

export const stls: CommandHandler = {
  states: ['authorization'],
  async run(ctx, command) {
    expectArgs(command, 0, 0);
    if (ctx.session.secure) throw err('TLS is already active');
    ctx.session.pendingUser = null;
    return { text: 'Begin TLS negotiation now', after: () => ctx.startTls() };
  },
};
