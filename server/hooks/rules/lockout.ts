/**
 * `lockout N --window S`: after N failed logins within S seconds from one IP address, further
 * logins from that address are refused without a password check, until the failures age out of
 * the window (at most S seconds after the Nth). The client gets the same reply as for a wrong
 * password.
 *
 * The address is locked, not the account: locking an account would let anyone lock its owner out
 * with N wrong passwords (the built-in login guard, server/auth/login-guard.ts, slows guessing of
 * one account from many addresses instead). Names are the login key (trimmed, NFC, lower case).
 *
 * Each allowed attempt is counted when it is allowed, before the password is checked, so N
 * attempts sent at once cannot all pass; it is taken back (`authRelease`) when it ends without a
 * wrong password (a success, a refusal by a later rule or the login guard, a store failure). A
 * refused login is not a failure, so it does not prolong the lockout.
 *
 * The lockout applies at login only: a locked-out address may still connect (and, say, deliver mail
 * over SMTP). Refusing its connections would tell a guesser that the lockout is on.
 */
import { REASONS, type AuthContext, type RuleEvaluator, type RuleFactory } from '../rule.ts';
import { SlidingLog } from '../sliding-log.ts';

const keyOf = (context: AuthContext) => `ip:${context.ip}`;

/** Attempts counted in `auth` and not yet ended, per session (one login at a time per session). */
type Reservations = Map<string, { key: string; at: number }>;

class LockoutRule implements RuleEvaluator {
  readonly reason = REASONS.auth;
  readonly temporary = true;

  constructor(
    readonly rule: RuleEvaluator['rule'],
    readonly failures: SlidingLog,
    readonly reserved: Reservations,
  ) {}

  auth: RuleEvaluator['auth'] = (context) => {
    const limit = this.rule.limit ?? 0;
    const key = keyOf(context);
    if (this.failures.count(key, context.now) >= limit) return 'deny';
    // Counted now, in the same synchronous step as the check: concurrent attempts see each other.
    if (!context.dryRun) {
      this.release(context);
      this.failures.add(key, context.now);
      this.reserved.set(context.session.id, { key, at: context.now });
    }
    return null;
  };

  authFailure(context: AuthContext): void {
    // Counted already when it was allowed; an attempt this rule did not see counts now.
    if (!this.reserved.delete(context.session.id)) this.failures.add(keyOf(context), context.now);
  }

  authRelease(context: AuthContext): void {
    this.release(context);
  }

  private release(context: AuthContext): void {
    const reservation = this.reserved.get(context.session.id);
    if (!reservation) return;
    this.reserved.delete(context.session.id);
    this.failures.remove(reservation.key, reservation.at);
  }

  prune(now: number): void {
    this.failures.prune(now);
    // An attempt never ended (it cannot happen, but must not hold memory for ever).
    for (const [session, reservation] of this.reserved)
      if (now - reservation.at > this.failures.windowMs) this.reserved.delete(session);
  }
}

export const lockoutRule: RuleFactory = (rule, previous) => {
  const windowMs = (rule.windowSeconds ?? 0) * 1000;
  const cap = rule.limit ?? 0;
  const kept = previous instanceof LockoutRule ? previous : null;
  const failures = kept ? kept.failures : new SlidingLog(windowMs, cap);
  failures.windowMs = windowMs;
  failures.cap = cap;
  return new LockoutRule(rule, failures, kept ? kept.reserved : new Map());
};
