/**
 * Typed ManageSieve failures and the one mapper from any thrown error to a `NO`/`BYE` response.
 * Response codes are RFC 5804 1.3's (NONEXISTENT, ACTIVE, ALREADYEXISTS, QUOTA/..., TRYLATER,
 * ENCRYPT-NEEDED, ...). Internal details never reach the client: an unexpected error becomes `NO`
 * with a reference that the log line carries too.
 */
import crypto from 'node:crypto';
import { isStoreError } from '../store/errors.ts';

export type ManageSieveCode =
  | 'AUTH-TOO-WEAK'
  | 'ENCRYPT-NEEDED'
  | 'QUOTA'
  | 'QUOTA/MAXSCRIPTS'
  | 'QUOTA/MAXSIZE'
  | 'REFERRAL'
  | 'SASL'
  | 'TRANSITION-NEEDED'
  | 'TRYLATER'
  | 'ACTIVE'
  | 'NONEXISTENT'
  | 'ALREADYEXISTS'
  | 'WARNINGS';

export class ManageSieveError extends Error {
  constructor(
    /** The response code without parentheses, or null for a plain `NO`. */
    readonly code: ManageSieveCode | null,
    message: string,
    /** Answer `BYE` and close the connection. */
    readonly fatal = false,
  ) {
    super(message);
    this.name = 'ManageSieveError';
  }
}

export const err = (message: string, code: ManageSieveCode | null = null) =>
  new ManageSieveError(code, message);

export interface MappedError {
  code: ManageSieveCode | null;
  text: string;
  fatal: boolean;
  /** Set for unexpected errors: the reference given to the client and logged with the stack. */
  reference: string | null;
}

export function mapError(error: unknown): MappedError {
  if (error instanceof ManageSieveError) {
    return { code: error.code, text: error.message, fatal: error.fatal, reference: null };
  }
  if (isStoreError(error, 'UNAVAILABLE')) {
    return {
      code: 'TRYLATER',
      text: 'The mail store is unavailable, try again later',
      fatal: false,
      reference: null,
    };
  }
  if (isStoreError(error, 'NONEXISTENT')) {
    return { code: 'NONEXISTENT', text: 'There is no script by that name', fatal: false, reference: null };
  }
  if (isStoreError(error, 'ALREADYEXISTS')) {
    return {
      code: 'ALREADYEXISTS',
      text: 'A script by that name exists already',
      fatal: false,
      reference: null,
    };
  }
  if (isStoreError(error, 'INVALID')) {
    return { code: null, text: (error as Error).message, fatal: false, reference: null };
  }
  const reference = crypto.randomBytes(6).toString('hex');
  return { code: null, text: `Internal error, reference ${reference}`, fatal: false, reference };
}
