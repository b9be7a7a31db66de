/**
 * Driver failures as StoreErrors. A database that cannot be reached (no server selected within the
 * short timeout, a dropped connection, a primary stepping down, a closed client) is UNAVAILABLE:
 * protocol layers answer "try again later" (IMAP NO [UNAVAILABLE], POP3 -ERR [SYS/TEMP], 451), and
 * the driver reconnects by itself when the database is back.
 */
import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoStalePrimaryError,
  MongoSystemError,
  MongoTopologyClosedError,
  MongoUnexpectedServerResponseError,
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
  MongoSystemError, // the topology could not be described (every server down)
  MongoUnexpectedServerResponseError, // a connection cut mid-reply
];

/** Driver errors the package does not export, known by name (a cleared or closed pool, a full queue). */
const UNREACHABLE_NAMES = new Set([
  'MongoPoolClearedError',
  'MongoPoolClosedError',
  'MongoWaitQueueTimeoutError',
  'MongoNetworkTimeoutError',
]);

/** Error labels the driver and the server put on failures worth retrying later. */
const TEMPORARY_LABELS = [
  'RetryableWriteError',
  'TransientTransactionError',
  'ResetPool',
  'PoolRequestedRetry',
  'SystemOverloadedError',
  'RetryableError',
];

/** Node's own socket errors, which the driver lets through when a connection dies mid-write. */
const SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED']);

/** Whether a driver failure means "not now" rather than a bug or a refused write. */
export function isTemporaryFailure(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 3) return false;
  const socketCode = (error as { code?: unknown }).code;
  if (typeof socketCode === 'string' && SOCKET_CODES.has(socketCode)) return true;
  if (UNREACHABLE.some((type) => error instanceof type)) return true;
  if (UNREACHABLE_NAMES.has((error as Error).name)) return true;
  if (error instanceof MongoError && TEMPORARY_LABELS.some((label) => error.hasErrorLabel(label)))
    return true;
  if (error instanceof MongoBulkWriteError) {
    // Per-document refusals (a duplicate key) are answers; a batch that failed as a whole, or a
    // document refused for a temporary reason, is an outage.
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    if (writeErrors.length === 0 || writeErrors.every((e) => e === undefined)) return true;
    if (writeErrors.some((e) => e !== undefined && TEMPORARY_CODES.has(e.code))) return true;
  } else if (error instanceof MongoServerError) {
    if (typeof error.code === 'number' && TEMPORARY_CODES.has(error.code)) return true;
  }
  return isTemporaryFailure((error as { cause?: unknown }).cause, depth + 1);
}

export function translateError(error: unknown): unknown {
  if (isStoreError(error)) return error;
  if (isTemporaryFailure(error)) {
    return new StoreError('UNAVAILABLE', `database unavailable (${(error as Error).message})`);
  }
  return error;
}
