/**
 * Event times per key within a sliding window: "how many in the last W ms". Each key keeps at most
 * `cap` times (the newest), which is all a "more than N" check needs, so memory per key is bounded
 * by the rule's limit, and keys with no time left in the window are dropped by `prune`.
 */
export const MAX_KEYS = 100_000;

export class SlidingLog {
  private readonly logs = new Map<string, number[]>();

  constructor(
    public windowMs: number,
    public cap: number,
  ) {}

  private trimmed(key: string, now: number): number[] | undefined {
    const log = this.logs.get(key);
    if (!log) return undefined;
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < log.length && log[drop]! <= cutoff) drop++;
    if (drop > 0) log.splice(0, drop);
    if (log.length > this.cap) log.splice(0, log.length - this.cap);
    if (log.length === 0) {
      this.logs.delete(key);
      return undefined;
    }
    return log;
  }

  /** Events of `key` within the window ending at `now` (at most `cap`). */
  count(key: string, now: number): number {
    return this.trimmed(key, now)?.length ?? 0;
  }

  add(key: string, now: number): void {
    const log = this.trimmed(key, now);
    if (log) {
      log.push(now);
      if (log.length > this.cap) log.shift();
    } else {
      this.logs.set(key, [now]);
    }
    if (this.logs.size > MAX_KEYS) this.prune(now);
  }

  /** Takes back one event of `key` at `time` (an attempt counted ahead that did not fail). */
  remove(key: string, time: number): void {
    const log = this.logs.get(key);
    if (!log) return;
    const index = log.lastIndexOf(time);
    if (index >= 0) log.splice(index, 1);
    if (log.length === 0) this.logs.delete(key);
  }

  prune(now: number): void {
    for (const key of [...this.logs.keys()]) this.trimmed(key, now);
    // Still too many live keys (a scan from many addresses): forget the oldest ones.
    if (this.logs.size > MAX_KEYS) {
      const excess = this.logs.size - MAX_KEYS;
      let index = 0;
      for (const key of this.logs.keys()) {
        if (index++ >= excess) break;
        this.logs.delete(key);
      }
    }
  }

  get size(): number {
    return this.logs.size;
  }
}
