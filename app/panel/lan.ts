/**
 * The panel on the local network (panel.lan): HTTPS only, with the certificate the mail server
 * serves (the same store and SNI rules, read per connection, so a renewed or newly activated
 * certificate applies to the next phone without a restart). The loopback listener is not touched.
 *
 * Each accepted socket is wrapped in TLS here and handed to the panel's HTTP handler, so one
 * handler serves both listeners and knows which one a request came through.
 */
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { upgradeToTls } from '../../server/net/listener.ts';
import type { TlsProvider } from '../../server/tls/context.ts';

export const HSTS = 'max-age=31536000';

export interface LanListener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `server`'s requests over TLS on host:port. */
export async function listenLan(
  server: http.Server,
  provider: TlsProvider,
  host: string,
  port: number,
): Promise<LanListener> {
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    upgradeToTls(socket, provider, 15_000).then(
      (secure) => server.emit('connection', secure),
      () => socket.destroy(), // a failed handshake (a browser that does not trust us yet) is the client's
    );
  });
  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) => {
      const advice = error.code === 'EADDRINUSE' ? 'the port is in use by another program' : error.message;
      reject(new Error(`cannot listen on ${host}:${port} (panel on the LAN): ${advice}`));
    };
    tcp.once('error', refuse);
    tcp.listen(port, host, () => {
      tcp.off('error', refuse);
      resolve();
    });
  });
  return {
    host,
    port: (tcp.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** This machine's first non-internal IPv4 address (what a phone on the same network reaches). */
function lanAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return null;
}

/**
 * The address to open on a phone: the listener's own address when it is bound to one, else the
 * server's name when it is a real (dotted) one the certificate should hold, else the LAN address.
 */
export function lanUrl(listenHost: string, port: number, hostname: string): string {
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '';
  const host = !wildcard ? listenHost : hostname.includes('.') ? hostname : (lanAddress() ?? hostname);
  const shown = host.includes(':') ? `[${host}]` : host;
  return `https://${shown}${port === 443 ? '' : `:${port}`}`;
}

/**
 * Security events of the panel (LAN logins, second-factor failures, device links), one JSON line
 * on standard error in the server's log shape, with the client's address.
 */
export function securityLog(level: 'info' | 'warn', msg: string, address: string, extra: object = {}): void {
  process.stderr.write(
    `${JSON.stringify({ level, time: new Date().toISOString(), component: 'panel', msg, address, ...extra })}\n`,
  );
}
