/**
 * The CLI's client of a running server's admin API. `findServer` reads `<data_dir>/admin.token` and
 * asks `GET /api/status` at `admin.host:admin.port` (a wildcard host is reached on loopback) with a
 * short timeout; no token file, no answer or `--offline` (MALLARD_CLI_OFFLINE=1) means no server,
 * and the commands open the store directly. API errors become CliErrors with the API's message
 * and a sysexits code.
 */
import fs from 'node:fs';
import http from 'node:http';
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

/** What the CLI reads of an answer of the admin API. */
interface Answer {
  status: number;
  statusText: string;
  ok: boolean;
  body: Buffer;
}

/**
 * One request with node:http, not fetch: Node loads fetch's implementation (undici) at the first
 * call, some 20 ms of every command that talks to a running server.
 */
function send(
  url: string,
  method: Method,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const lengths = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const request = http.request(
      url,
      { method, headers: { ...headers, ...lengths }, signal: AbortSignal.timeout(timeoutMs) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          resolve({
            status,
            statusText: response.statusMessage ?? '',
            ok: status >= 200 && status < 300,
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

function apiError(answer: Answer, options: RequestOptions): CliError {
  let message = `the server answered ${answer.status} ${answer.statusText}`;
  try {
    const body = JSON.parse(answer.body.toString('utf8')) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  return new CliError(message, exitCodeOf(answer.status, options));
}

const json = <T>(answer: Answer): T => JSON.parse(answer.body.toString('utf8')) as T;

function readToken(dataDir: string): string | null {
  try {
    return fs.readFileSync(tokenPath(dataDir), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Makes a client for `url` with `token` (no probe). */
export function adminClient(url: string, token: string, status: StatusJson): AdminClient {
  async function call(method: Method, path: string, body: unknown, options: RequestOptions) {
    let answer: Answer;
    try {
      answer = await send(
        `${url}${path}`,
        method,
        {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body === undefined ? undefined : JSON.stringify(body),
        REQUEST_MS,
      );
    } catch (error) {
      throw new CliError(
        `cannot reach the server at ${url}: ${(error as Error).message}; try again later`,
        EXIT.tempFail,
      );
    }
    if (!answer.ok) throw apiError(answer, options);
    return answer;
  }
  return {
    url,
    status,
    async request<T>(method: Method, path: string, body?: unknown, options: RequestOptions = {}) {
      const answer = await call(method, path, body, options);
      if (answer.status === 204) return undefined as T;
      return json<T>(answer);
    },
    async download(path, options = {}) {
      return (await call('GET', path, undefined, options)).body;
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
  let response: Answer;
  try {
    response = await send(
      `${url}/api/status`,
      'GET',
      { authorization: `Bearer ${token}` },
      undefined,
      PROBE_MS,
    );
  } catch {
    return null;
  }
  if (response.status === 401 || response.status === 403) {
    const error = apiError(response, {});
    throw new CliError(
      `the server at ${url} refused the admin token in ${tokenPath(config.data_dir)} (${error.message}); ` +
        'is it the server of another data directory? --offline opens the store directly',
      EXIT.noPerm,
    );
  }
  // A server is running and refused us: saying "no server runs" (and opening the store behind its
  // back) would be wrong. 429 comes after many wrong tokens from this address.
  if (response.status === 429) {
    const error = apiError(response, {});
    throw new CliError(
      `the server at ${url} refused the admin token in ${tokenPath(config.data_dir)} (${error.message}); ` +
        'is it the server of another data directory? --offline opens the store directly',
      EXIT.noPerm,
    );
  }
  if (!response.ok) return null;
  let status: StatusJson;
  try {
    status = json<StatusJson>(response);
  } catch {
    return null;
  }
  if (typeof status?.version !== 'string') return null;
  return adminClient(url, token, status);
}
