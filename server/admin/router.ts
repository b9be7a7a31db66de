/**
 * The route table and its dispatcher. Each route declares its method, path template
 * (`/api/users/{id}`, the OpenAPI spelling), zod schemas for path parameters, query and body, and
 * its response; the router validates inputs with those schemas before the handler runs, and
 * openapi.ts builds the published description from the very same table, so the two cannot drift.
 */
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import type { AdminDeps } from './context.ts';
import { ApiError, validationError } from './errors.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface JsonResponse<S extends z.ZodType = z.ZodType> {
  status: 200 | 201;
  schema: S;
  description: string;
}
export interface EmptyResponse {
  status: 204;
  description: string;
}
export interface RawResponse {
  status: 200;
  /** The media type of the body (a file download). */
  contentType: string;
  /** The name the download is saved under (default: the last segment of the path). */
  filename?: string;
  description: string;
}
export type ResponseSpec = JsonResponse | EmptyResponse | RawResponse;

/**
 * A raw reply too large to hold: the server sends the headers, then `write` streams the body into
 * the response and ends it. Whatever can fail with a clear error (unknown user…) is checked
 * before the handler returns one; a failure while writing can only cut the download short.
 */
export interface StreamReply {
  filename: string;
  write(out: Writable): Promise<unknown>;
}

export function isStreamReply(value: unknown): value is StreamReply {
  return typeof value === 'object' && value !== null && 'write' in value && 'filename' in value;
}

type Out<S> = S extends z.ZodType ? z.output<S> : Record<string, never>;
export type ReplyOf<R> =
  R extends JsonResponse<infer S>
    ? z.output<S>
    : R extends EmptyResponse
      ? void
      : Buffer | string | StreamReply;

export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  deps: AdminDeps;
  /** The client's address. */
  ip: string;
  /** The request, for a route that takes an upload (`upload`) and reads its body as a stream. */
  request: IncomingMessage;
}

/** A request body that is a file, streamed to the handler instead of parsed (not with `body`). */
export interface UploadSpec {
  /** The media types taken, as the OpenAPI description names them. */
  contentType: string;
  description: string;
}

export interface RouteSpec<
  P extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  B extends z.ZodType | undefined,
  R extends ResponseSpec,
> {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  upload?: UploadSpec;
  response: R;
  handler(input: HandlerInput<Out<P>, Out<Q>, Out<B>>): Promise<ReplyOf<R>>;
}

/** A route with its types erased, as the table holds it. */
export interface Route {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  upload?: UploadSpec;
  response: ResponseSpec;
  handler(input: HandlerInput<unknown, unknown, unknown>): Promise<unknown>;
}

/** Declares a route; the handler's input types come from the schemas. */
export function route<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  R extends ResponseSpec = ResponseSpec,
>(spec: RouteSpec<P, Q, B, R>): Route {
  return spec as unknown as Route;
}

/** The body size a request may have (JSON only: certificates in PEM are the largest). */
export const MAX_BODY_BYTES = 1024 * 1024;

export type Match =
  | { kind: 'route'; route: Route; params: Record<string, string> }
  | { kind: 'method'; allowed: Method[] }
  | { kind: 'none' };

function segmentsOf(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

export class Router {
  private readonly compiled: Array<{ route: Route; segments: string[]; literals: number }>;

  constructor(readonly routes: readonly Route[]) {
    const seen = new Set<string>();
    this.compiled = routes.map((route) => {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) throw new Error(`duplicate route ${key}`);
      seen.add(key);
      const segments = segmentsOf(route.path);
      return { route, segments, literals: segments.filter((segment) => !segment.startsWith('{')).length };
    });
    // A literal segment wins over a parameter: /api/rules/test before /api/rules/{id}.
    this.compiled.sort((a, b) => b.literals - a.literals);
  }

  match(method: string, pathname: string): Match {
    let parts: string[];
    try {
      parts = segmentsOf(pathname).map((part) => decodeURIComponent(part));
    } catch {
      return { kind: 'none' };
    }
    const allowed: Method[] = [];
    for (const { route, segments } of this.compiled) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let matches = true;
      for (let index = 0; index < segments.length && matches; index++) {
        const segment = segments[index]!;
        const part = parts[index]!;
        if (segment.startsWith('{')) params[segment.slice(1, -1)] = part;
        else matches = segment === part;
      }
      if (!matches) continue;
      if (route.method === method) return { kind: 'route', route, params };
      if (!allowed.includes(route.method)) allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
  }
}

/** Reads a JSON body (at most MAX_BODY_BYTES); undefined when there is none. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError(
        'validation_failed',
        `the body is larger than ${MAX_BODY_BYTES} bytes`,
        undefined,
        413,
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError('validation_failed', 'the body must be JSON (Content-Type: application/json)');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError('validation_failed', 'the body is not valid JSON');
  }
}

function parseWith(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return {};
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}

/** Validates the inputs of a matched route and runs its handler. */
export async function runRoute(
  match: Extract<Match, { kind: 'route' }>,
  request: IncomingMessage,
  url: URL,
  deps: AdminDeps,
  ip: string,
): Promise<unknown> {
  const { route } = match;
  const params = parseWith(route.params, match.params, 'path');
  const query = parseWith(route.query, Object.fromEntries(url.searchParams), 'query');
  // An absent body is an empty object, so a missing field is named like any other.
  const body = route.body ? parseWith(route.body, (await readJsonBody(request)) ?? {}, 'body') : {};
  return route.handler({ params, query, body, deps, ip, request });
}
