/**
 * AUTH (RFC 5034): SASL PLAIN (RFC 4616) and LOGIN, with an initial response ("=" for an empty
 * one). Without an initial response the server sends "+ " and reads the answer; "*" cancels.
 * AUTH without a mechanism lists the mechanisms (an older draft some clients still send).
 */
import { tlsRequiredForPasswords } from '../../auth/login-policy.ts';
import { decodeSaslResponse, parsePlainMessage, SaslError } from '../../auth/sasl.ts';
import { loginWithPassword, requirePasswordsAllowed } from '../auth-flow.ts';
import { SASL_MECHANISMS } from '../capabilities.ts';
import type { CommandHandler, Pop3Context } from '../context.ts';
import { err } from '../errors.ts';

/** SASL failures in POP3's words: -ERR, with [AUTH] when acting as someone else. */
function pop3Sasl<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof SaslError)) throw error;
    throw error.kind === 'authorization' ? err(error.message, 'AUTH') : err(error.message);
  }
}

/** "=" is an empty response (RFC 5034). */
function decode(text: string): string {
  return text === '=' ? '' : pop3Sasl(() => decodeSaslResponse(text));
}

/** Sends a continuation with a challenge and decodes the client's answer. */
async function challenge(ctx: Pop3Context, prompt: string): Promise<string> {
  const answer = await ctx.challenge(prompt);
  if (answer === null) throw err('Connection closed during authentication');
  if (answer.trim() === '*') throw err('Authentication cancelled');
  return decode(answer.trim());
}

async function plain(ctx: Pop3Context, initial: string | undefined): Promise<[string, string]> {
  const message = initial === undefined ? await challenge(ctx, '') : decode(initial);
  return pop3Sasl(() => parsePlainMessage(message));
}

async function login(ctx: Pop3Context, initial: string | undefined): Promise<[string, string]> {
  const username = initial === undefined ? await challenge(ctx, 'Username:') : decode(initial);
  const password = await challenge(ctx, 'Password:');
  return [username, password];
}

export const auth: CommandHandler = {
  states: ['authorization'],
  async run(ctx, command) {
    const [mechanism, initial, ...extra] = command.args;
    if (mechanism === undefined) {
      const allowed = !tlsRequiredForPasswords(ctx.session, ctx.services.hooks);
      return { text: 'Supported mechanisms follow', lines: allowed ? [...SASL_MECHANISMS] : [] };
    }
    if (extra.length > 0) throw err('Too many arguments for AUTH');
    requirePasswordsAllowed(ctx);
    ctx.session.pendingUser = null;
    let credentials: [string, string];
    switch (mechanism.toUpperCase()) {
      case 'PLAIN':
        credentials = await plain(ctx, initial);
        break;
      case 'LOGIN':
        credentials = await login(ctx, initial);
        break;
      default:
        throw err(`Unsupported authentication mechanism ${mechanism.slice(0, 40)}`);
    }
    return loginWithPassword(ctx, ...credentials);
  },
};
