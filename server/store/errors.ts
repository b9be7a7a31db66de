/**
 * Typed store errors. Protocol layers map `code` to their own replies (IMAP response codes of
 * RFC 5530, POP3 RESP-CODES, SMTP/LMTP enhanced status codes); the message is for logs and admins.
 */
export type StoreErrorCode =
  | 'NONEXISTENT' // no such user, mailbox, message or address
  | 'ALREADYEXISTS' // the name is taken
  | 'OVERQUOTA' // the write would exceed the user's quota
  | 'CANNOT' // the operation is not allowed on this object (e.g. delete INBOX)
  | 'INVALID' // a malformed name or value
  | 'UNAVAILABLE' // the database cannot be reached now: try again later
  | 'LIMIT'; // a store limit was reached

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}

export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}
