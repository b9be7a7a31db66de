/** Small HTTP pieces of the panel host: security headers, JSON answers in the admin API's error shape, bodies. */
import type http from 'node:http';

/** The renderer needs nothing beyond its own origin; inline styles are Mantine's. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const SECURITY_HEADERS: http.OutgoingHttpHeaders = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** Codes of the admin API (server/admin/schemas.ts) plus the panel host's own. */
export type PanelErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'rate_limited'
  | 'payload_too_large'
  | 'server_unavailable'
  | 'internal';

export function sendJson(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Cache-Control': 'no-store',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export function sendError(
  response: http.ServerResponse,
  status: number,
  code: PanelErrorCode,
  message: string,
  headers: http.OutgoingHttpHeaders = {},
): void {
  sendJson(response, status, { error: { code, message } }, headers);
}

/** An error a handler throws to answer with the JSON error shape. */
export class PanelError extends Error {
  constructor(
    readonly status: number,
    readonly code: PanelErrorCode,
    message: string,
    readonly headers: http.OutgoingHttpHeaders = {},
  ) {
    super(message);
    this.name = 'PanelError';
  }
}

const MAX_BODY_BYTES = 64 * 1024;

/** Reads a small JSON object body; anything else is a 400 (or 413 when too large). */
export async function readJsonObject(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      request.resume();
      throw new PanelError(
        413,
        'payload_too_large',
        `the request body is larger than ${MAX_BODY_BYTES} bytes`,
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PanelError(400, 'validation_failed', 'the request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new PanelError(400, 'validation_failed', 'the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

export function clientIp(request: http.IncomingMessage): string {
  const address = request.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    cookies.set(part.slice(0, index).trim(), part.slice(index + 1).trim());
  }
  return cookies;
}
