/**
 * Every driver failure class that means "the database cannot be reached now" becomes StoreError
 * UNAVAILABLE (clients are told to retry); refusals that are answers (a duplicate key) stay as they
 * are for the engine to handle.
 */
import {
  MongoBulkWriteError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoUnexpectedServerResponseError,
  MongoWriteConcernError,
} from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isStoreError } from '../errors.ts';
import { translateError } from './errors.ts';

function bulkError(writeErrors: Array<{ code: number; index: number }>, code?: number): MongoBulkWriteError {
  const result = {
    insertedCount: 0,
    getWriteErrors: () => writeErrors,
    hasWriteErrors: () => writeErrors.length > 0,
  };
  return new MongoBulkWriteError(
    {
      message: 'bulk write failed',
      code,
      writeErrors: writeErrors.map((e) => ({ ...e, errmsg: 'x' })),
    } as never,
    result as never,
  );
}

function poolCleared(): Error {
  const error = new MongoNetworkError('connection pool cleared');
  Object.defineProperty(error, 'name', { value: 'MongoPoolClearedError' });
  return error;
}

function waitQueueTimeout(): Error {
  const error = new Error('timed out while checking out a connection');
  Object.defineProperty(error, 'name', { value: 'MongoWaitQueueTimeoutError' });
  return error;
}

function retryableLabel(): MongoServerError {
  const error = new MongoServerError({ message: 'interrupted', code: 999_999 });
  error.addErrorLabel('RetryableWriteError');
  return error;
}

const TEMPORARY: Array<[string, () => unknown]> = [
  ['MongoNetworkError', () => new MongoNetworkError('socket closed')],
  ['MongoNetworkTimeoutError', () => new MongoNetworkTimeoutError('timed out')],
  ['pool cleared', poolCleared],
  ['wait queue timeout', waitQueueTimeout],
  ['MongoServerSelectionError', () => new MongoServerSelectionError('no server', {} as never)],
  ['MongoNotConnectedError', () => new MongoNotConnectedError('not connected')],
  ['MongoTopologyClosedError', () => new MongoTopologyClosedError()],
  ['MongoUnexpectedServerResponseError', () => new MongoUnexpectedServerResponseError('cut')],
  [
    'MongoWriteConcernError',
    () => new MongoWriteConcernError({ writeConcernError: { code: 64, errmsg: 'x' } } as never),
  ],
  ['NotWritablePrimary', () => new MongoServerError({ message: 'not primary', code: 10107 })],
  ['RetryableWriteError label', retryableLabel],
  ['bulk write with a temporary document error', () => bulkError([{ code: 91, index: 0 }])],
  ['bulk write that failed as a whole', () => bulkError([], 6)],
  ['socket error', () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })],
  ['a cause that is a network error', () => new Error('wrapped', { cause: new MongoNetworkError('x') })],
];

const ANSWERS: Array<[string, () => unknown]> = [
  ['duplicate key', () => new MongoServerError({ message: 'E11000', code: 11000 })],
  ['bulk duplicate key', () => bulkError([{ code: 11000, index: 0 }], 11000)],
  ['a plain bug', () => new TypeError('x is undefined')],
];

describe('translateError', () => {
  it.each(TEMPORARY)('%s is UNAVAILABLE', (_, make) => {
    expect(isStoreError(translateError(make()), 'UNAVAILABLE')).toBe(true);
  });

  it.each(ANSWERS)('%s stays as it is', (_, make) => {
    const error = make();
    expect(translateError(error)).toBe(error);
  });
});
