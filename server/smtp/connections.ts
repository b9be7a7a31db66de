/**
 * The connection bookkeeping every smtp-server based listener shares (LMTP, SMTP-in, submission):
 * the connection rules at connect (first verdict wins; a failing rule refuses with 421, fail
 * closed), the session's entry in the admin API's registry (with byte counts from the socket and a
 * kick that says goodbye with 421), the TLS state once STARTTLS or implicit TLS is on, and the
 * cleanup at close. One implementation, so a fix to any of these reaches every listener.
 */
import type { SMTPServerSession } from 'smtp-server';
import type { SessionHandle, SessionRegistry } from '../admin/sessions.ts';
import type { ConnectionHooks, ConnectionSession, Protocol } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { MallardSMTPServer } from './engine.ts';

/** What every listener keeps per connection; a protocol may keep more beside it. */
export interface TrackedSession {
  readonly connection: ConnectionSession;
  readonly log: Logger;
  /** This session in the admin API's registry, once the connection rules let it in. */
  handle?: SessionHandle;
}

export interface ConnectionTrackerOptions {
  protocol: Extract<Protocol, 'lmtp' | 'smtp' | 'submission'>;
  hostname: string;
  hooks: ConnectionHooks;
  logger: Logger;
  registry?: SessionRegistry;
  /** The server the connections belong to (made after the tracker: its options need the tracker). */
  server: () => MallardSMTPServer;
}

type Callback = (error?: Error | null) => void;

/** The cipher of a TLS session as the admin API shows it, null before TLS. */
export function tlsOf(session: SMTPServerSession): { version: string; cipher: string } | null {
  const cipher = session.tlsOptions || null;
  return cipher ? { version: cipher.version, cipher: cipher.standardName || cipher.name } : null;
}

const refusal = (text: string, code: number): Error => Object.assign(new Error(text), { responseCode: code });

export class ConnectionTracker<S extends TrackedSession> {
  private readonly sessions = new Map<string, S>();

  constructor(
    private readonly options: ConnectionTrackerOptions,
    /** Adds the protocol's own per-connection state to the shared part. */
    private readonly extend: (base: TrackedSession, session: SMTPServerSession) => S,
  ) {}

  /** The state of a session that got past onConnect; a bug (thrown) otherwise. */
  stateOf(session: SMTPServerSession): S {
    const state = this.sessions.get(session.id);
    if (!state) throw new Error(`no state for ${this.options.protocol} session ${session.id}`);
    return state;
  }

  /** smtp-server's onConnect: the connection rules decide, an admitted session is registered. */
  onConnect(session: SMTPServerSession, callback: Callback): void {
    const { protocol, hooks, logger, hostname } = this.options;
    const connection: ConnectionSession = {
      id: session.id,
      protocol,
      remoteAddress: session.remoteAddress,
      remotePort: session.remotePort,
      localPort: session.localPort,
      secure: session.secure,
      user: null,
      openedAt: new Date(),
    };
    const log = logger.child({ session: session.id, protocol, remote: session.remoteAddress });
    const state = this.extend({ connection, log }, session);
    this.sessions.set(session.id, state);
    hooks.onConnect(connection).then(
      (verdict) => {
        if (!verdict.allow) {
          log.warn({ reason: verdict.reason }, 'connection refused');
          return callback(refusal(verdict.reason, verdict.temporary ? 421 : 554));
        }
        log.debug('connection opened');
        this.register(session, state);
        callback();
      },
      (error: unknown) => {
        // The rules could not decide: refuse (fail closed), temporarily.
        log.warn({ err: error }, 'connection rules failed; refusing');
        callback(refusal(`${hostname} Service not available`, 421));
      },
    );
  }

  /** TLS is on (after STARTTLS, or the implicit TLS handshake): the hooks and the registry learn it. */
  onSecure(session: SMTPServerSession): void {
    const state = this.sessions.get(session.id);
    if (!state) return;
    state.connection.secure = true;
    state.log.debug({ cipher: session.tlsOptions ? session.tlsOptions.name : null }, 'tls on');
    state.handle?.update({ secure: true, tls: tlsOf(session) });
  }

  /** smtp-server's onClose: the registry, the server's per-connection maps and the hooks let go. */
  onClose(session: SMTPServerSession): void {
    const state = this.sessions.get(session.id);
    const server = this.options.server();
    state?.handle?.close(); // reads the socket's byte counts: before forgetting the socket
    server.sockets.delete(session.id);
    server.tickets.delete(session.id);
    if (!state) return; // never got as far as onConnect
    this.sessions.delete(session.id);
    this.options.hooks.onClose(state.connection);
    state.log.debug('connection closed');
  }

  /** Puts an admitted session in the admin API's registry. */
  private register(session: SMTPServerSession, state: S): void {
    const { registry, hostname } = this.options;
    if (!registry) return;
    const server = this.options.server();
    state.handle = registry.open({
      id: session.id,
      protocol: this.options.protocol,
      remoteAddress: session.remoteAddress,
      remotePort: session.remotePort,
      localPort: session.localPort,
      secure: session.secure,
      tls: tlsOf(session),
      // 421 ends the connection (smtp-server closes it after sending).
      close(text) {
        for (const connection of server.connections) {
          if (connection.id === session.id) connection.send(421, `${hostname} ${text}`);
        }
      },
      // Bytes on the wire (TLS included), from the connection's TCP socket.
      bytes() {
        const socket = server.sockets.get(session.id);
        if (!socket) throw new Error('socket gone');
        return { in: socket.bytesRead, out: socket.bytesWritten };
      },
    });
  }
}
