/**
 * A limit of tasks running at once per key (the destination domain): outbound.concurrency_per_domain,
 * so that a big mailing to one provider neither hammers its MX (which would throttle or block us)
 * nor holds every delivery slot while other domains wait.
 */
export class KeyedSlots {
  private readonly running = new Map<string, number>();
  private readonly waitingFor = new Map<string, Array<() => void>>();

  constructor(private readonly perKey: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    await this.take(key);
    try {
      return await task();
    } finally {
      this.give(key);
    }
  }

  /** How many tasks wait for a slot of `key`. */
  waiting(key: string): number {
    return this.waitingFor.get(key)?.length ?? 0;
  }

  private take(key: string): Promise<void> {
    const count = this.running.get(key) ?? 0;
    if (count < this.perKey) {
      this.running.set(key, count + 1);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const queue = this.waitingFor.get(key) ?? [];
      queue.push(resolve);
      this.waitingFor.set(key, queue);
    });
  }

  private give(key: string): void {
    const queue = this.waitingFor.get(key);
    const next = queue?.shift();
    // The slot passes straight to the next waiter (first come, first served).
    if (next) return next();
    if (queue) this.waitingFor.delete(key);
    const count = (this.running.get(key) ?? 1) - 1;
    if (count === 0) this.running.delete(key);
    else this.running.set(key, count);
  }
}
