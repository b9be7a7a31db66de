/**
 * The login guard: how password guessing is slowed and stopped, for every protocol that takes a
 * password (IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS and AUTH). The policy, and why (README
 * "Security"):
 *
 * - The guessing ADDRESS is locked out, not the account. After `addressFailureLimit` failed logins
 *   from one address (an IPv4 address, or an IPv6 /64, which one host gets whole) within
 *   `windowMs`, logins from it are refused without a password check for `lockoutMs`; before that,
 *   each attempt from it waits a delay that doubles per failure (`baseDelayMs` up to `maxDelayMs`),
 *   as Dovecot's auth penalty does.
 * - Attempts are counted BEFORE the password is checked: `admit` is synchronous from its check to
 *   its reservation, so of 200 logins sent at once from one address at most `addressFailureLimit`
 *   are ever checked. Attempts over the limit that could still succeed (others from the address are
 *   in flight, not failed) wait for those to end instead of being refused, so a phone opening
 *   twenty IDLE connections at once is not turned away.
 * - The same wrong password for the same account from the same address counts once (Dovecot does
 *   this too): a forgotten laptop retrying an old password must not lock out the house.
 * - An account is never locked. Failures for it from any address make further attempts from
 *   addresses it has not logged in from recently wait (after `accountSlowdownAfter` failures,
 *   doubling up to `maxDelayMs`), which spreads a botnet's guesses; the addresses the account
 *   logged in from within `knownAddressMs` are not slowed at all, so an attack from elsewhere does
 *   not lock the owner out of their devices. From `accountAlertAfter` failures in the window the
 *   account is reported (`onAlert`, and `snapshot()` for the admin API's status).
 *
 * Everything is in memory, in one place for the whole server: the process itself, or the supervisor
 * of `mallard serve` with workers, which each ask it through IPC (server/cluster/shared-guard.ts),
 * so N workers never give an attacker N times the guesses. A restart forgets the counters (and the
 * known addresses, whose owners then only meet the account slow-down while an attack is on).
 */
import crypto from 'node:crypto';
import { formatIp, parseIp } from '../hooks/cidr.ts';

export interface LoginGuardOptions {
  /** Failed logins from one address within `windowMs` before it is locked out. */
  addressFailureLimit: number;
  /** How far back failures count. */
  windowMs: number;
  /** How long a locked-out address stays locked. */
  lockoutMs: number;
  /** The delay after the first failure; it doubles with each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures for one account (any address) before attempts from unknown addresses are slowed. */
  accountSlowdownAfter: number;
  /** Failures for one account (any address) before it is reported as under attack. */
  accountAlertAfter: number;
  /** How long an address an account logged in from counts as the owner's. */
  knownAddressMs: number;
}

export const DEFAULT_LOGIN_GUARD: LoginGuardOptions = {
  addressFailureLimit: 10,
  windowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  accountSlowdownAfter: 10,
  accountAlertAfter: 20,
  knownAddressMs: 30 * 24 * 3600_000,
};

/** An account with many recent failed logins, for the admin API and the panel. */
export interface AccountAlert {
  username: string;
  /** Failed logins within the window. */
  failures: number;
  /** Distinct addresses they came from. */
  addresses: number;
  /** The oldest failure counted. */
  since: Date;
}

export interface GuardSnapshot {
  /** Addresses refused now for guessing. */
  lockedAddresses: number;
  accountsUnderAttack: AccountAlert[];
}

export type Admission =
  | { admitted: false; reason: 'address-locked' | 'busy' }
  | { admitted: true; delayMs: number; attempt: LoginAttempt };

/** One admitted attempt; exactly one of its three endings counts (later calls do nothing). */
export interface LoginAttempt {
  succeeded(): void;
  /**
   * `password` only tells a repeated wrong password apart; it is kept as an HMAC, briefly. Failures
   * for names that are no account count the same (the delays must not tell which names exist)
   * but are never reported as an account under attack.
   */
  failed(password: string, details?: { accountExists: boolean }): void;
  /** `failed` with the password already reduced by `wrongPasswordDigest` (a worker's attempt). */
  failedDigest(digest: string, details?: { accountExists: boolean }): void;
  /** Ended without a verdict on the password (the store failed, the client left). */
  abandoned(): void;
}

/** What the protocols need of the guard: the process's own, or the supervisor's through IPC. */
export interface Guard {
  admit(remoteAddress: string, account: string): Promise<Admission>;
  /** What the admin API shows: locked addresses and accounts under attack, now. */
  snapshot(): GuardSnapshot | Promise<GuardSnapshot>;
}

