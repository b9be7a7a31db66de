/**
 * The IMAP service: a plain listener (STARTTLS) and an implicit-TLS listener, each optional
 * (port 0 disables it), and the set of live connections so shutdown can say BYE to each.
 */
import type { GateTicket } from '../net/connection-gate.ts';
import { closeListeners, listenPlainAndTls, type RunningListener } from '../net/listener.ts';
import type { TlsProvider } from '../tls/context.ts';
import { ImapConnection } from './connection.ts';
import type { ImapServices } from './context.ts';

export interface ImapService {
  listeners: RunningListener[];
  connections: Set<ImapConnection>;
  stop(): Promise<void>;
}

export async function startImap(
  services: ImapServices,
  tls: TlsProvider,
  /** 0 disables a listener; -1 lets the OS choose a free port (tests). */
  ports: { port: number; tlsPort: number },
): Promise<ImapService> {
  const connections = new Set<ImapConnection>();
  const onConnection = (socket: import('node:net').Socket, secure: boolean, ticket: GateTicket | null) => {
    const connection = new ImapConnection(socket, secure, services, tls, ticket);
    connections.add(connection);
    void connection.run().finally(() => connections.delete(connection));
  };
  const listeners = await listenPlainAndTls({
    host: services.config.imap.host,
    ports,
    tls,
    gate: services.gate,
    refusal: (reason) => `* BYE [UNAVAILABLE] ${reason}\r\n`,
    onConnection,
    onError: (error) => services.logger.error({ err: error }, 'imap listener error'),
  });
  return {
    listeners,
    connections,
    stop: () => closeListeners(listeners, () => [...connections].map((connection) => connection.shutdown())),
  };
}
