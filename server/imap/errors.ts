/**
 * Typed IMAP failures and the one mapper from any thrown error to a tagged response. Internal
 * details never reach the client: an unexpected error becomes `NO [SERVERBUG]` with a reference that
 * the log line carries too.
 */
import crypto from 'node:crypto';
import { isStoreError, type StoreErrorCode } from '../store/errors.ts';

export type ImapStatus = 'NO' | 'BAD';

export class ImapError extends Error {
  constructor(
    readonly status: ImapStatus,
    /** RFC 5530 (and other) response code, without brackets, e.g. "NONEXISTENT" or "BADCHARSET (UTF-8)". */
    readonly code: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'ImapError';
  }
}

export const no = (code: string | null, message: string) => new ImapError('NO', code, message);
export const bad = (message: string, code: string | null = null) => new ImapError('BAD', code, message);

const STORE_CODES: Record<StoreErrorCode, string> = {
  NONEXISTENT: 'NONEXISTENT',
  ALREADYEXISTS: 'ALREADYEXISTS',
  OVERQUOTA: 'OVERQUOTA',
  CANNOT: 'CANNOT',
  INVALID: 'CANNOT',
  UNAVAILABLE: 'UNAVAILABLE',
  LIMIT: 'LIMIT',
};

const GENERIC_TEXT: Partial<Record<StoreErrorCode, string>> = {
  NONEXISTENT: 'No such mailbox or message',
  UNAVAILABLE: 'Mail storage is temporarily unavailable, try again later',
  OVERQUOTA: 'Quota exceeded',
  LIMIT: 'Limit reached',
};

export interface MappedError {
  status: ImapStatus;
  code: string | null;
  text: string;
  /** Set for unexpected errors: the reference given to the client and logged with the stack. */
  reference: string | null;
}

export function mapError(error: unknown): MappedError {
  if (error instanceof ImapError) {
    return { status: error.status, code: error.code, text: error.message, reference: null };
  }
  if (isStoreError(error)) {
    // Store messages can name internal ids; the client gets the code and plain words instead.
    const text = GENERIC_TEXT[error.code] ?? error.message;
    return { status: 'NO', code: STORE_CODES[error.code], text, reference: null };
  }
  const reference = crypto.randomBytes(6).toString('hex');
  return { status: 'NO', code: 'SERVERBUG', text: `Internal error, reference ${reference}`, reference };
}
