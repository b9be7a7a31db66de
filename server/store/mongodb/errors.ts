/**
 * Driver failures as StoreErrors. A database that cannot be reached (no server selected within the
 * short timeout, a dropped connection, a primary stepping down, a closed client) is UNAVAILABLE:
 * protocol layers answer "try again later" (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP], 451), and
 * the driver reconnects by itself when the database is back.
 */
import {
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoStalePrimaryError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from 'mongodb';
import { StoreError, isStoreError } from '../errors.ts';

/** Server error codes that mean "not now" (replica set elections, shutdowns, timeouts). */
const TEMPORARY_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  64, // WriteConcernFailed (wtimeout)
]);

const UNREACHABLE = [
  MongoNetworkError, // includes timeouts and cleared pools
  MongoServerSelectionError,
  MongoNotConnectedError,
  MongoTopologyClosedError,
  MongoClientClosedError,
  MongoServerClosedError,
  MongoOperationTimeoutError,
  MongoStalePrimaryError,
  MongoWriteConcernError,
];

/** Node's own socket errors, which the driver lets through when a connection dies mid-write. */
const SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED']);

export function translateError(error: unknown): unknown {
  if (isStoreError(error)) return error;
  const socketCode = (error as { code?: unknown } | null)?.code;
  if (
    UNREACHABLE.some((type) => error instanceof type) ||
    (typeof socketCode === 'string' && SOCKET_CODES.has(socketCode))
  ) {
    return new StoreError('UNAVAILABLE', `database unavailable (${(error as Error).message})`);
  }
  if (error instanceof MongoServerError) {
    const code = typeof error.code === 'number' ? error.code : -1;
    if (TEMPORARY_CODES.has(code) || error.hasErrorLabel('RetryableWriteError')) {
      return new StoreError('UNAVAILABLE', `database unavailable (${error.message})`);
    }
  }
  return error;
}
