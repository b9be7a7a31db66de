/**
 * Cooperative time slicing for long loops on the event loop (FETCH over 100,000 messages, a big
 * SEARCH): after a few milliseconds of work the loop gives the event loop a turn, so that the other
 * sessions of the process (a NOOP, a LOGIN) are answered between two slices instead of after the
 * whole command. A resolved promise is not enough: it runs before any I/O callback.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Longest stretch of work, in ms, before giving other connections a turn. */
export const SLICE_MS = 10;

export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** Whether this slice is used up (cheap enough to ask on every item). */
  get due(): boolean {
    return performance.now() - this.started >= this.sliceMs;
  }

  /** Gives the event loop a turn if the slice is used up. */
  async yield(): Promise<void> {
    if (!this.due) return;
    await nextTurn();
    this.started = performance.now();
  }
}
