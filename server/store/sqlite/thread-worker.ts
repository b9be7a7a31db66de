/**
 * A store thread: holds one SqliteStore (connection) of the threaded engine (thread.ts) and runs
 * each forwarded call on it, one after the other, off the server's event loop. Statements, COMMITs and
 * their fsyncs block only this thread; a call whose caller stopped waiting is skipped (see
 * CallRequest.deadline). Loaded through thread-entry.mjs, which registers the TypeScript loader.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { SqliteStore } from './store.ts';
import { asBuffer, transferable } from '../../transfer.ts';
import {
  toErrorData,
  type CallRequest,
  type CloseRequest,
  type ForwardedMethod,
  type Reply,
  type Request,
  type WorkerData,
} from './thread-protocol.ts';

/** Arguments that carry message bodies, by method: they arrive as Uint8Arrays. */
const BODY_ARGUMENT: Partial<Record<ForwardedMethod, number>> = {
  append: 1,
  deliver: 1,
  importMessage: 2,
  replaceMessage: 3,
};

const port = parentPort!;
const options = workerData as WorkerData;
const stall = options.role === 'writer' ? testStall(process.env.MALLARD_TEST_STALL_STORE) : null;

function post(reply: Reply, transfer: ArrayBuffer[] = []): void {
  try {
    port.postMessage(reply, transfer);
  } catch (error) {
    // Some ArrayBuffers cannot be transferred (e.g. one Node marked untransferable): clone them.
    if (transfer.length === 0) throw error;
    port.postMessage(reply);
  }
}

/**
 * Bodies read from the database own their memory: hand them over instead of copying them (the
 * worker keeps no reference). Only readBlob, readBlobs and readBlobHeads return bytes.
 */
function packResult(method: ForwardedMethod, value: unknown): { value: unknown; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const take = (bytes: Buffer): Uint8Array => {
    const packed = transferable(bytes, true);
    transfer.add(packed.buffer);
    return packed.view;
  };
  if (method === 'readBlob' && Buffer.isBuffer(value)) return { value: take(value), transfer: [...transfer] };
  if ((method === 'readBlobs' || method === 'readBlobHeads') && value instanceof Map) {
    const packed = new Map<string, Uint8Array>();
    for (const [key, bytes] of value as Map<string, Buffer>) packed.set(key, take(bytes));
    return { value: packed, transfer: [...transfer] };
  }
  return { value, transfer: [] };
}

/**
 * Starts one call: its database work runs now, synchronously, and the returned promise is already
 * settled. Null for a call whose caller has stopped waiting: it never runs, because the caller was
 * answered UNAVAILABLE and a write it was told to retry must not land as well as the retry.
 */
function startCall(store: SqliteStore, request: CallRequest): Promise<unknown> | null {
  if (Date.now() > request.deadline) return null;
  // After the deadline check, as a disk freezing mid-commit would: the call has started.
  stall?.(request.args);
  const args = request.args;
  const bodyAt = BODY_ARGUMENT[request.method];
  if (bodyAt !== undefined && args[bodyAt] instanceof Uint8Array) args[bodyAt] = asBuffer(args[bodyAt]);
  // A queued message carries its bytes inside the object (cloned as a Uint8Array).
  const queued = request.method === 'enqueueOutbound' ? (args[0] as { raw?: unknown }) : null;
  if (queued && queued.raw instanceof Uint8Array) args[0] = { ...queued, raw: asBuffer(queued.raw) };
  // appendMany and importMessages carry one body per message.
  if ((request.method === 'appendMany' || request.method === 'importMessages') && Array.isArray(args[1])) {
    args[1] = (args[1] as Array<{ raw?: unknown }>).map((item) =>
      item.raw instanceof Uint8Array ? { ...item, raw: asBuffer(item.raw) } : item,
    );
  }
  const method = store[request.method] as (...values: unknown[]) => Promise<unknown>;
  return method.apply(store, args);
}

async function reply(request: CallRequest, outcome: Promise<unknown>): Promise<void> {
  try {
    const result = packResult(request.method, await outcome);
    post({ type: 'result', id: request.id, value: result.value }, result.transfer);
  } catch (error) {
    post({ type: 'error', id: request.id, error: toErrorData(error) });
  }
}

