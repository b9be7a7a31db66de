/**
 * The connection hooks every protocol server takes, as WildDuck's do. `onConnect` runs before the
 * greeting and may refuse the connection with a reason (sent to the client in its protocol's
 * words); `onClose` always runs once the connection is gone. Rules built on these live beside this
 * file; the runner that applies them in order is the hooks' composition.
 */
export type Protocol = 'imap' | 'pop3' | 'lmtp' | 'smtp';

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

export type ConnectVerdict = { allow: true } | { allow: false; reason: string };

export interface ConnectionHooks {
  onConnect(session: ConnectionSession): Promise<ConnectVerdict>;
  onClose(session: ConnectionSession): void;
  /** Called after each failed login, so lockout rules can count them. */
  onAuthFailure?(session: ConnectionSession, username: string): void;
  /** Asked before checking a password: a locked-out IP or account is refused without a check. */
  checkAuthAllowed?(session: ConnectionSession, username: string): Promise<ConnectVerdict>;
}

/** No rules: every connection is allowed. */
export const ALLOW_ALL: ConnectionHooks = {
  onConnect: () => Promise.resolve({ allow: true }),
  onClose: () => {},
};
