/**
 * The messages between the threaded store (thread.ts, main thread) and its worker (thread-worker.ts).
 * Only plain data crosses: structured clone keeps Dates and Maps, but Buffers arrive as Uint8Arrays
 * and errors lose their class, so both are rebuilt on arrival (see `asBuffer` and `toStoreFailure`).
 */
import { StoreError, type StoreErrorCode } from '../errors.ts';
import type { SqliteStore } from './store.ts';

/** The SqliteStore methods the thread forwards: the Store contract and the engine's extras. */
export type ForwardedMethod = Exclude<
  {
    [K in keyof SqliteStore]: SqliteStore[K] extends (...args: never[]) => Promise<unknown> ? K : never;
  }[keyof SqliteStore],
  'close' | 'health'
>;

export interface CallRequest {
  type: 'call';
  id: number;
  method: ForwardedMethod;
  args: unknown[];
  /**
   * Epoch ms after which the caller no longer waits. The worker never starts a call past it: the
   * caller was already told "try again later", so a write that never started must not happen later.
   */
  deadline: number;
}

export interface CloseRequest {
  type: 'close';
  id: number;
}

export type Request = CallRequest | CloseRequest;

/** An error as it crosses the thread boundary. */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  /** StoreError code when the error was one; otherwise the driver's code (e.g. SQLITE_ERROR), if any. */
  code?: string;
  storeError: boolean;
}

export type Reply =
  | { type: 'opened' }
  | { type: 'open-failed'; error: ErrorData }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: ErrorData };

/** What the worker needs to open the store. */
export interface WorkerData {
  /** The writer takes every call that may write; the reader only reads (see thread.ts). */
  role: 'writer' | 'reader';
  dataDir: string;
  journalRetentionMs?: number;
  busyTimeoutMs?: number;
}

export function toErrorData(error: unknown): ErrorData {
  if (error instanceof StoreError) {
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: error.code,
      storeError: true,
    };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: typeof code === 'string' ? code : undefined,
      storeError: false,
    };
  }
  return { name: 'Error', message: String(error), storeError: false };
}

/** Rebuilds the error on this side: a StoreError keeps its class and code (protocols map those). */
export function fromErrorData(data: ErrorData): Error {
  const error =
    data.storeError && data.code
      ? new StoreError(data.code as StoreErrorCode, data.message)
      : Object.assign(new Error(data.message), data.code === undefined ? {} : { code: data.code });
  error.name = data.name;
  // The worker's stack says where it failed; this side's would only show the message handler.
  if (data.stack) error.stack = data.stack;
  return error;
}
