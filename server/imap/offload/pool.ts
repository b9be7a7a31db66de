/**
 * A small pool of worker threads for the CPU-heavy per-message work of IMAP commands (see
 * tasks.ts): scanning and decoding a big message for SEARCH, undoing the transfer encoding of a big
 * part for FETCH BINARY. On the event loop, a 50 MB message keeps every other session of the
 * process waiting for half a second or more; on a worker only the session that asked waits.
 *
 * Tasks queue in order and go to the first idle worker. Workers start on first use (a server
 * whose mail is small never pays for them) and are unref'd, so an idle pool never keeps the process
 * alive. A worker that dies fails its task (the command answers NO [SERVERBUG]) and is replaced on
 * the next task.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { threadEntry } from '../../thread-entry.ts';
import { transferable } from '../../transfer.ts';
import { type OffloadResults, type OffloadTask, type TaskReply, type TaskRequest } from './protocol.ts';

const ENTRY = threadEntry('parse-worker', new URL('./entry.mjs', import.meta.url));

/**
 * Messages at least this big go to a worker; smaller ones are cheaper inline than the round trip
 * (posting a task and waking a thread costs ~0.1 ms; scanning 256 KB inline about 1 ms).
 */
export const OFFLOAD_BYTES = 256 * 1024;

/**
 * Workers for `imap.parse_workers` = 0 (automatic): one core is left to the event loop, which
 * answers everyone else meanwhile; at least one worker, at most four.
 */
export function automaticPoolSize(cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

interface Job {
  id: number;
  request: TaskRequest;
  transfer: ArrayBuffer[];
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`parse pool size ${size}`);
  }

  /**
   * Runs a task on a worker. The task's `raw` bytes are handed over (transferred, not copied) when
   * they own their memory: the caller must not use that Buffer again (a decode task gives it back).
   */
  run<K extends OffloadTask['kind']>(task: Extract<OffloadTask, { kind: K }>): Promise<OffloadResults[K]> {
    if (this.closed) return Promise.reject(new Error('the parse pool is closed'));
    const packed = transferable(task.raw, true);
    const request: TaskRequest = { id: this.nextId++, task: { ...task, raw: packed.view } };
    return new Promise((resolve, reject) => {
      this.queue.push({
        id: request.id,
        request,
        transfer: [packed.buffer],
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot();
      if (slot === null) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // a task in flight keeps the process alive until it is answered
      try {
        slot.worker.postMessage(job.request, job.transfer);
      } catch {
        // Some ArrayBuffers cannot be transferred (one Node marked untransferable): clone it.
        slot.worker.postMessage(job.request);
      }
    }
  }

  private idleSlot(): Slot | null {
    const idle = this.slots.find((slot) => slot.job === null);
    if (idle) return idle;
    if (this.slots.length >= this.size) return null;
    const slot: Slot = { worker: new Worker(ENTRY), job: null };
    slot.worker.unref();
    slot.worker.on('message', (reply: TaskReply) => this.settle(slot, reply));
    slot.worker.on('error', (error) => this.fail(slot, error));
    slot.worker.on('exit', (code) => this.fail(slot, new Error(`parse worker stopped (exit ${code})`)));
    this.slots.push(slot);
    return slot;
  }

  private settle(slot: Slot, reply: TaskReply): void {
    const job = slot.job;
    if (job === null || job.id !== reply.id) return;
    slot.job = null;
    slot.worker.unref();
    if (reply.ok) job.resolve(reply.result);
    else job.reject(new Error(`parse worker: ${reply.message}`));
    this.dispatch();
  }

  /** A worker failed or exited: its task fails, and a new worker takes its place when needed. */
  private fail(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    const job = slot.job;
    slot.job = null;
    job?.reject(error);
    void slot.worker.terminate();
    if (!this.closed) this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the parse pool is closed'));
    const slots = this.slots.splice(0);
    for (const slot of slots) slot.job?.reject(new Error('the parse pool is closed'));
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }
}
