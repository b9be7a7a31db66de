/**
 * Messages per user per hour, counted in this process (a sliding log of send times). Several
 * server processes on one MongoDB each allow the limit: a household's traffic goes through one,
 * and the limit is there to stop a stolen password from turning the server into a spam cannon,
 * for which a factor of the process count is still a hard cap.
 */
const HOUR_MS = 3_600_000;

export class HourlyLimit {
  private readonly sent = new Map<string, number[]>();

  constructor(
    private readonly perHour: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `userId` may send one more message now. */
  allows(userId: string): boolean {
    return this.recent(userId).length < this.perHour;
  }

  /** Counts one message sent by `userId`. */
  record(userId: string): void {
    const times = this.recent(userId);
    times.push(this.now());
    this.sent.set(userId, times);
  }

  private recent(userId: string): number[] {
    const since = this.now() - HOUR_MS;
    const times = (this.sent.get(userId) ?? []).filter((time) => time > since);
    if (times.length === 0) this.sent.delete(userId);
    return times;
  }
}
