/**
 * `lockout N --window S`: after N failed logins within S seconds from one IP address, or for one
 * account, further logins from that address or for that account are refused without a password
 * check, until the failures age out of the window (at most S seconds after the Nth). A refused
 * login is not a failure, so it does not prolong the lockout; the client gets the same reply as for
 * a wrong password.
 *
 * The lockout applies at login only: a locked-out address may still connect (and, say, deliver mail
 * over SMTP). Refusing its connections would tell a guesser that the lockout is on.
 */
import { REASONS, type AuthContext, type RuleEvaluator, type RuleFactory } from '../rule.ts';
import { SlidingLog } from '../sliding-log.ts';

const keys = (context: AuthContext) => [`ip:${context.ip}`, `account:${context.username.toLowerCase()}`];

class LockoutRule implements RuleEvaluator {
  readonly reason = REASONS.auth;
  readonly temporary = true;

  constructor(
    readonly rule: RuleEvaluator['rule'],
    readonly failures: SlidingLog,
  ) {}

  auth: RuleEvaluator['auth'] = (context) => {
    const limit = this.rule.limit ?? 0;
    return keys(context).some((key) => this.failures.count(key, context.now) >= limit) ? 'deny' : null;
  };

  authFailure(context: AuthContext): void {
    for (const key of keys(context)) this.failures.add(key, context.now);
  }

  prune(now: number): void {
    this.failures.prune(now);
  }
}

export const lockoutRule: RuleFactory = (rule, previous) => {
  const windowMs = (rule.windowSeconds ?? 0) * 1000;
  const cap = rule.limit ?? 0;
  const failures = previous instanceof LockoutRule ? previous.failures : new SlidingLog(windowMs, cap);
  failures.windowMs = windowMs;
  failures.cap = cap;
  return new LockoutRule(rule, failures);
};
