/**
 * The admin API server: HTTP (node:http) for the routes of routes.ts and a WebSocket (`ws`) for
 * the event stream, on `admin.host:admin.port` (loopback by default).
 *
 * Authentication: `Authorization: Bearer <token>` on every request, the token being the one in
 * `<data_dir>/admin.token` (token.ts). The WebSocket also takes it as a subprotocol
 * (`mallard.bearer.<token>` offered beside `mallard.events`), because browsers cannot set headers
 * on a WebSocket; the server selects `mallard.events`, so the token is never echoed. Tokens in the
 * URL are not accepted (they end up in logs and histories).
 *
 * Throttling: the right token always works, whatever came before from its address: the panel and
 * the CLI on this machine share 127.0.0.1 with anything else running there, and a wrong token sent
 * by one must not lock the others out. Each wrong token from an address is answered after a
 * growing delay, and after `lockoutAfter` of them further wrong tokens from that address get 429
 * at once for a while (no more delay to hold a connection open for). A guess of the 256-bit token
 * is hopeless anyway; the throttle keeps a misconfigured client from filling the log. A request
 * without any token is answered 401 at once and not counted; a WebSocket upgrade from a page of
 * another origin is refused before its token is looked at.
 *
 * Event stream: every event of the bus goes to every client as one JSON message. A client whose
 * unsent data exceeds `maxBufferedBytes` is disconnected at once: a slow consumer is dropped,
 * never waited for. Clients are pinged every 30 s and dropped when they do not answer.
 */
