/**
 * Serves the built renderer (renderer/dist): files by path with their MIME type, index.html for
 * client-side routes, nothing outside the folder. Vite's hashed assets (/assets/name-HASH.js) are
 * cached for a year; index.html is revalidated so a new build is seen at once.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { SECURITY_HEADERS, sendError } from './http.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const HASHED = /[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

function notBuilt(response: http.ServerResponse, rendererDir: string): void {
  const body = `<!doctype html><meta charset="utf-8"><title>Mallard</title>
<h1>The control panel is not built</h1>
<p>No index.html in ${path.basename(path.dirname(rendererDir))}/${path.basename(rendererDir)}. Build it with <code>npx vite build</code> and reload.</p>`;
  response.writeHead(503, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  response.end(body);
}

/** The file a URL path names inside root, or null when the path is malformed or leaves root. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded.split('/').some((segment) => segment === '..')) return null;
  const file = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  const relative = path.relative(root, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  return file;
}

function fileStat(file: string): fs.Stats | null {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() ? stat : null;
  } catch {
    return null;
  }
}

export function serveStatic(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  rendererDir: string,
  urlPath: string,
): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return sendError(response, 405, 'method_not_allowed', `${request.method} is not allowed here`, {
      Allow: 'GET, HEAD',
    });
  }
  const root = path.resolve(rendererDir);
  let file = resolveInside(root, urlPath);
  if (!file) return sendError(response, 400, 'validation_failed', 'bad path');
  let stat = fileStat(file);
  if (!stat) {
    // A client-side route (/users/42) gets the app; a missing asset (/assets/x.js) a real 404.
    if (path.extname(file) !== '' && !urlPath.endsWith('.html'))
      return sendError(response, 404, 'not_found', `no file ${urlPath}`);
    file = path.join(root, 'index.html');
    stat = fileStat(file);
    if (!stat) return notBuilt(response, root);
  }
  const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const isIndex = path.basename(file) === 'index.html';
  const cache =
    !isIndex && HASHED.test(path.basename(file)) && urlPath.startsWith('/assets/')
      ? 'public, max-age=31536000, immutable'
      : 'no-cache';
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': stat.size,
    'Cache-Control': cache,
    'Last-Modified': stat.mtime.toUTCString(),
  });
  if (request.method === 'HEAD') return void response.end();
  fs.createReadStream(file)
    .on('error', () => response.destroy())
    .pipe(response);
}
