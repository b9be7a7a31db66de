/**
 * A listener that is open only while it has something to answer: the HTTP-01 and TLS-ALPN-01
 * responders open theirs when the first challenge of a run is presented and close it after the
 * last is cleaned up. Ports 80 and 443 are privileged and often belong to a web server on the same
 * machine, and the listeners serve nothing but proofs: holding them between renewals (every 60
 * days, minutes at a time) would add an exposed service and port clashes for no gain.
 */
import { once } from 'node:events';
import type net from 'node:net';

export class OnDemandListener<Value> {
  private readonly entries = new Map<string, Value>();
  private server: net.Server | null = null;
  private opening: Promise<void> | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly make: (lookup: (key: string) => Value | undefined) => net.Server,
    private readonly host: string,
    private readonly port: number,
    private readonly what: string,
  ) {}

  async add(key: string, value: Value): Promise<void> {
    this.entries.set(key, value);
    // Several names of one order are presented at once: they share one opening.
    this.opening ??= this.open().finally(() => (this.opening = null));
    try {
      await this.opening;
    } catch (error) {
      this.entries.delete(key);
      throw error;
    }
  }

  private async open(): Promise<void> {
    if (this.server) return;
    const server = this.make((wanted) => this.entries.get(wanted));
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.listen(this.port, this.host);
    try {
      await Promise.race([
        once(server, 'listening'),
        once(server, 'error').then(([error]) => {
          throw error;
        }),
      ]);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const hint =
        code === 'EACCES'
          ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
          : code === 'EADDRINUSE'
            ? ' (another program listens there: stop it, or use another challenge type)'
            : '';
      throw new Error(
        `cannot open the ${this.what} listener on ${this.host}:${this.port}: ${(error as Error).message}${hint}`,
      );
    }
    this.server = server;
  }

  async remove(key: string): Promise<void> {
    this.entries.delete(key);
    if (this.entries.size === 0) await this.close();
  }

  async close(): Promise<void> {
    this.entries.clear();
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