/**
 * What tells a repeated wrong password apart, kept instead of the password: an HMAC under a key
 * that lives as long as the guard (a worker gets the supervisor's, so the password never leaves it).
 */
export function wrongPasswordDigest(key: Buffer, account: string, password: string): string {
  return crypto.createHmac('sha256', key).update(`${account}\0${password}`).digest('hex');
}

interface AddressState {
  /** Times of counted failures within the window, oldest first. */
  failures: number[];
  /** HMACs of the last few (account, wrong password) pairs from this address. */
  recentWrong: string[];
  inFlight: number;
  lockedUntil: number;
  /** Attempts waiting for one in flight to end. */
  waiters: Array<() => void>;
}

interface AccountState {
  failures: Array<{ at: number; address: string }>;
  /** Admitted attempts from unknown addresses not yet ended. */
  inFlight: number;
  /** Address → time of the last successful login from it. */
  known: Map<string, number>;
  alertedAt: number;
  /** Whether a failure said the account exists (only those are reported). */
  exists: boolean;
}

const RECENT_WRONG_KEPT = 10;
/** Attempts that may wait per address for others to end; more are refused at once. */
export const MAX_WAITERS = 100;
/** Failures remembered per account: enough for the delay and the alert, bounded under a flood. */
const MAX_ACCOUNT_FAILURES = 1000;
const MAX_KNOWN_PER_ACCOUNT = 50;
const MAX_STATES = 100_000;

/** An IPv4 address as itself; an IPv6 address as its /64 (one host may use all of it). */
export function guardAddressKey(remoteAddress: string): string {
  const bytes = parseIp(remoteAddress);
  if (!bytes) return remoteAddress;
  const text = formatIp(bytes);
  if (!text.includes(':')) return text;
  const prefix = new Uint8Array(16);
  prefix.set(bytes.subarray(0, 8));
  return `${formatIp(prefix)}/64`;
}

function doublingDelay(count: number, options: LoginGuardOptions): number {
  if (count <= 0) return 0;
  return Math.min(options.baseDelayMs * 2 ** Math.min(count - 1, 30), options.maxDelayMs);
}

export class LoginGuard implements Guard {
  private readonly addresses = new Map<string, AddressState>();
  private readonly accounts = new Map<string, AccountState>();
  readonly options: LoginGuardOptions;

  constructor(
    options: Partial<LoginGuardOptions> = {},
    private readonly onAlert: (alert: AccountAlert) => void = () => {},
    private readonly now: () => number = Date.now,
    /** The key of `wrongPasswordDigest`. */
    readonly wrongKey: Buffer = crypto.randomBytes(32),
  ) {
    this.options = { ...DEFAULT_LOGIN_GUARD, ...options };
  }

  /**
   * Admits an attempt for `account` (a loginKey) from `remoteAddress`, or refuses it without a
   * password check. The check and the reservation happen in one synchronous step.
   */
  async admit(remoteAddress: string, account: string): Promise<Admission> {
    const address = guardAddressKey(remoteAddress);
    for (;;) {
      const now = this.now();
      const state = this.addressState(address, now);
      if (state.lockedUntil > now) return { admitted: false, reason: 'address-locked' };
      if (state.failures.length + state.inFlight < this.options.addressFailureLimit) {
        return this.reserve(address, state, account, now);
      }
      // Over the limit only with attempts still in flight: they may succeed, so wait for them.
      if (state.waiters.length >= MAX_WAITERS) return { admitted: false, reason: 'busy' };
      await new Promise<void>((resolve) => state.waiters.push(resolve));
    }
  }

  private reserve(address: string, state: AddressState, account: string, now: number): Admission {
    state.inFlight++;
    const owner = this.accountState(account, now);
    const known = this.isKnown(owner, address, now);
    let delayMs = doublingDelay(state.failures.length, this.options);
    if (!known) {
      const pressure = owner.failures.length + owner.inFlight - this.options.accountSlowdownAfter + 1;
      delayMs = Math.max(delayMs, doublingDelay(pressure, this.options));
      owner.inFlight++;
    }
    let ended = false;
    const failedDigest = (digest: string, details = { accountExists: true }) => {
      if (!end()) return;
      if (details.accountExists) owner.exists = true;
      this.countFailure(address, state, account, owner, digest);
    };
    const end = () => {
      if (ended) return false;
      ended = true;
      state.inFlight--;
      if (!known) owner.inFlight--;
      for (const wake of state.waiters.splice(0)) wake();
      return true;
    };
    return {
      admitted: true,
      delayMs,
      attempt: {
        succeeded: () => {
          if (!end()) return;
          owner.known.delete(address);
          owner.known.set(address, this.now());
          if (owner.known.size > MAX_KNOWN_PER_ACCOUNT) owner.known.delete(owner.known.keys().next().value!);
        },
        failed: (password, details) =>
          failedDigest(wrongPasswordDigest(this.wrongKey, account, password), details),
        failedDigest,
        abandoned: () => {
          end();
        },
      },
    };
  }

