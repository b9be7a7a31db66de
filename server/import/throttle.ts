/**
 * Keeps the import under a rate (messages per second and/or bytes per second) so that the source
 * provider does not block the account: after each message it waits until the totals so far are
 * within the rates since the start.
 */
export interface Rates {
  messagesPerSecond?: number;
  bytesPerSecond?: number;
}

export class Throttle {
  private readonly started = Date.now();
  private messages = 0;
  private bytes = 0;

  constructor(private readonly rates: Rates) {}

  /** Counts a message of `size` bytes and waits as long as the rates ask. */
  async pass(size: number): Promise<void> {
    this.messages += 1;
    this.bytes += size;
    const { messagesPerSecond, bytesPerSecond } = this.rates;
    const due = Math.max(
      messagesPerSecond ? (this.messages / messagesPerSecond) * 1000 : 0,
      bytesPerSecond ? (this.bytes / bytesPerSecond) * 1000 : 0,
    );
    const wait = this.started + due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
