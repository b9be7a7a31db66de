/**
 * AUTHENTICATE PLAIN and LOGIN (RFC 3501 6.2.2, RFC 4616), with SASL-IR (RFC 4959). A client
 * cancels with "*" (BAD, as RFC 3501 asks). Where passwords need TLS the command is refused before
 * the first continuation, so the client is never asked for a password it may not send.
 */
import { decodeSaslResponse, parsePlainMessage, SaslError } from '../../auth/sasl.ts';
import { loginWithPassword, refuseWithoutTls } from '../auth-flow.ts';
import type { CommandHandler, ImapContext } from '../context.ts';
import { bad, no } from '../errors.ts';
import type { AuthenticateCommand } from '../parser/index.ts';

function decode(text: string): string {
  return imapSasl(() => decodeSaslResponse(text));
}

/** SASL failures in IMAP's words: a bad response is BAD, acting as someone else is NO. */
function imapSasl<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof SaslError)) throw error;
    throw error.kind === 'authorization' ? no('AUTHORIZATIONFAILED', error.message) : bad(error.message);
  }
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
  return imapSasl(() => parsePlainMessage(message));
}

async function login(ctx: ImapContext, initial: string | null): Promise<[string, string]> {
  const username = initial === null ? await challenge(ctx, 'Username:') : decode(initial);
  const password = await challenge(ctx, 'Password:');
  return [username, password];
}

export const authenticate: CommandHandler<AuthenticateCommand> = {
  states: ['not-authenticated'],
  async run(ctx, command) {
    refuseWithoutTls(ctx);
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
