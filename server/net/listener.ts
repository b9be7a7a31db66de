/**
 * TCP listeners with implicit TLS or plain text (+ STARTTLS), shared by every protocol. Implicit TLS
 * and STARTTLS use the same path (`upgradeToTls`), so both read the TLS provider per connection.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { TlsProvider } from '../tls/context.ts';
import type { Gate, GateTicket } from './connection-gate.ts';

export interface ListenerOptions {
  host: string;
  port: number;
  /** Implicit TLS (993, 995) when true; plain text with STARTTLS offered when false. */
  implicitTls: boolean;
  tls: TlsProvider;
  /** Milliseconds a TLS handshake may take before the socket is dropped. */
  handshakeTimeout?: number;
  /** Admits each accepted socket first (connection limits, the pre-login deadline). */
  gate?: Gate;
  /** The protocol's refusal line for a plain-text connection the gate turns away (`* BYE ...`). */
  refusal?(reason: string): string;
  onConnection(socket: net.Socket, secure: boolean, ticket: GateTicket | null): void;
  onError?(error: Error): void;
}

export interface RunningListener {
  readonly port: number;
  readonly host: string;
  readonly implicitTls: boolean;
  /** Stops accepting; open connections are the protocol's to end. */
  close(): Promise<void>;
}

/** Wraps a connected socket in TLS as the server side; resolves once the handshake is done. */
export function upgradeToTls(
  socket: net.Socket,
  provider: TlsProvider,
  timeoutMs = 30_000,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: provider.current(),
      SNICallback: provider.sniCallback,
    });
    const timer = setTimeout(() => fail(new Error('TLS handshake timed out')), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      secure.destroy();
      reject(error);
    };
    secure.once('secure', () => {
      clearTimeout(timer);
      secure.off('error', fail);
      resolve(secure);
    });
    secure.once('error', fail);
  });
}

const LISTEN_ADVICE: Record<string, string> = {
  EACCES: 'ports below 1024 need root or CAP_NET_BIND_SERVICE; or configure another port',
  EADDRINUSE: 'the port is in use by another program',
  EADDRNOTAVAIL: 'this machine has no such address',
};

/** Says what to do about the usual reasons a port cannot be opened. */
function listenError(error: NodeJS.ErrnoException, options: ListenerOptions): Error {
  const advice = (error.code && LISTEN_ADVICE[error.code]) || error.message;
  return new Error(`cannot listen on ${options.host}:${options.port}: ${advice}`);
}

/**
 * Asks the gate (if any) to let the socket in: its ticket, null without a gate, undefined when the
 * socket was turned away (told why in plain text; on an implicit-TLS port it is simply closed, as
 * nothing readable can be said before the handshake).
 */
async function admit(socket: net.Socket, options: ListenerOptions): Promise<GateTicket | null | undefined> {
  if (!options.gate) return null;
  const verdict = await options.gate.admit(socket);
  if (typeof verdict !== 'string') return verdict;
  if (options.implicitTls || !options.refusal) socket.destroy();
  else socket.end(options.refusal(verdict));
  return undefined;
}

/** Hands an admitted socket to its protocol, after the TLS handshake on an implicit-TLS port. */
function accepted(socket: net.Socket, ticket: GateTicket | null | undefined, options: ListenerOptions): void {
  // Turned away, or gone while a worker's gate asked the supervisor (its ticket released itself).
  if (ticket === undefined || socket.destroyed) return;
  if (!options.implicitTls) {
    options.onConnection(socket, false, ticket);
    return;
  }
  upgradeToTls(socket, options.tls, options.handshakeTimeout).then(
    (secure) => options.onConnection(secure, true, ticket),
    () => socket.destroy(), // failed handshakes (scanners, wrong protocol) are not worth a log line each
  );
}

export function listen(options: ListenerOptions): Promise<RunningListener> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy()); // until the protocol takes the socket over
    void admit(socket, options).then((ticket) => accepted(socket, ticket, options));
  });
  server.on('error', (error) => options.onError?.(error));
  return new Promise((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) => reject(listenError(error, options));
    server.once('error', refuse);
    server.listen(options.port, options.host, () => {
      server.off('error', refuse);
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        host: options.host,
        implicitTls: options.implicitTls,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/** A protocol's two listeners: plain (STARTTLS) and implicit TLS; 0 disables one, -1 picks a free port. */
export interface ListenerPorts {
  port: number;
  tlsPort: number;
}

/** Opens a protocol's plain and implicit-TLS listeners; closes what opened when one fails. */
export async function listenPlainAndTls(
  options: Omit<ListenerOptions, 'port' | 'implicitTls'> & { ports: ListenerPorts },
): Promise<RunningListener[]> {
  const { ports, ...common } = options;
  const listeners: RunningListener[] = [];
  try {
    for (const [port, implicitTls] of [
      [ports.port, false],
      [ports.tlsPort, true],
    ] as const) {
      if (port === 0) continue;
      listeners.push(await listen({ ...common, port: Math.max(port, 0), implicitTls }));
    }
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close()));
    throw error;
  }
  return listeners;
}

/**
 * Stops accepting and ends the open connections with the protocol's goodbye. A listener's close
 * resolves only once its connections are gone, so the goodbyes go out meanwhile.
 */
export async function closeListeners(
  listeners: readonly RunningListener[],
  sayGoodbye: () => Array<Promise<unknown>>,
): Promise<void> {
  const closing = listeners.map((listener) => listener.close());
  await Promise.all(sayGoodbye());
  await Promise.all(closing);
}
