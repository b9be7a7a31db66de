/**
 * One store thread and the calls waiting for it: starts the worker (thread-worker.ts), forwards
 * calls in order, enforces each call's deadline, and discards answers that come after it. The
 * threaded store (thread.ts) runs two of these, a writer and a reader.
 */
import { Worker } from 'node:worker_threads';
import { threadEntry } from '../../thread-entry.ts';
import { StoreError } from '../errors.ts';
import type { SqliteStore } from './store.ts';
import { asBuffer } from '../../transfer.ts';
import {
  fromErrorData,
  type ForwardedMethod,
  type Reply,
  type Request,
  type WorkerData,
} from './thread-protocol.ts';

export type Args<M extends ForwardedMethod> = Parameters<SqliteStore[M]>;
export type Result<M extends ForwardedMethod> = Awaited<ReturnType<SqliteStore[M]>>;

export interface LaneEvents {
  /** An answer that came after its deadline (e.g. a write that committed late). */
  onLateAnswer?: (method: string, outcome: 'result' | 'error', elapsedMs: number) => void;
  /** The thread stopped unexpectedly (a new one starts with the next call). */
  onThreadExit?: (detail: string) => void;
  /** The thread was stopped for being idle (see `idleStopMs`) and has ended. */
  onIdleStop?: () => void;
}

interface PendingCall {
  method: ForwardedMethod;
  startedAt: number;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const ENTRY = threadEntry('store-thread', new URL('./thread-entry.mjs', import.meta.url));

export class StoreLane {
  private worker: Worker | null = null;
  /** Threads stopped for being idle, until they have closed their database and ended. */
  private readonly retiring = new Map<Worker, Promise<void>>();
  private idleTimer: NodeJS.Timeout | null = null;
  private lastCallAt = 0;
  private readonly pending = new Map<number, PendingCall>();
  /** Calls whose deadline passed, kept until their answer comes (to report it as late). */
  private readonly abandoned = new Map<number, { method: string; startedAt: number }>();
  private nextId = 1;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly workerData: WorkerData,
    private readonly callTimeoutMs: number,
    private readonly events: LaneEvents,
    /**
     * Stops the thread after this long without a call (0: never); the next call starts a new one.
     * A thread is a V8 heap of its own and a database connection with its page cache, some 10 MB,
     * kept for nothing by a server whose sessions only wait in IDLE.
     */
    private readonly idleStopMs = 0,
  ) {}

