/** STARTTLS (RFC 3501 6.2.1): the OK is written in clear text, then the handshake starts. */
import type { CommandHandler } from '../context.ts';
import { bad } from '../errors.ts';

export const starttls: CommandHandler = {
  states: ['not-authenticated'],
  async run(ctx) {
    if (ctx.session.secure) throw bad('TLS is already active');
    return { text: 'Begin TLS negotiation now', after: () => ctx.startTls() };
  },
};
