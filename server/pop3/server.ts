/**
 * The POP3 service: a plain listener (STLS) and an implicit-TLS listener, each optional (port 0
 * disables it), and the set of live connections so shutdown can end each. The maildrop lock is a
 * store lease (maildrop-lease.ts), shared by every process on the store.
 */
import type net from 'node:net';
import type { GateTicket } from '../net/connection-gate.ts';
import { closeListeners, listenPlainAndTls, type RunningListener } from '../net/listener.ts';
import type { TlsProvider } from '../tls/context.ts';
import { Pop3Connection, type Pop3Runtime } from './connection.ts';
import type { Pop3Services } from './context.ts';

export interface Pop3Service {
  listeners: RunningListener[];
  connections: Set<Pop3Connection>;
  stop(): Promise<void>;
}

export interface Pop3Options {
  /**
   * Idle timeout in milliseconds instead of `pop3.idle_timeout` (whose minimum is RFC 1939's ten
   * minutes): for tests of the timeout only.
   */
  idleTimeoutMs?: number;
}

export async function startPop3(
  services: Pop3Services,
  tls: TlsProvider,
  /** 0 disables a listener; -1 lets the OS choose a free port (tests). */
  ports: { port: number; tlsPort: number },
  options: Pop3Options = {},
): Promise<Pop3Service> {
  const runtime: Pop3Runtime = {
    services,
    tls,
    idleTimeoutMs: options.idleTimeoutMs ?? services.config.pop3.idle_timeout * 1000,
  };
  const connections = new Set<Pop3Connection>();
  const onConnection = (socket: net.Socket, secure: boolean, ticket: GateTicket | null) => {
    const connection = new Pop3Connection(socket, secure, runtime, ticket);
    connections.add(connection);
    void connection.run();
    void connection.finished.then(() => connections.delete(connection));
  };
  const listeners = await listenPlainAndTls({
    host: services.config.pop3.host,
    ports,
    tls,
    gate: services.gate,
    refusal: (reason) => `-ERR [SYS/TEMP] ${reason}\r\n`,
    onConnection,
    onError: (error) => services.logger.error({ err: error }, 'pop3 listener error'),
  });
  return {
    listeners,
    connections,
    stop: () =>
      closeListeners(listeners, () =>
        [...connections].map((connection) => connection.shutdown().then(() => connection.finished)),
      ),
  };
}
