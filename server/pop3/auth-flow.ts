/**
 * The one login path of PASS and AUTH: the TLS rule, then the shared password check
 * (server/auth/login-policy.ts: connection rules, lockout, throttling delay, password), then the
 * maildrop lock and snapshot. A lockout and a wrong password get the same reply (RFC 3206 [AUTH]).
 */
import { checkPasswordLogin, passwordsAllowed } from '../auth/login-policy.ts';
import type { Pop3Context, Pop3Reply } from './context.ts';
import { err } from './errors.ts';

export const AUTH_FAILED = 'Authentication failed';

export function requirePasswordsAllowed(ctx: Pop3Context): void {
  if (!passwordsAllowed(ctx.session)) {
    throw err('Plaintext authentication disallowed on non-secure connections, use STLS first', 'AUTH');
  }
}

export async function loginWithPassword(
  ctx: Pop3Context,
  username: string,
  password: string,
): Promise<Pop3Reply> {
  requirePasswordsAllowed(ctx);
  const result = await checkPasswordLogin(ctx.services, ctx.session.connection, username, password, ctx.log);
  if (!result.ok) throw err(AUTH_FAILED, 'AUTH');
  await ctx.enterTransaction(result.auth.user);
  return { text: 'Logged in' };
}
