/**
 * Typed POP3 failures and the one mapper from any thrown error to an `-ERR` line. Response codes
 * are those of RFC 2449 (IN-USE, LOGIN-DELAY) and RFC 3206 (SYS/TEMP, SYS/PERM, AUTH). Internal
 * details never reach the client: an unexpected error becomes `-ERR [SYS/TEMP]` with a reference
 * that the log line carries too.
 */
import crypto from 'node:crypto';
import { isStoreError } from '../store/errors.ts';

export type Pop3Code = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH';

export class Pop3Error extends Error {
  constructor(
    /** The RESP-CODE without brackets, or null for a plain `-ERR`. */
    readonly code: Pop3Code | null,
    message: string,
    /** Close the connection after this reply. */
    readonly fatal = false,
  ) {
    super(message);
    this.name = 'Pop3Error';
  }
}

export const err = (message: string, code: Pop3Code | null = null) => new Pop3Error(code, message);

export interface MappedError {
  code: Pop3Code | null;
  text: string;
  fatal: boolean;
  /** Set for unexpected errors: the reference given to the client and logged with the stack. */
  reference: string | null;
}

export function mapError(error: unknown): MappedError {
  if (error instanceof Pop3Error) {
    return { code: error.code, text: error.message, fatal: error.fatal, reference: null };
  }
  if (isStoreError(error, 'UNAVAILABLE')) {
    return {
      code: 'SYS/TEMP',
      text: 'The mail store is unavailable, try again later',
      fatal: false,
      reference: null,
    };
  }
  const reference = crypto.randomBytes(6).toString('hex');
  return { code: 'SYS/TEMP', text: `Internal error, reference ${reference}`, fatal: false, reference };
}

/** The `-ERR` line of a mapped error. */
export function errorLine(code: Pop3Code | null, text: string): string {
  return `-ERR ${code ? `[${code}] ` : ''}${text.replace(/[\r\n]+/g, ' ')}\r\n`;
}