  private countFailure(
    address: string,
    state: AddressState,
    account: string,
    owner: AccountState,
    wrong: string,
  ): void {
    const now = this.now();
    if (state.recentWrong.includes(wrong)) return;
    state.recentWrong.push(wrong);
    if (state.recentWrong.length > RECENT_WRONG_KEPT) state.recentWrong.shift();
    state.failures.push(now);
    if (state.failures.length >= this.options.addressFailureLimit) {
      state.lockedUntil = now + this.options.lockoutMs;
      // The lockout is the penalty for these; the address starts afresh once it ends.
      state.failures = [];
    }
    owner.failures.push({ at: now, address });
    if (owner.failures.length > MAX_ACCOUNT_FAILURES) owner.failures.shift();
    if (owner.exists && owner.failures.length >= this.options.accountAlertAfter && owner.alertedAt === 0) {
      owner.alertedAt = now;
      this.onAlert(this.alertOf(account, owner));
    }
    if (this.addresses.size + this.accounts.size > MAX_STATES) this.prune(now);
  }

  private isKnown(owner: AccountState, address: string, now: number): boolean {
    const last = owner.known.get(address);
    return last !== undefined && now - last <= this.options.knownAddressMs;
  }

  private addressState(address: string, now: number): AddressState {
    let state = this.addresses.get(address);
    if (!state) {
      state = { failures: [], recentWrong: [], inFlight: 0, lockedUntil: 0, waiters: [] };
      this.addresses.set(address, state);
    }
    const cutoff = now - this.options.windowMs;
    while (state.failures.length > 0 && state.failures[0]! <= cutoff) state.failures.shift();
    return state;
  }

  private accountState(account: string, now: number): AccountState {
    let state = this.accounts.get(account);
    if (!state) {
      state = { failures: [], inFlight: 0, known: new Map(), alertedAt: 0, exists: false };
      this.accounts.set(account, state);
    }
    const cutoff = now - this.options.windowMs;
    while (state.failures.length > 0 && state.failures[0]!.at <= cutoff) state.failures.shift();
    // The alert is raised again when a new wave comes after a quiet window.
    if (state.alertedAt !== 0 && state.alertedAt <= cutoff) state.alertedAt = 0;
    return state;
  }

  private alertOf(username: string, state: AccountState): AccountAlert {
    return {
      username,
      failures: state.failures.length,
      addresses: new Set(state.failures.map((failure) => failure.address)).size,
      since: new Date(state.failures[0]?.at ?? this.now()),
    };
  }

  /** What the admin API shows: locked addresses and accounts under attack, now. */
  snapshot(): GuardSnapshot {
    const now = this.now();
    let lockedAddresses = 0;
    for (const state of this.addresses.values()) if (state.lockedUntil > now) lockedAddresses++;
    const accountsUnderAttack: AccountAlert[] = [];
    for (const account of this.accounts.keys()) {
      const state = this.accountState(account, now);
      if (state.exists && state.failures.length >= this.options.accountAlertAfter)
        accountsUnderAttack.push(this.alertOf(account, state));
    }
    accountsUnderAttack.sort((a, b) => b.failures - a.failures);
    return { lockedAddresses, accountsUnderAttack };
  }

  /** Forgets state that no longer matters, so a scan from many addresses cannot grow memory. */
  private prune(now: number): void {
    for (const [address, state] of this.addresses) {
      this.addressState(address, now);
      const idle = state.inFlight === 0 && state.waiters.length === 0 && state.lockedUntil <= now;
      if (idle && state.failures.length === 0) this.addresses.delete(address);
    }
    for (const [account, state] of this.accounts) {
      this.accountState(account, now);
      for (const [address, at] of state.known)
        if (now - at > this.options.knownAddressMs) state.known.delete(address);
      if (state.inFlight === 0 && state.failures.length === 0 && state.known.size === 0)
        this.accounts.delete(account);
    }
  }
}
