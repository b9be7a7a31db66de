/**
 * The one login path of LOGIN and AUTHENTICATE: the TLS requirement, then the password check shared
 * with POP3 (server/auth/login-policy.ts: login key, rules, login guard, delay, password), then the
 * session becomes authenticated. Every failure looks the same to the client, except a login turned
 * away before any check because too many wait from the address (a temporary refusal, [UNAVAILABLE]).
 */
import { checkPasswordLogin, tlsRequiredForPasswords } from '../auth/login-policy.ts';
import type { CommandOutcome, ImapContext } from './context.ts';
import { ResponseCodes } from './encoder/index.ts';
import { no } from './errors.ts';

const FAILED = 'Authentication failed';
/** RFC 5530 UNAVAILABLE: a temporary refusal, so the client retries instead of asking for the password. */
const LOGINS_BUSY = 'Too many logins at once from your address, try again shortly';

/**
 * Refuses a login before any secret is asked for where passwords need TLS (RFC 3501 6.2.3: LOGIN
 * is refused while LOGINDISABLED is advertised; RFC 5530 PRIVACYREQUIRED says why). AUTHENTICATE
 * calls this before its first continuation, so a client never sends the password to be refused.
 */
export function refuseWithoutTls(ctx: ImapContext): void {
  const { session, services } = ctx;
  if (tlsRequiredForPasswords(session, services.hooks)) throw no('PRIVACYREQUIRED', tlsFirstText(session));
}

/** Why the login is refused, in words a user can act on. */
export function tlsFirstText(session: { loopback: boolean }): string {
  return session.loopback
    ? 'This server requires TLS for passwords, even from this machine: use STARTTLS or port 993 first'
    : 'Passwords are not accepted without TLS: use STARTTLS or port 993 first';
}

export async function loginWithPassword(
  ctx: ImapContext,
  username: string,
  password: string,
): Promise<CommandOutcome> {
  const { session, services } = ctx;
  refuseWithoutTls(ctx);
  const login = await checkPasswordLogin(services, session.connection, username, password, ctx.log);
  if (!login.ok && login.reason === 'busy') throw no('UNAVAILABLE', LOGINS_BUSY);
  if (!login.ok) throw no('AUTHENTICATIONFAILED', FAILED);
  const result = login.auth;
  await ctx.login(result.user);
  return {
    code: ResponseCodes.capability(ctx.capabilities()),
    text: `${result.user.username} authenticated`,
  };
}
