/**
 * A store thread: holds one SqliteStore (connection) of the threaded engine (thread.ts) and runs
 * each forwarded call on it, one after the other, off the server's event loop. Statements, COMMITs and
 * their fsyncs block only this thread; a call whose caller stopped waiting is skipped (see
 * CallRequest.deadline). Loaded through thread-entry.mjs, which registers the TypeScript loader.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from './store.ts';
import {
  asBuffer,
  toErrorData,
  transferable,
  type CallRequest,
  type ForwardedMethod,
  type Reply,
  type Request,
  type WorkerData,
} from './thread-protocol.ts';

/** Arguments that carry message bodies, by method: they arrive as Uint8Arrays. */
const BODY_ARGUMENT: Partial<Record<ForwardedMethod, number>> = { append: 1, deliver: 1, importMessage: 2 };

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
 * worker keeps no reference). Only readBlob and readBlobs return bytes.
 */
function packResult(method: ForwardedMethod, value: unknown): { value: unknown; transfer: ArrayBuffer[] } {
  const transfer = new Set<ArrayBuffer>();
  const take = (bytes: Buffer): Uint8Array => {
    const packed = transferable(bytes, true);
    transfer.add(packed.buffer);
    return packed.view;
  };
  if (method === 'readBlob' && Buffer.isBuffer(value)) return { value: take(value), transfer: [...transfer] };
  if (method === 'readBlobs' && value instanceof Map) {
    const packed = new Map<string, Uint8Array>();
    for (const [key, bytes] of value as Map<string, Buffer>) packed.set(key, take(bytes));
    return { value: packed, transfer: [...transfer] };
  }
  return { value, transfer: [] };
}

async function runCall(store: SqliteStore, request: CallRequest): Promise<void> {
  // The caller has already been answered UNAVAILABLE: doing the work now would surprise it (a
  // write it was told to retry would land as well as the retry).
  if (Date.now() > request.deadline) return;
  // After the deadline check, as a disk freezing mid-commit would: the call has started.
  stall?.(request.args);
  const args = request.args;
  const bodyAt = BODY_ARGUMENT[request.method];
  if (bodyAt !== undefined && args[bodyAt] instanceof Uint8Array) args[bodyAt] = asBuffer(args[bodyAt]);
  try {
    const method = store[request.method] as (...values: unknown[]) => Promise<unknown>;
    const result = packResult(request.method, await method.apply(store, args));
    post({ type: 'result', id: request.id, value: result.value }, result.transfer);
  } catch (error) {
    post({ type: 'error', id: request.id, error: toErrorData(error) });
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
  // Calls run strictly in arrival order: each one's database work is synchronous inside the method,
  // so it completes before the next message is even looked at.
  port.on('message', (request: Request) => {
    if (request.type === 'call') {
      void runCall(store, request);
      return;
    }
    void store.close().finally(() => {
      post({ type: 'result', id: request.id, value: undefined });
      port.close();
    });
  });
  post({ type: 'opened' });
}

await main();
