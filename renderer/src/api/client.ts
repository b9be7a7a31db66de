/**
 * The one way the renderer talks to the server: same-origin HTTP to the panel host, which adds the
 * admin token and forwards `/api/*` to the admin API. Every mutating request carries the
 * `X-Mallard-Panel` header the host requires against cross-site requests. Errors arrive as
 * `ApiError` with the admin API's stable code and a message meant for a person.
 */
import type { ErrorCode } from '../../../server/admin/schemas.ts';

export interface ApiIssue {
  path: string;
  message: string;
}

/** Error codes of the admin API plus the panel host's own (server down, not logged in, network). */
export type PanelErrorCode = ErrorCode | 'server_unavailable' | 'network' | 'unknown';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: PanelErrorCode,
    message: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Called when the panel session is gone (401 from the host), so the app can show the login. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        'X-Mallard-Panel': '1',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(
      0,
      'network',
      'The control panel cannot be reached. Is `mallard panel` still running?',
    );
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const payload = parseJson(text);
  if (!response.ok) throw toApiError(response.status, payload, path);
  return payload as T;
}

export function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function toApiError(status: number, payload: unknown, path: string): ApiError {
  const error = (payload as { error?: { code?: string; message?: string; issues?: ApiIssue[] } } | undefined)
    ?.error;
  const code = (error?.code as PanelErrorCode | undefined) ?? 'unknown';
  if (status === 401 && !path.startsWith('/panel/login')) onUnauthorized();
  return new ApiError(status, code, describe(status, code, error?.message), error?.issues ?? []);
}

/** The server's message when it has one, otherwise words for the status. */
function describe(status: number, code: PanelErrorCode, message: string | undefined): string {
  if (message) return capitalize(message);
  if (code === 'server_unavailable' || status === 502 || status === 503)
    return 'The mail server is not running right now. It is being restarted; try again in a moment.';
  if (status === 401) return 'Your panel session has ended. Please log in again.';
  if (status === 429) return 'Too many attempts. Wait a little and try again.';
  if (status >= 500) return 'The server hit an unexpected problem. The server log has the details.';
  return `The request failed (HTTP ${status}).`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  del: <T = void>(path: string) => request<T>('DELETE', path),
};

/** Path segment encoding for ids and addresses in URLs. */
export const seg = (value: string | number) => encodeURIComponent(String(value));
