/**
 * Mallard's own HTTPS server: the files mail clients fetch to set themselves up (Thunderbird
 * autoconfig, Outlook autodiscover, Apple profiles) and the MTA-STS policy. Connections come in
 * through the same listener as IMAP and POP3 (the connection gate, then TLS with the active
 * certificate and SNI) and are handed to Node's HTTP parser. GET and POST on the routes below;
 * anything else is 404 (unknown path or domain) or 405 (known path, other method).
 */
import http from 'node:http';
import type net from 'node:net';
import type { Gate } from '../net/connection-gate.ts';
import { listen, type RunningListener } from '../net/listener.ts';
import type { TlsProvider } from '../tls/context.ts';
import {
  hostName,
  MAX_BODY_BYTES,
  notFound,
  type Route,
  type WebContext,
  type WebReply,
  type WebRequest,
} from './http.ts';
import { autoconfigRoute } from './routes/autoconfig.ts';
import { autodiscoverRoute } from './routes/autodiscover.ts';
import { mobileconfigRoute } from './routes/mobileconfig.ts';
import { mtaStsRoute } from './routes/mta-sts.ts';

const ROUTES: readonly Route[] = [autoconfigRoute, autodiscoverRoute, mobileconfigRoute, mtaStsRoute];

/** Sent with every answer: clients that reached us over HTTPS should never try plain HTTP. */
const COMMON_HEADERS = {
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export interface WebService {
  listeners: RunningListener[];
  stop(): Promise<void>;
}

export interface WebOptions {
  host: string;
  /** 0: no listener; -1: a free port chosen by the OS (tests). */
  port: number;
  gate?: Gate;
  onError?(error: Error): void;
}

class TooLarge extends Error {}

/** The body up to MAX_BODY_BYTES; TooLarge beyond (Content-Length is checked before reading). */
function readBody(request: http.IncomingMessage): Promise<string> {
  if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return Promise.reject(new TooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data');
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

async function answer(request: http.IncomingMessage, context: WebContext): Promise<WebReply> {
  const url = new URL(request.url ?? '/', 'https://mallard.invalid');
  const route = ROUTES.find((candidate) => candidate.matches(url.pathname));
  if (!route) return notFound();
  const method = request.method === 'HEAD' ? 'GET' : (request.method ?? '');
  if (!route.methods.includes(method)) {
    return {
      status: 405,
      type: 'text/plain; charset=utf-8',
      body: 'Method not allowed\n',
      headers: { allow: route.methods.join(', ') },
    };
  }
  let body = '';
  try {
    if (method === 'POST') body = await readBody(request);
  } catch (error) {
    if (error instanceof TooLarge) {
      return {
        status: 413,
        type: 'text/plain; charset=utf-8',
        body: 'Request too large\n',
        headers: { connection: 'close' },
      };
    }
    throw error;
  }
  const webRequest: WebRequest = {
    method,
    path: url.pathname,
    query: url.searchParams,
    host: hostName(request.headers.host),
    body,
  };
  return route.handle(webRequest, context);
}

function send(request: http.IncomingMessage, response: http.ServerResponse, reply: WebReply): void {
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
  response.writeHead(reply.status, {
    ...COMMON_HEADERS,
    ...reply.headers,
    'content-type': reply.type,
    'content-length': body.length,
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

export async function startWeb(
  context: WebContext,
  tls: TlsProvider,
  options: WebOptions,
): Promise<WebService> {
  const server = http.createServer(
    {
      // A URL with an address in it is short: 8 KiB of headers is plenty and bounds memory.
      maxHeaderSize: 8192,
      headersTimeout: 10_000,
      requestTimeout: 30_000,
    },
    (request, response) => {
      answer(request, context).then(
        (reply) => send(request, response, reply),
        (error: unknown) => {
          options.onError?.(error instanceof Error ? error : new Error(String(error)));
          send(request, response, {
            status: 500,
            type: 'text/plain; charset=utf-8',
            body: 'Internal error\n',
          });
        },
      );
    },
  );
  server.keepAliveTimeout = 5000;
  server.on('clientError', (_error, socket: net.Socket) => socket.destroy());
  const listeners: RunningListener[] = [];
  if (options.port !== 0) {
    listeners.push(
      await listen({
        host: options.host,
        port: Math.max(options.port, 0),
        implicitTls: true,
        tls,
        gate: options.gate,
        // Node's HTTP parser takes the decrypted socket as if it had accepted it itself.
        onConnection: (socket) => server.emit('connection', socket),
        onError: options.onError,
      }),
    );
  }
  return {
    listeners,
    async stop() {
      const closing = listeners.map((listener) => listener.close());
      server.closeAllConnections();
      await Promise.all(closing);
    },
  };
}
