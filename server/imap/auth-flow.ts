/**
 * The one login path of LOGIN and AUTHENTICATE: TLS check, then the password check shared with
 * POP3 (server/auth/login-policy.ts: rules, lockout, throttling delay, password), then the session
 * becomes authenticated. Every failure looks the same to the client.
 */
import { checkPasswordLogin, passwordsAllowed } from '../auth/login-policy.ts';
import type { CommandOutcome, ImapContext } from './context.ts';
import { ResponseCodes } from './encoder/index.ts';
import { no } from './errors.ts';

const FAILED = 'Authentication failed';

export async function loginWithPassword(
  ctx: ImapContext,
  username: string,
  password: string,
): Promise<CommandOutcome> {
  const { session, services } = ctx;
  if (!passwordsAllowed(session)) throw no('PRIVACYREQUIRED', 'Use STARTTLS or port 993 before logging in');
  const login = await checkPasswordLogin(services, session.connection, username, password, ctx.log);
  if (!login.ok) throw no('AUTHENTICATIONFAILED', FAILED);
  const result = login.auth;
  ctx.login(result.user);
  return {
    code: ResponseCodes.capability(ctx.capabilities()),
    text: `${result.user.username} authenticated`,
  };
}
