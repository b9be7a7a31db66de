/**
 * AUTHENTICATE mechanism [initial-response] (RFC 5804 2.1): SASL PLAIN (RFC 4616) and LOGIN, with
 * passwords and app passwords through the login path IMAP and POP3 use (connection rules, login
 * guard, delay). Challenges go out as strings of base64; the client answers with a string, `"*"`
 * cancels. Where passwords need TLS first the command is refused before any secret is sent:
 * NO (ENCRYPT-NEEDED). A lockout and a wrong password get the same reply.
 */
import { checkPasswordLogin, tlsRequiredForPasswords } from '../../auth/login-policy.ts';
import { decodeSaslResponse, parsePlainMessage, SaslError } from '../../auth/sasl.ts';
import type { CommandHandler, ManageSieveContext } from '../context.ts';
import { err } from '../errors.ts';
import { stringArgs } from '../parser.ts';

function decode(text: string): string {
  try {
    return decodeSaslResponse(text);
  } catch (error) {
    if (error instanceof SaslError) throw err(error.message);
    throw error;
  }
}

/** Sends a challenge and decodes the client's answer. */
async function challenge(ctx: ManageSieveContext, prompt: string): Promise<string> {
  const answer = await ctx.challenge(prompt);
  if (answer === null) throw err('Connection closed during authentication');
  if (answer === '*') throw err('Authentication cancelled');
  return decode(answer);
}

async function plain(ctx: ManageSieveContext, initial: string | undefined): Promise<[string, string]> {
  const message = initial === undefined ? await challenge(ctx, '') : decode(initial);
  try {
    return parsePlainMessage(message);
  } catch (error) {
    if (error instanceof SaslError) throw err(error.message);
    throw error;
  }
}

async function login(ctx: ManageSieveContext, initial: string | undefined): Promise<[string, string]> {
  const username = initial === undefined ? await challenge(ctx, 'Username:') : decode(initial);
  const password = await challenge(ctx, 'Password:');
  return [username, password];
}

export const authenticate: CommandHandler = {
  states: ['unauthenticated'],
  async run(ctx, command) {
    const [mechanism, initial] = stringArgs(command, 1, 2) as [string, string | undefined];
    if (tlsRequiredForPasswords(ctx.session, ctx.services.hooks)) {
      throw err('Passwords need TLS on this connection: use STARTTLS first', 'ENCRYPT-NEEDED');
    }
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
    const [username, password] = credentials;
    const result = await checkPasswordLogin(
      ctx.services,
      ctx.session.connection,
      username,
      password,
      ctx.log,
    );
    if (!result.ok) throw err('Authentication failed');
    ctx.login(result.auth.user);
    return { text: 'Logged in' };
  },
};