  /** Starts the thread; resolves once it has opened the database (its open errors are ours). */
  start(): Promise<void> {
    const worker = new Worker(ENTRY, { workerData: this.workerData });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      worker.on('message', (reply: Reply) => {
        if (reply.type === 'opened') {
          opened = true;
          this.updateRef(); // referenced until now: an awaited open must keep the process alive
          resolve();
        } else if (reply.type === 'open-failed') {
          reject(fromErrorData(reply.error));
        } else {
          this.settle(reply);
        }
      });
      worker.on('error', (error) => {
        if (!opened) reject(error);
        if (!this.retiring.has(worker)) this.events.onThreadExit?.(`store thread failed: ${error.message}`);
      });
      worker.on('exit', (code) => {
        // Stopped while idle: no call was waiting for it, and the next starts another thread.
        if (this.retiring.has(worker)) return;
        if (this.worker === worker) this.worker = null;
        const reason = `the store thread stopped (exit ${code})`;
        if (!opened) reject(new StoreError('UNAVAILABLE', reason));
        this.failPending(reason);
        if (this.closing === null && opened) this.events.onThreadExit?.(reason);
      });
    });
  }

  /** Forwards one call; rejects UNAVAILABLE when the thread has not answered by the deadline. */
  call<M extends ForwardedMethod>(
    method: M,
    args: Args<M>,
    transfer: ArrayBuffer[] = [],
  ): Promise<Result<M>> {
    if (this.closing) return Promise.reject(new StoreError('UNAVAILABLE', 'the store is closed'));
    // A thread that died (it should not) is replaced; calls queue until it has opened.
    if (!this.worker) void this.start().catch(() => undefined);
    const worker = this.worker!;
    const id = this.nextId++;
    const startedAt = Date.now();
    this.lastCallAt = startedAt;
    this.armIdleStop(this.idleStopMs);
    return new Promise<Result<M>>((resolve, reject) => {
      const timer = setTimeout(() => this.expire(id), this.callTimeoutMs);
      timer.unref();
      this.pending.set(id, {
        method,
        startedAt,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer,
      });
      const request: Request = {
        type: 'call',
        id,
        method,
        args: args as unknown[],
        deadline: startedAt + this.callTimeoutMs,
      };
      try {
        worker.postMessage(request, transfer);
      } catch (error) {
        // Something that cannot be cloned (a function, a symbol): a bad argument, not an outage.
        this.pending.delete(id);
        clearTimeout(timer);
        reject(
          new StoreError('INVALID', `cannot pass the arguments of ${method}: ${(error as Error).message}`),
        );
      }
      this.updateRef();
    });
  }

  private expire(id: number): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    this.abandoned.set(id, { method: call.method, startedAt: call.startedAt });
    this.updateRef();
    call.reject(
      new StoreError(
        'UNAVAILABLE',
        `the store did not answer ${call.method} within ${this.callTimeoutMs} ms`,
      ),
    );
  }

  private settle(reply: Extract<Reply, { id: number }>): void {
    const call = this.pending.get(reply.id);
    if (!call) {
      // After the deadline: its caller has moved on, so the answer is dropped. Reported, because a
      // late result of a write means the write did happen.
      const late = this.abandoned.get(reply.id);
      this.abandoned.delete(reply.id);
      if (late) this.events.onLateAnswer?.(late.method, reply.type, Date.now() - late.startedAt);
      return;
    }
    this.pending.delete(reply.id);
    clearTimeout(call.timer);
    this.updateRef();
    if (reply.type === 'result') call.resolve(unpackResult(call.method, reply.value));
    else call.reject(fromErrorData(reply.error));
  }

  private failPending(reason: string): void {
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(new StoreError('UNAVAILABLE', reason));
    }
    this.pending.clear();
    this.abandoned.clear();
  }

  /**
   * The thread keeps the process alive only while a call waits for it: a CLI command awaiting a
   * result must not exit early, and an idle store must not keep a finished process running.
   */
  private updateRef(): void {
    if (this.pending.size > 0 || this.closing) this.worker?.ref();
    else this.worker?.unref();
  }

  /** Checks for idleness `delayMs` from now (one timer, not one per call). */
  private armIdleStop(delayMs: number): void {
    if (this.idleStopMs <= 0 || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.stopIfIdle();
    }, delayMs);
    this.idleTimer.unref();
  }

  private stopIfIdle(): void {
    const worker = this.worker;
    if (!worker || this.closing) return;
    const quietMs = Date.now() - this.lastCallAt;
    if (this.pending.size > 0 || this.abandoned.size > 0 || quietMs < this.idleStopMs) {
      this.armIdleStop(Math.max(this.idleStopMs - quietMs, 1000));
      return;
    }
    this.worker = null;
    this.retiring.set(worker, this.endThread(worker));
  }

  /** Asks the thread to close its database and end; terminated when it takes past the deadline. */
  private async endThread(worker: Worker): Promise<void> {
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close', id: this.nextId++ } satisfies Request);
    const timer = setTimeout(() => void worker.terminate(), this.callTimeoutMs);
    timer.unref();
    await exited;
    clearTimeout(timer);
    this.retiring.delete(worker);
    this.events.onIdleStop?.();
  }

  /**
   * Closes the database once the calls before have run, then lets the thread end. A thread that
   * does not finish within the deadline (stuck in a frozen fsync) is terminated.
   */
  close(): Promise<void> {
    this.closing ??= this.closeThread();
    return this.closing;
  }

  private async closeThread(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    await Promise.all(this.retiring.values());
    const worker = this.worker;
    if (!worker) return;
    this.updateRef();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close', id: this.nextId++ } satisfies Request);
    const timer = setTimeout(() => void worker.terminate(), this.callTimeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Bodies arrive as Uint8Arrays over transferred memory: make them Buffers again, without copying. */
function unpackResult(method: ForwardedMethod, value: unknown): unknown {
  if ((method === 'readBlob' || method === 'readOutboundRaw') && value instanceof Uint8Array) {
    return asBuffer(value);
  }
  if ((method === 'readBlobs' || method === 'readBlobHeads') && value instanceof Map) {
    const blobs = new Map<string, Buffer>();
    for (const [key, bytes] of value as Map<string, Uint8Array>) blobs.set(key, asBuffer(bytes));
    return blobs;
  }
  return value;
}
