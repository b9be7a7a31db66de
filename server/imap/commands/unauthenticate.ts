/**
 * UNAUTHENTICATE (RFC 8437): back to the not-authenticated state on the same connection, so a
 * client can log in as someone else without a new TLS handshake. The selected mailbox is closed
 * without expunging (as UNSELECT), ENABLEd extensions are turned off; TLS and COMPRESS stay on.
 * The OK carries the capabilities of the new state (LITERAL-, the AUTH= mechanisms).
 */
import type { CommandHandler } from '../context.ts';
import { ResponseCodes } from '../encoder/index.ts';

export const unauthenticate: CommandHandler = {
  states: ['authenticated', 'selected'],
  async run(ctx) {
    ctx.unauthenticate();
    return { code: ResponseCodes.capability(ctx.capabilities()), text: 'UNAUTHENTICATE completed' };
  },
};
