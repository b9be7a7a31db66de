/**
 * The ManageSieve service (RFC 5804): one plain-text listener on `managesieve.port` (4190) with
 * STARTTLS (RFC 5804 has no implicit-TLS port), and the set of live connections so shutdown can end
 * each.
 */
import type net from 'node:net';
import type { GateTicket } from '../net/connection-gate.ts';
import { closeListeners, listenPlainAndTls, type RunningListener } from '../net/listener.ts';
import type { TlsProvider } from '../tls/context.ts';
import { ManageSieveConnection } from './connection.ts';
import type { ManageSieveServices } from './context.ts';
import { responseLine } from './encoder.ts';

export interface ManageSieveService {
  listeners: RunningListener[];
  connections: Set<ManageSieveConnection>;
  stop(): Promise<void>;
}

export interface ManageSieveOptions {
  /** Idle timeout in milliseconds instead of `managesieve.idle_timeout`: for tests of the timeout. */
  idleTimeoutMs?: number;
}

export async function startManageSieve(
  services: ManageSieveServices,
  tls: TlsProvider,
  /** 0 disables the listener; -1 lets the OS choose a free port (tests). */
  port: number,
  options: ManageSieveOptions = {},
): Promise<ManageSieveService> {
  const runtime = {
    services,
    tls,
    idleTimeoutMs: options.idleTimeoutMs ?? services.config.managesieve.idle_timeout * 1000,
  };
  const connections = new Set<ManageSieveConnection>();
  const onConnection = (socket: net.Socket, _secure: boolean, ticket: GateTicket | null) => {
    const connection = new ManageSieveConnection(socket, runtime, ticket);
    connections.add(connection);
    void connection.run();
    void connection.finished.then(() => connections.delete(connection));
  };
  const listeners = await listenPlainAndTls({
    host: services.config.managesieve.host,
    ports: { port, tlsPort: 0 },
    tls,
    gate: services.gate,
    refusal: (reason) => responseLine('BYE', reason, { code: 'TRYLATER' }),
    onConnection,
    onError: (error) => services.logger.error({ err: error }, 'managesieve listener error'),
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
