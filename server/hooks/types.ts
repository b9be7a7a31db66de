/**
 * The connection hooks every protocol server takes, as WildDuck's do. The built-in implementation
 * is the rule runner (runner.ts: ordered rules from the store); `ALLOW_ALL` is the no-rules one,
 * and an embedder may pass its own to `startServer({ hooks })`.
 *
 * The contract every protocol server keeps:
 * - `onConnect(session)` runs once per accepted TCP connection, before the greeting. A refusal is
 *   sent in the protocol's words with the verdict's `reason` (IMAP `* BYE reason`, POP3
 *   `-ERR [SYS/PERM] reason`, SMTP/LMTP `554 reason`; a `temporary` refusal (it may pass by itself)
 *   is `-ERR [SYS/TEMP]` in POP3 and 421 in SMTP/LMTP) and the connection is closed. A
 *   rejected promise is a refusal too (fail closed).
 * - `onClose(session)` runs exactly once per connection whose `onConnect` was called, whatever the
 *   verdict and however the connection ended, with the same session object (so `user` and
 *   `secure` are the final ones).
 * - `checkAuthAllowed(session, username)` is asked before each password check, with the login key
 *   (server/auth/login-key.ts); a refusal answers the login like a wrong password (the reason is
 *   logged, never sent). An allowed attempt may already count (a lockout counts it before the
 *   password is checked, so concurrent guesses cannot all pass); it then ends with exactly one of:
 * - `onAuthFailure(session, username)`: the password was wrong;
 * - `releaseAuthAttempt(session, username)`: it ended without a wrong password (success, refused
 *   later by the login guard, or the store failed), so it must not count as a failure.
 * - `requiresTls(session)` says, synchronously, whether the hooks require TLS for a password on
 *   this connection (the `require-tls` rule): protocols then advertise no password mechanism and
 *   refuse a login before the password is sent.
 * Hooks must not throw synchronously; `onClose`, `onAuthFailure`, `releaseAuthAttempt` and
 * `requiresTls` must return quickly.
 */
export type Protocol = 'imap' | 'pop3' | 'lmtp' | 'smtp' | 'submission' | 'managesieve';

export interface ConnectionSession {
  /** Unique per connection, also in every log line of the session. */
  id: string;
  protocol: Protocol;
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  /** True once TLS is on (implicit TLS, or after STARTTLS / STLS). */
  secure: boolean;
  /** The authenticated user's name, null before authentication. */
  user: string | null;
  openedAt: Date;
}

export type ConnectVerdict =
  | { allow: true }
  | {
      allow: false;
      /** Sent to the client: says what happened, never which rule or range decided. */
      reason: string;
      /** A refusal that may go away by itself (too many connections, a failing rule): SMTP 421, not 554. */
      temporary?: boolean;
    };

export interface ConnectionHooks {
  onConnect(session: ConnectionSession): Promise<ConnectVerdict>;
  onClose(session: ConnectionSession): void;
  /** Called after each failed login, so lockout rules can count them. */
  onAuthFailure?(session: ConnectionSession, username: string): void;
  /** Asked before checking a password: a locked-out IP or account is refused without a check. */
  checkAuthAllowed?(session: ConnectionSession, username: string): Promise<ConnectVerdict>;
  /** An attempt allowed by `checkAuthAllowed` ended without a wrong password. */
  releaseAuthAttempt?(session: ConnectionSession, username: string): void;
  /** Whether a password needs TLS on this connection even where the configuration allows it without. */
  requiresTls?(session: ConnectionSession): boolean;
}

/** No rules: every connection is allowed. */
export const ALLOW_ALL: ConnectionHooks = {
  onConnect: () => Promise.resolve({ allow: true }),
  onClose: () => {},
};

/** The hooks' view of a freshly accepted connection. */
export function connectionSessionOf(
  id: string,
  protocol: Protocol,
  socket: { remoteAddress?: string; remotePort?: number; localPort?: number },
  secure: boolean,
): ConnectionSession {
  return {
    id,
    protocol,
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localPort: socket.localPort ?? 0,
    secure,
    user: null,
    openedAt: new Date(),
  };
}