import http from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import { AuthThrottle, type ThrottleOptions } from '../auth/throttle.ts';
import type { AdminDeps } from './context.ts';
import { ApiError, errorBody, toApiError } from './errors.ts';
import { statusTick } from './handlers/status.ts';
import { EVENTS_PATH, EVENTS_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from './openapi.ts';
import { isStreamReply, Router, runRoute, type Route } from './router.ts';
import { ROUTES } from './routes.ts';
import type { AdminEvent } from './schemas.ts';
import { loadOrCreateToken, tokenMatches } from './token.ts';

export const DEFAULT_ADMIN_THROTTLE: ThrottleOptions = {
  baseDelayMs: 200,
  maxDelayMs: 3000,
  lockoutAfter: 10,
  windowMs: 10 * 60_000,
  lockoutMs: 5 * 60_000,
};

export interface AdminOptions {
  host: string;
  /** 0 lets the OS choose (tests). */
  port: number;
  /** The bearer token; default: read or create `<data_dir>/admin.token`. */
  token?: string;
  throttle?: Partial<ThrottleOptions>;
  /** How often the `status` event is sent (ms). */
  statusIntervalMs?: number;
  /** Unsent bytes a WebSocket client may have before it is dropped. */
  maxBufferedBytes?: number;
  /** Web origins besides the panel's (http://127.0.0.1:<panel.port>, localhost) allowed to open the stream. */
  allowedOrigins?: string[];
  /** Extra routes (tests). */
  routes?: readonly Route[];
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** http://host:port */
  readonly url: string;
  /** Open event stream clients. */
  readonly clients: number;
  stop(): Promise<void>;
}

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function clientIp(socket: net.Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function bearerOf(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : '';
}

function tokenFromSubprotocols(header: string | undefined): string | null {
  if (!header) return null;
  for (const protocol of header.split(',').map((part) => part.trim())) {
    if (protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return protocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  }
  return null;
}

function sendJson(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export async function startAdmin(deps: AdminDeps, options: AdminOptions): Promise<AdminServer> {
  const token = options.token ?? loadOrCreateToken(deps.config.data_dir);
  const throttleOptions = { ...DEFAULT_ADMIN_THROTTLE, ...options.throttle };
  // Keyed by the client address alone (as both the "IP" and the "account" of AuthThrottle).
  const throttle = new AuthThrottle(throttleOptions);
  const router = new Router(options.routes ?? ROUTES);
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const log = deps.logger.child({ component: 'admin' });
  const clients = new Set<WebSocket>();

  type Verdict = { ok: true } | { ok: false; error: ApiError; headers?: http.OutgoingHttpHeaders };

  /** Checks a presented token (null: none presented), throttling wrong ones per address. */
  async function authorize(ip: string, presented: string | null): Promise<Verdict> {
    if (presented === null) {
      return {
        ok: false,
        error: new ApiError('unauthorized', 'missing token: send Authorization: Bearer <token>'),
      };
    }
    if (tokenMatches(token, presented)) return { ok: true };
    if (throttle.isLockedOut(ip, ip)) {
      return {
        ok: false,
        error: new ApiError('rate_limited', 'too many wrong tokens from this address; try again later'),
        headers: { 'Retry-After': String(Math.ceil(throttleOptions.lockoutMs / 1000)) },
      };
    }
    throttle.recordFailure(ip, ip);
    log.warn({ remote: ip }, 'wrong admin token');
    await sleep(throttle.delayFor(ip, ip));
    return { ok: false, error: new ApiError('unauthorized', 'wrong token') };
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const ip = clientIp(request.socket);
    const url = new URL(request.url ?? '/', 'http://admin.invalid');
    const verdict = await authorize(ip, bearerOf(request.headers.authorization));
    if (!verdict.ok) {
      request.resume();
      const headers = {
        ...verdict.headers,
        ...(verdict.error.code === 'unauthorized' ? { 'WWW-Authenticate': 'Bearer' } : {}),
      };
      return sendJson(response, verdict.error.status, errorBody(verdict.error), headers);
    }
    const match = router.match(request.method ?? 'GET', url.pathname);
    if (match.kind === 'none') {
      request.resume();
      const error = new ApiError('not_found', `no route ${request.method} ${url.pathname}`);
      return sendJson(response, error.status, errorBody(error));
    }
    if (match.kind === 'method') {
      request.resume();
      const error = new ApiError('method_not_allowed', `${request.method} is not allowed on ${url.pathname}`);
      return sendJson(response, error.status, errorBody(error), { Allow: match.allowed.join(', ') });
    }
    const spec = match.route.response;
    let result: unknown;
    try {
      result = await runRoute(match, request, url, deps, ip);
    } catch (caught) {
      request.resume();
      const { error, log: shouldLog, reference } = toApiError(caught);
      if (shouldLog)
        log.error({ err: caught, reference, route: match.route.operationId }, 'admin request failed');
      return sendJson(response, error.status, errorBody(error));
    }
    if (spec.status === 204) {
      response.writeHead(204, SECURITY_HEADERS);
      response.end();
    } else if ('schema' in spec) {
      sendJson(response, spec.status, result);
    } else if (isStreamReply(result)) {
      response.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': spec.contentType,
        'Content-Disposition': `attachment; filename="${result.filename.replace(/[^\w.@-]/g, '_')}"`,
      });
      try {
        await result.write(response);
      } catch (error) {
        log.error({ err: error, route: match.route.operationId }, 'admin download cut short');
        response.destroy();
      }
    } else {
      const body = typeof result === 'string' ? Buffer.from(result) : (result as Buffer);
      const filename = spec.filename ?? url.pathname.split('/').pop() ?? 'download';
      response.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': spec.contentType,
        'Content-Length': body.length,
        'Content-Disposition': `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`,
      });
      response.end(body);
    }
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error({ err: error }, 'admin request crashed');
      if (!response.headersSent)
        sendJson(response, 500, errorBody(new ApiError('internal', 'internal error')));
      else response.destroy();
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  // --- the event stream ---

  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  function originAllowed(request: http.IncomingMessage): boolean {
    const origin = request.headers.origin;
    if (!origin) return true; // not a browser page: tools, the Electron main process
    if (allowedOrigins.has(origin)) return true;
    try {
      const parsed = new URL(origin);
      if (parsed.host === request.headers.host) return true; // same origin
      const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
      return LOOPBACK_HOSTS.has(parsed.hostname) && port === deps.config.panel.port;
    } catch {
      return false;
    }
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096,
    handleProtocols: (protocols) => (protocols.has(EVENTS_SUBPROTOCOL) ? EVENTS_SUBPROTOCOL : false),
  });

  function refuseUpgrade(
    socket: net.Socket,
    error: ApiError,
    headers: http.OutgoingHttpHeaders = {},
    status = error.status,
  ) {
    const body = JSON.stringify(errorBody(error));
    const lines = [
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${String(value)}`),
    ];
    socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  }

  const broadcast = (event: AdminEvent) => {
    if (clients.size === 0) return;
    const text = JSON.stringify(event);
    for (const client of clients) send(client, text);
  };
  let unsubscribe: (() => void) | null = null;

  function send(client: WebSocket, text: string): void {
    if (client.readyState !== WebSocket.OPEN) return;
    if (client.bufferedAmount > maxBuffered) {
      log.info({ buffered: client.bufferedAmount }, 'event stream client too slow; dropped');
      clients.delete(client);
      client.terminate();
      return;
    }
    client.send(text);
  }

  function attach(client: WebSocket): void {
    clients.add(client);
    unsubscribe ??= deps.events.subscribe(broadcast);
    let alive = true;
    client.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return client.terminate();
      alive = false;
      client.ping();
    }, 30_000);
    ping.unref();
    client.on('message', () => {}); // the stream is one-way; input is ignored
    client.on('error', () => client.terminate());
    client.on('close', () => {
      clearInterval(ping);
      clients.delete(client);
      if (clients.size === 0) {
        unsubscribe?.();
        unsubscribe = null;
      }
    });
    void statusTick(deps).then(
      (data) => send(client, JSON.stringify({ type: 'status', at: new Date().toISOString(), data })),
      () => {}, // the next tick tells
    );
  }

  server.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://admin.invalid');
      if (url.pathname !== EVENTS_PATH) {
        return refuseUpgrade(socket, new ApiError('not_found', `no WebSocket at ${url.pathname}`));
      }
      if (!originAllowed(request)) {
        return refuseUpgrade(
          socket,
          new ApiError('unauthorized', 'WebSocket from another origin refused'),
          {},
          403,
        );
      }
      const presented =
        bearerOf(request.headers.authorization) ??
        tokenFromSubprotocols(request.headers['sec-websocket-protocol']);
      const verdict = await authorize(clientIp(socket), presented);
      if (!verdict.ok) return refuseUpgrade(socket, verdict.error, verdict.headers);
      if (socket.destroyed) return;
      wss.handleUpgrade(request, socket, head, attach);
    })().catch((error: unknown) => {
      log.error({ err: error }, 'event stream upgrade failed');
      socket.destroy();
    });
  });

  const statusTimer = setInterval(() => {
    if (clients.size > 0) {
      void statusTick(deps).then(
        (tick) => deps.events.publish('status', tick),
        () => {}, // a worker did not answer in time: the next tick tells
      );
    }
  }, options.statusIntervalMs ?? 5000);
  statusTimer.unref();

  const stopCertificates =
    deps.certificates?.onChange((change) => {
      const id =
        change.type === 'removed' ? change.id : change.type === 'deactivated' ? null : change.certificate.id;
      deps.events.publish('certificate.changed', { action: change.type, id });
    }) ?? null;

  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) => {
      const advice = error.code === 'EADDRINUSE' ? 'the port is in use by another program' : error.message;
      reject(new Error(`cannot listen on ${options.host}:${options.port} (admin API): ${advice}`));
    };
    server.once('error', refuse);
    server.listen(options.port, options.host, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'admin listener error'));
  const port = (server.address() as net.AddressInfo).port;
  deps.admin = { host: options.host, port };
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  let stopping: Promise<void> | null = null;

  return {
    host: options.host,
    port,
    token,
    url: `http://${hostForUrl}:${port}`,
    get clients() {
      return clients.size;
    },
    stop() {
      return (stopping ??= (async () => {
        clearInterval(statusTimer);
        stopCertificates?.();
        unsubscribe?.();
        unsubscribe = null;
        for (const client of clients) client.close(1001, 'server shutting down');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        setTimeout(() => {
          for (const client of clients) client.terminate();
          server.closeAllConnections();
        }, 1000).unref();
        await closed;
        wss.close();
      })());
    },
  };
}
