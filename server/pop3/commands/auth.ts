/**
 * AUTH (RFC 5034): SASL PLAIN (RFC 4616) and LOGIN, with an initial response ("=" for an empty
 * one). Without an initial response the server sends "+ " and reads the answer; "*" cancels.
 * AUTH without a mechanism lists the mechanisms (an older draft some clients still send).
 */
import { passwordsAllowed } from '../../auth/login-policy.ts';
import { loginWithPassword, requirePasswordsAllowed } from '../auth-flow.ts';
import { SASL_MECHANISMS } from '../capabilities.ts';
import type { CommandHandler, Pop3Context } from '../context.ts';
import { err } from '../errors.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decode(text: string): string {
  if (text === '=') return '';
  if (!BASE64.test(text) || text.length % 4 !== 0) throw err('Invalid base64 in SASL response');
  return Buffer.from(text, 'base64').toString('utf8');
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
  const [authzid, authcid, password, extra] = message.split('\0');
  if (authcid === undefined || password === undefined || extra !== undefined) {
    throw err('Malformed PLAIN response');
  }
  if (authzid && authzid.toLowerCase() !== authcid.toLowerCase()) {
    throw err('Acting as another user is not allowed', 'AUTH');
  }
  return [authcid, password];
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
      const allowed = passwordsAllowed(ctx.session);
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
