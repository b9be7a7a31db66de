/**
 * The one login path of PASS and AUTH: the TLS requirement, then the shared password check
 * (server/auth/login-policy.ts: login key, connection rules, login guard, delay, password), then
 * the maildrop lock and snapshot. A lockout and a wrong password get the same reply (RFC 3206
 * [AUTH]).
 */
import { checkPasswordLogin, tlsRequiredForPasswords } from '../auth/login-policy.ts';
import type { Pop3Context, Pop3Reply } from './context.ts';
import { err } from './errors.ts';

export const AUTH_FAILED = 'Authentication failed';
const LOGINS_BUSY = 'Too many logins at once from your address, try again shortly';

/**
 * Refuses USER and AUTH where passwords need TLS, before the password is sent (PASS or a SASL
 * continuation would carry it). `[AUTH]` and not `[SYS/...]`: RFC 3206 5 gives AUTH for "an attempt
 * to authenticate in violation of policy", which this is, and a client seeing AUTH asks its user
 * instead of retrying blindly; Dovecot answers the same. The text says what to do.
 */
export function requirePasswordsAllowed(ctx: Pop3Context): void {
  if (tlsRequiredForPasswords(ctx.session, ctx.services.hooks)) {
    throw err(
      ctx.session.loopback
        ? 'This server requires TLS for passwords, even from this machine: use STLS or port 995 first'
        : 'Plaintext authentication disallowed on non-secure connections: use STLS or port 995 first',
      'AUTH',
    );
  }
}

export async function loginWithPassword(
  ctx: Pop3Context,
  username: string,
  password: string,
): Promise<Pop3Reply> {
  requirePasswordsAllowed(ctx);
  const result = await checkPasswordLogin(ctx.services, ctx.session.connection, username, password, ctx.log);
  // RFC 3206 SYS/TEMP: nothing was checked, the client should retry rather than ask for the password.
  if (!result.ok && result.reason === 'busy') throw err(LOGINS_BUSY, 'SYS/TEMP');
  if (!result.ok) throw err(AUTH_FAILED, 'AUTH');
  await ctx.enterTransaction(result.auth.user);
  return { text: 'Logged in' };
}
