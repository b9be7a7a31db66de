/**
 * The one login path of LOGIN and AUTHENTICATE: TLS check, lockout, throttling delay, password
 * check, then the session becomes authenticated. Every failure looks the same to the client.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { authenticate } from '../auth/authenticate.ts';
import { passwordsAllowed } from './capabilities.ts';
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
  const ip = session.connection.remoteAddress;
  const verdict = (await services.hooks.checkAuthAllowed?.(session.connection, username)) ?? { allow: true };
  if (!verdict.allow || services.throttle.isLockedOut(ip, username)) {
    ctx.log.info({ user: username }, 'login refused: locked out');
    throw no('AUTHENTICATIONFAILED', FAILED);
  }
  const delay = services.throttle.delayFor(ip, username);
  if (delay > 0) await sleep(delay);
  const result = await authenticate(services.store, username, password);
  if (!result) {
    services.throttle.recordFailure(ip, username);
    services.hooks.onAuthFailure?.(session.connection, username);
    ctx.log.info({ user: username }, 'login failed');
    throw no('AUTHENTICATIONFAILED', FAILED);
  }
  services.throttle.recordSuccess(username);
  ctx.login(result.user);
  return {
    code: ResponseCodes.capability(ctx.capabilities()),
    text: `${result.user.username} authenticated`,
  };
}
