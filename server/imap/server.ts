/**
 * The IMAP service: a plain listener (STARTTLS) and an implicit-TLS listener, each optional
 * (port 0 disables it), and the set of live connections so shutdown can say BYE to each.
 */
import { listen, type RunningListener } from '../net/listener.ts';
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
  const onConnection = (socket: import('node:net').Socket, secure: boolean) => {
    const connection = new ImapConnection(socket, secure, services, tls);
    connections.add(connection);
    void connection.run().finally(() => connections.delete(connection));
  };
  const host = services.config.imap.host;
  const onError = (error: Error) => services.logger.error({ err: error }, 'imap listener error');
  const listeners: RunningListener[] = [];
  try {
    for (const [port, implicitTls] of [
      [ports.port, false],
      [ports.tlsPort, true],
    ] as const) {
      if (port === 0) continue;
      listeners.push(
        await listen({ host, port: Math.max(port, 0), implicitTls, tls, onConnection, onError }),
      );
    }
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close()));
    throw error;
  }
  return {
    listeners,
    connections,
    async stop() {
      // A listener's close resolves only when its connections are gone: say BYE to them meanwhile.
      const closing = Promise.all(listeners.map((listener) => listener.close()));
      await Promise.all([...connections].map((connection) => connection.shutdown()));
      await closing;
    },
  };
}
