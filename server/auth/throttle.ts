/**
 * Slows down guessing of the admin token (admin API) and of the panel's token and password, per
 * key: after each failure the next attempt waits a delay that doubles (up to `maxDelayMs`), and
 * after `lockoutAfter` failures within the window the key is locked out for `lockoutMs`. A success
 * clears the account's record only: an attacker must not reset an IP's count by logging into an
 * account of their own. Mail logins (IMAP, POP3) use the login guard (login-guard.ts) instead,
 * which counts attempts before the check and never locks an account.
 */
export interface ThrottleOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  lockoutAfter: number;
  windowMs: number;
  lockoutMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  baseDelayMs: 250,
  maxDelayMs: 8000,
  lockoutAfter: 10,
  windowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000,
};

interface Record {
  failures: number;
  firstAt: number;
  lockedUntil: number;
}

export class AuthThrottle {
  private readonly records = new Map<string, Record>();

  constructor(
    private readonly options: ThrottleOptions = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  private keys(ip: string, account: string): string[] {
    return [`ip:${ip}`, `account:${account.toLowerCase()}`];
  }

  private live(key: string): Record | undefined {
    const record = this.records.get(key);
    if (record && this.now() - record.firstAt > this.options.windowMs && this.now() >= record.lockedUntil) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }

  /** Whether an attempt may be made now (false while locked out). */
  isLockedOut(ip: string, account: string): boolean {
    return this.keys(ip, account).some((key) => (this.live(key)?.lockedUntil ?? 0) > this.now());
  }

  /** How long to wait before answering the attempt, from earlier failures. */
  delayFor(ip: string, account: string): number {
    const failures = Math.max(...this.keys(ip, account).map((key) => this.live(key)?.failures ?? 0));
    if (failures === 0) return 0;
    return Math.min(this.options.baseDelayMs * 2 ** (failures - 1), this.options.maxDelayMs);
  }

  recordFailure(ip: string, account: string): void {
    for (const key of this.keys(ip, account)) {
      const record = this.live(key) ?? { failures: 0, firstAt: this.now(), lockedUntil: 0 };
      record.failures++;
      if (record.failures >= this.options.lockoutAfter)
        record.lockedUntil = this.now() + this.options.lockoutMs;
      this.records.set(key, record);
    }
    if (this.records.size > 100_000) this.prune();
  }

  recordSuccess(account: string): void {
    this.records.delete(`account:${account.toLowerCase()}`);
  }

  /** Forgets expired records so a scan of many addresses cannot grow memory without bound. */
  private prune(): void {
    for (const key of [...this.records.keys()]) this.live(key);
  }
}
