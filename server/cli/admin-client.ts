/**
 * The CLI's client of a running server's admin API. `findServer` reads `<data_dir>/admin.token` and
 * asks `GET /api/status` at `admin.host:admin.port` (a wildcard host is reached on loopback) with a
 * short timeout; no token file, no answer or `--offline` (MALLARD_CLI_OFFLINE=1) means no server,
 * and the commands open the store directly. API errors become CliErrors with the API's message
 * and a sysexits code.
 */
import fs from 'node:fs';
import { tokenPath } from '../admin/token.ts';
import type { StatusJson } from '../admin/schemas.ts';
import type { Config } from '../config/schema.ts';
import { CliError, EXIT } from './cli-error.ts';

const PROBE_MS = 500;
const REQUEST_MS = 120_000;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  /** The exit code for 404 (default 65, EX_DATAERR; 67 where the missing thing is a user). */
  notFound?: number;
}

export interface AdminClient {
  readonly url: string;
  /** What the server answered to the probe. */
  readonly status: StatusJson;
  /** JSON in, JSON out (undefined for 204); errors as CliError. */
  request<T>(method: Method, path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  /** A non-JSON answer (the CA certificate in PEM or DER) as bytes. */
  download(path: string, options?: RequestOptions): Promise<Buffer>;
}

export function offlineWanted(): boolean {
  const value = process.env.MALLARD_CLI_OFFLINE ?? '';
  return value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function clientHost(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function exitCodeOf(status: number, options: RequestOptions): number {
  if (status === 404) return options.notFound ?? EXIT.dataError;
  if (status === 401 || status === 403) return EXIT.noPerm;
  if (status === 400 || status === 409 || status === 422) return EXIT.dataError;
  if (status >= 500 || status === 429) return EXIT.tempFail;
  return EXIT.failure;
}

async function apiError(response: Response, options: RequestOptions): Promise<CliError> {
  let message = `the server answered ${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  return new CliError(message, exitCodeOf(response.status, options));
}

function readToken(dataDir: string): string | null {
  try {
    return fs.readFileSync(tokenPath(dataDir), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Makes a client for `url` with `token` (no probe). */
export function adminClient(url: string, token: string, status: StatusJson): AdminClient {
  async function send(method: Method, path: string, body: unknown, options: RequestOptions) {
    let response: Response;
    try {
      response = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_MS),
      });
    } catch (error) {
      throw new CliError(
        `cannot reach the server at ${url}: ${(error as Error).message}; try again later`,
        EXIT.tempFail,
      );
    }
    if (!response.ok) throw await apiError(response, options);
    return response;
  }
  return {
    url,
    status,
    async request<T>(method: Method, path: string, body?: unknown, options: RequestOptions = {}) {
      const response = await send(method, path, body, options);
      if (response.status === 204) return undefined as T;
      return (await response.json()) as T;
    },
    async download(path, options = {}) {
      const response = await send('GET', path, undefined, options);
      return Buffer.from(await response.arrayBuffer());
    },
  };
}

/**
 * The running server for this configuration, or null when none answers. A server that answers but
 * refuses the token is an error (77): falling back to the store would hide a misconfiguration.
 */
export async function findServer(config: Config): Promise<AdminClient | null> {
  if (offlineWanted() || !config.admin.port) return null;
  const token = readToken(config.data_dir);
  if (!token) return null;
  const url = `http://${clientHost(config.admin.host)}:${config.admin.port}`;
  let response: Response;
  try {
    response = await fetch(`${url}/api/status`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(PROBE_MS),
    });
  } catch {
    return null;
  }
  if (response.status === 401 || response.status === 403) {
    const error = await apiError(response, {});
    throw new CliError(
      `the server at ${url} refused the admin token in ${tokenPath(config.data_dir)} (${error.message}); ` +
        'is it the server of another data directory? --offline opens the store directly',
      EXIT.noPerm,
    );
  }
  // A server is running and refused us: saying "no server runs" (and opening the store behind its
  // back) would be wrong. 429 comes after many wrong tokens from this address.
  if (response.status === 429) {
    const error = await apiError(response, {});
    throw new CliError(
      `the server at ${url} refused the admin token in ${tokenPath(config.data_dir)} (${error.message}); ` +
        'is it the server of another data directory? --offline opens the store directly',
      EXIT.noPerm,
    );
  }
  if (!response.ok) return null;
  let status: StatusJson;
  try {
    status = (await response.json()) as StatusJson;
  } catch {
    return null;
  }
  if (typeof status?.version !== 'string') return null;
  return adminClient(url, token, status);
}
