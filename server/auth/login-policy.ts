/**
 * The login rules every protocol shares (IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS and AUTH):
 *
 * - where a password may travel: over TLS, or without TLS only from loopback when
 *   `tls.plaintext_auth_on_loopback` allows it and no `require-tls` connection rule says otherwise
 *   (RFC 8314: no passwords in clear text over the network). Protocols ask `tlsRequiredForPasswords`
 *   both to advertise (LOGINDISABLED, no AUTH= / USER) and to refuse BEFORE a password is sent;
 * - the steps of one password check, in order: the name becomes its login key (login-key.ts), the
 *   connection rules (`checkAuthAllowed`, which reserve the attempt in a lockout rule), the login
 *   guard (login-guard.ts: counts the attempt before the check, refuses a locked-out address,
 *   gives the delay), the delay, the password check itself, then the attempt's ending is told to
 *   the guard and the rules (a failure, or a release of the reserved attempt). A lockout and a wrong
 *   password look the same to the caller's client: the protocol answers both with one reply.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.ts';
import type { ConnectionHooks, ConnectionSession } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { checkCredentials, type AuthSuccess, type CredentialCheck } from './authenticate.ts';
import type { Guard } from './login-guard.ts';
import { loginKey } from './login-key.ts';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK.test(address);
}

/** Whether passwords without TLS are accepted from this remote address (loopback, if configured). */
export function plaintextAuthAllowedFrom(config: Config, remoteAddress: string): boolean {
  return config.tls.plaintext_auth_on_loopback && isLoopbackAddress(remoteAddress);
}

/** Whether a password may be sent on this connection now, by the configuration alone. */
export function passwordsAllowed(session: { secure: boolean; loopback: boolean }): boolean {
  return session.secure || session.loopback;
}

/**
 * Whether this connection must have TLS before a password may be sent: not yet TLS, and either not
 * from (allowed) loopback or a `require-tls` connection rule applies to it. Asked when listing
 * capabilities and before a login starts, so the refusal comes before any secret is sent.
 */
export function tlsRequiredForPasswords(
  session: { secure: boolean; loopback: boolean; connection: ConnectionSession },
  hooks: Pick<ConnectionHooks, 'requiresTls'>,
): boolean {
  if (session.secure) return false;
  if (!passwordsAllowed(session)) return true;
  return hooks.requiresTls?.(session.connection) ?? false;
}

export interface LoginServices {
  store: Store;
  hooks: ConnectionHooks;
  guard: Guard;
}

export type LoginResult =
  | { ok: true; auth: AuthSuccess }
  /**
   * `refused`: locked out by a rule or the throttle, no password was checked. `busy`: too many
   * logins from the address are waiting already; nothing was checked or counted, so the client is
   * told to try again later (a temporary refusal, not a wrong password its user must retype).
   */
  | { ok: false; reason: 'refused' | 'failed' | 'busy' };

/**
 * One password check with the connection rules and the login guard around it. Store errors (the
 * database is unreachable) are thrown as they are, for the protocol to map to a temporary failure.
 */
export async function checkPasswordLogin(
  services: LoginServices,
  connection: ConnectionSession,
  name: string,
  password: string,
  log: Logger,
): Promise<LoginResult> {
  const username = loginKey(name);
  const { hooks, guard } = services;
  const verdict = (await hooks.checkAuthAllowed?.(connection, username)) ?? { allow: true };
  if (!verdict.allow) {
    log.warn({ user: username }, 'login refused by a connection rule');
    return { ok: false, reason: 'refused' };
  }
  const admission = await guard.admit(connection.remoteAddress, username);
  if (!admission.admitted) {
    hooks.releaseAuthAttempt?.(connection, username);
    if (admission.reason === 'busy') {
      log.warn({ user: username }, 'login refused: too many logins waiting from this address');
      return { ok: false, reason: 'busy' };
    }
    log.warn({ user: username, why: admission.reason }, 'login refused: address locked out');
    return { ok: false, reason: 'refused' };
  }
  const { attempt, delayMs } = admission;
  let check: CredentialCheck;
  try {
    if (delayMs > 0) await sleep(delayMs);
    check = await checkCredentials(services.store, username, password);
  } catch (error) {
    attempt.abandoned();
    hooks.releaseAuthAttempt?.(connection, username);
    throw error;
  }
  const result: AuthSuccess | null = check.success;
  if (!result) {
    attempt.failed(password, { accountExists: 'accountExists' in check && check.accountExists });
    hooks.onAuthFailure?.(connection, username);
    log.info({ user: username }, 'login failed');
    return { ok: false, reason: 'failed' };
  }
  attempt.succeeded();
  hooks.releaseAuthAttempt?.(connection, username);
  return { ok: true, auth: result };
}