/** The reader: one call at a time, each in its own snapshot. */
async function runRead(store: SqliteStore, request: CallRequest): Promise<void> {
  const outcome = startCall(store, request);
  if (outcome) await reply(request, outcome);
}

/** Most writes one group commit takes: bounds the transaction (and the WAL) a burst builds up. */
const MAX_GROUP = 64;

/**
 * The writer: the writes that queued up while the previous COMMIT was syncing go in one transaction
 * with one COMMIT (group commit), each in a savepoint of its own. Answers go out only after the
 * COMMIT, so an acknowledged write is durable exactly as before; when the COMMIT fails, every write
 * of the group is answered with that failure (none of them was committed).
 */
async function runWrites(store: SqliteStore, calls: CallRequest[]): Promise<void> {
  let next = 0;
  while (next < calls.length) {
    const started: Array<{ request: CallRequest; outcome: Promise<unknown> }> = [];
    let commitError: unknown = null;
    try {
      store.inOneCommit(() => {
        // SQLite may roll the whole group back by itself (full disk, I/O error): the calls after
        // that would commit one by one, so they wait for the next group.
        for (; next < calls.length && store.inTransaction(); next++) {
          const outcome = startCall(store, calls[next]!);
          if (outcome) started.push({ request: calls[next]!, outcome });
        }
      });
    } catch (error) {
      commitError = error;
    }
    if (started.length === 0 && commitError !== null) {
      // The transaction could not even begin (another process held the lock past the busy
      // timeout): the writes waiting fail as each would have alone.
      for (const request of calls.slice(next))
        post({ type: 'error', id: request.id, error: toErrorData(commitError) });
      return;
    }
    for (const { request, outcome } of started) {
      // Failed calls keep their own error; the others were not committed when the COMMIT failed.
      const settled = commitError === null ? outcome : outcome.then(() => Promise.reject(commitError));
      await reply(request, settled);
    }
  }
}

/**
 * `MALLARD_TEST_STALL_STORE=<ms>:<marker>` (tests only): on the writer thread, a call with an
 * argument equal to `marker` (e.g. a mailbox name) blocks the thread for `ms` milliseconds once it
 * has started, as a filesystem frozen during a COMMIT would. Every write behind it waits too: the
 * real engine thread is stalled, nothing is simulated.
 */
function testStall(setting: string | undefined): ((args: unknown[]) => void) | null {
  const match = setting ? /^(\d+):(.+)$/.exec(setting) : null;
  if (!match) return null;
  const ms = Number(match[1]);
  const marker = match[2]!;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  return (args) => {
    if (args.includes(marker)) Atomics.wait(cell, 0, 0, ms);
  };
}

function close(store: SqliteStore, request: CloseRequest): void {
  void store.close().finally(() => {
    post({ type: 'result', id: request.id, value: undefined });
    port.close();
  });
}

async function main(): Promise<void> {
  let store: SqliteStore;
  try {
    store = await SqliteStore.open(options.dataDir, {
      journalRetentionMs: options.journalRetentionMs,
      busyTimeoutMs: options.busyTimeoutMs,
    });
  } catch (error) {
    post({ type: 'open-failed', error: toErrorData(error) });
    return;
  }
  // Calls run strictly in arrival order: each one's database work is synchronous, so it completes
  // before the next message is even looked at.
  port.on('message', (request: Request) => {
    if (request.type === 'close') {
      close(store, request);
    } else if (options.role === 'reader') {
      void runRead(store, request);
    } else {
      // Take the writes already waiting too (up to MAX_GROUP), for one COMMIT.
      const calls = [request];
      let closing: CloseRequest | null = null;
      while (calls.length < MAX_GROUP) {
        const waiting = receiveMessageOnPort(port)?.message as Request | undefined;
        if (!waiting) break;
        if (waiting.type === 'close') {
          closing = waiting;
          break;
        }
        calls.push(waiting);
      }
      void runWrites(store, calls).then(() => closing && close(store, closing));
    }
  });
  post({ type: 'opened' });
}

await main();
