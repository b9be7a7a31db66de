/**
 * Errors of the admin API: one JSON shape, `{ error: { code, message, issues? } }`, with a stable
 * code and the HTTP status that goes with it. Handlers throw `ApiError` (or let a `StoreError`
 * through: it is mapped here); anything else is `internal`, logged with a reference the message
 * gives, and never shows its details to the client.
 */
import crypto from 'node:crypto';
import type { z } from 'zod';
import { isStoreError } from '../store/errors.ts';
import type { ErrorCode } from './schemas.ts';

export const STATUS_OF: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  rate_limited: 429,
  internal: 500,
  not_implemented: 501,
  invalid_domain: 400,
  domain_exists: 409,
  unknown_domain: 400,
};

export interface Issue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: Issue[],
    status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status ?? STATUS_OF[code];
  }
}

export const notFound = (what: string) => new ApiError('not_found', `no such ${what}`);

export function validationError(where: string, error: z.ZodError): ApiError {
  const issues = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = issues[0];
  return new ApiError(
    'validation_failed',
    first ? `invalid ${first.path}: ${first.message}` : `invalid ${where}`,
    issues,
  );
}

/** What the client is told about an error, and what goes to the log (internal errors only). */
export function toApiError(error: unknown): { error: ApiError; log: boolean; reference?: string } {
  if (error instanceof ApiError) return { error, log: false };
  if (isStoreError(error)) {
    switch (error.code) {
      case 'NONEXISTENT':
        return { error: new ApiError('not_found', error.message), log: false };
      case 'ALREADYEXISTS':
      case 'CANNOT':
      case 'OVERQUOTA':
      case 'LIMIT':
        return { error: new ApiError('conflict', error.message), log: false };
      case 'INVALID':
        return { error: new ApiError('validation_failed', error.message), log: false };
      case 'UNAVAILABLE':
        return {
          error: new ApiError('internal', 'the store is unavailable, try again later', undefined, 503),
          log: true,
        };
    }
  }
  const reference = crypto.randomBytes(4).toString('hex');
  return {
    error: new ApiError('internal', `internal error (reference ${reference})`),
    log: true,
    reference,
  };
}

export function errorBody(error: ApiError) {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.issues ? { issues: error.issues } : {}),
    },
  };
}
