/**
 * AUTHENTICATE PLAIN and LOGIN (RFC 3501 6.2.2, RFC 4616), with SASL-IR (RFC 4959). A client
 * cancels with "*" (BAD, as RFC 3501 asks).
 */
import { loginWithPassword } from '../auth-flow.ts';
import type { CommandHandler, ImapContext } from '../context.ts';
import { bad, no } from '../errors.ts';
import type { AuthenticateCommand } from '../parser/index.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decode(text: string): string {
  if (!BASE64.test(text) || text.length % 4 !== 0) throw bad('Invalid base64 in SASL response');
  return Buffer.from(text, 'base64').toString('utf8');
}

/** Sends a continuation with a (base64) challenge and reads the client's answer. */
async function challenge(ctx: ImapContext, prompt: string): Promise<string> {
  await ctx.write(Buffer.from(`+ ${Buffer.from(prompt).toString('base64')}\r\n`));
  const line = await ctx.readLine();
  if (line === null) throw bad('Connection closed during authentication');
  const text = line.toString('latin1').trim();
  if (text === '*') throw bad('Authentication cancelled');
  return decode(text);
}

async function plain(ctx: ImapContext, initial: string | null): Promise<[string, string]> {
  const message = initial === null ? await challenge(ctx, '') : decode(initial);
  const [authzid, authcid, password] = message.split('\0');
  if (authcid === undefined || password === undefined) throw bad('Malformed PLAIN response');
  if (authzid && authzid.toLowerCase() !== authcid.toLowerCase()) {
    throw no('AUTHORIZATIONFAILED', 'Acting as another user is not allowed');
  }
  return [authcid, password];
}

async function login(ctx: ImapContext, initial: string | null): Promise<[string, string]> {
  const username = initial === null ? await challenge(ctx, 'Username:') : decode(initial);
  const password = await challenge(ctx, 'Password:');
  return [username, password];
}

export const authenticate: CommandHandler<AuthenticateCommand> = {
  states: ['not-authenticated'],
  async run(ctx, command) {
    const initial = command.initialResponse;
    let credentials: [string, string];
    switch (command.mechanism) {
      case 'PLAIN':
        credentials = await plain(ctx, initial);
        break;
      case 'LOGIN':
        credentials = await login(ctx, initial);
        break;
      default:
        throw no('CANNOT', `Unsupported authentication mechanism ${command.mechanism}`);
    }
    return loginWithPassword(ctx, ...credentials);
  },
};
