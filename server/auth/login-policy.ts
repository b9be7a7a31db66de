/**
 * The login rules every protocol shares (IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS and AUTH):
 *
 * - where a password may travel: over TLS, or without TLS only from loopback when
 *   `tls.plaintext_auth_on_loopback` allows it (RFC 8314: no passwords in clear text over the
 *   network);
 * - the steps of one password check, in order: the connection rules (`checkAuthAllowed`), the
 *   throttle's lockout, the throttle's delay, the password check itself, then the failure is
 *   counted (throttle and `onAuthFailure`) or the account's record cleared. A lockout and a wrong
 *   password look the same to the caller's client: the protocol answers both with one reply.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.ts';
import type { ConnectionHooks, ConnectionSession } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { authenticate, type AuthSuccess } from './authenticate.ts';
import type { AuthThrottle } from './throttle.ts';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK.test(address);
}

/** Whether passwords without TLS are accepted from this remote address (loopback, if configured). */
export function plaintextAuthAllowedFrom(config: Config, remoteAddress: string): boolean {
  return config.tls.plaintext_auth_on_loopback && isLoopbackAddress(remoteAddress);
}

/** Whether a password may be sent on this connection now. */
export function passwordsAllowed(session: { secure: boolean; loopback: boolean }): boolean {
  return session.secure || session.loopback;
}

export interface LoginServices {
  store: Store;
  hooks: ConnectionHooks;
  throttle: AuthThrottle;
}

export type LoginResult =
  | { ok: true; auth: AuthSuccess }
  /** `refused`: locked out by a rule or the throttle, no password was checked. */
  | { ok: false; reason: 'refused' | 'failed' };

/**
 * One password check with the connection rules and the throttle around it. Store errors (the
 * database is unreachable) are thrown as they are, for the protocol to map to a temporary failure.
 */
export async function checkPasswordLogin(
  services: LoginServices,
  connection: ConnectionSession,
  username: string,
  password: string,
  log: Logger,
): Promise<LoginResult> {
  const ip = connection.remoteAddress;
  const verdict = (await services.hooks.checkAuthAllowed?.(connection, username)) ?? { allow: true };
  if (!verdict.allow || services.throttle.isLockedOut(ip, username)) {
    log.info({ user: username }, 'login refused: locked out');
    return { ok: false, reason: 'refused' };
  }
  const delay = services.throttle.delayFor(ip, username);
  if (delay > 0) await sleep(delay);
  const result = await authenticate(services.store, username, password);
  if (!result) {
    services.throttle.recordFailure(ip, username);
    services.hooks.onAuthFailure?.(connection, username);
    log.info({ user: username }, 'login failed');
    return { ok: false, reason: 'failed' };
  }
  services.throttle.recordSuccess(username);
  return { ok: true, auth: result };
}
