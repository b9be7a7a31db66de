/**
 * Forwards `/api/*` (HTTP, bodies streamed both ways) and the `/api/events` WebSocket to the admin
 * API on loopback, adding the bearer token the browser never sees. The caller has already checked
 * the panel session and the request's origin, so the browser's Cookie, Origin and Referer are not
 * passed on (the admin API would judge the panel's origin by its configured port, and the cookie
 * is the panel's business alone).
 */
import http from 'node:http';
import type net from 'node:net';
import { SECURITY_HEADERS, sendError } from './http.ts';

export interface Upstream {
  host: string;
  port: number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
]);
const NOT_FORWARDED = new Set(['cookie', 'authorization', 'host', 'origin', 'referer', 'x-mallard-panel']);

function forwardHeaders(request: http.IncomingMessage, upstream: Upstream, token: string, upgrade: boolean) {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || NOT_FORWARDED.has(name)) continue;
    if (HOP_BY_HOP.has(name) && !upgrade) continue;
    headers[name] = value;
  }
  headers.host = `${upstream.host.includes(':') ? `[${upstream.host}]` : upstream.host}:${upstream.port}`;
  headers.authorization = `Bearer ${token}`;
  if (upgrade) {
    headers.connection = 'Upgrade';
    headers.upgrade = 'websocket';
  }
  return headers;
}

/** True for the errors that mean "nobody is listening" rather than a broken request. */
export function isDownError(error: NodeJS.ErrnoException): boolean {
  return ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT'].includes(
    error.code ?? '',
  );
}

export function proxyHttp(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  upstream: Upstream,
  token: string,
  unavailable: () => string,
): void {
  const outgoing = http.request({
    host: upstream.host,
    port: upstream.port,
    // A fresh loopback connection each time: a kept-alive one the server has since closed (it
    // restarted, or was busy) fails with ECONNRESET and would read as "server down".
    agent: false,
    method: request.method,
    path: request.url,
    headers: forwardHeaders(request, upstream, token, false),
  });
  outgoing.on('response', (incoming) => {
    const headers: http.OutgoingHttpHeaders = { ...SECURITY_HEADERS };
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'set-cookie') headers[name] = value;
    }
    response.writeHead(incoming.statusCode ?? 502, headers);
    incoming.pipe(response);
    incoming.on('error', () => response.destroy());
  });
  outgoing.on('error', (error: NodeJS.ErrnoException) => {
    request.resume();
    if (response.headersSent) return void response.destroy();
    if (isDownError(error)) sendError(response, 503, 'server_unavailable', unavailable());
    else
      sendError(response, 502, 'server_unavailable', `the admin API could not be reached: ${error.message}`);
  });
  request.pipe(outgoing);
  // The browser went away: stop the upstream request too.
  response.on('close', () => {
    if (!response.writableFinished) outgoing.destroy();
  });
}

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function refuseUpgrade(socket: net.Socket, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    [
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}

function headLines(statusCode: number, statusMessage: string, rawHeaders: string[]): string {
  const lines = [`HTTP/1.1 ${statusCode} ${statusMessage}`];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2)
    lines.push(`${rawHeaders[index]}: ${rawHeaders[index + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Pipes a WebSocket upgrade to the admin API byte for byte once the admin API accepts it. */
export function proxyUpgrade(
  request: http.IncomingMessage,
  socket: net.Socket,
  head: Buffer,
  upstream: Upstream,
  token: string,
  unavailable: () => string,
): void {
  const outgoing = http.request({
    host: upstream.host,
    port: upstream.port,
    method: 'GET',
    path: request.url,
    headers: forwardHeaders(request, upstream, token, true),
  });
  outgoing.on('upgrade', (incoming, upstreamSocket, upstreamHead) => {
    socket.write(headLines(101, incoming.statusMessage ?? 'Switching Protocols', incoming.rawHeaders));
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    upstreamSocket.pipe(socket).pipe(upstreamSocket);
    const close = () => {
      socket.destroy();
      upstreamSocket.destroy();
    };
    upstreamSocket.on('error', close);
    upstreamSocket.on('close', close);
    socket.on('error', close);
    socket.on('close', close);
  });
  outgoing.on('response', (incoming) => {
    // The admin API refused (401, 403, 429): pass its answer on.
    socket.write(headLines(incoming.statusCode ?? 502, incoming.statusMessage ?? '', incoming.rawHeaders));
    incoming.pipe(socket);
  });
  outgoing.on('error', (error: NodeJS.ErrnoException) => {
    if (socket.destroyed) return;
    if (isDownError(error)) refuseUpgrade(socket, 503, 'server_unavailable', unavailable());
    else
      refuseUpgrade(
        socket,
        502,
        'server_unavailable',
        `the admin API could not be reached: ${error.message}`,
      );
  });
  socket.on('error', () => outgoing.destroy());
  outgoing.end();
}
