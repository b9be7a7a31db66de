/**
 * `rate N`: at most N connection attempts per minute from one IP address (sliding window). Every
 * attempt that reaches this rule counts, refused ones included, so a client that keeps hammering
 * stays refused until it slows down below N per minute.
 */
import { REASONS, type RuleEvaluator, type RuleFactory } from '../rule.ts';
import { SlidingLog } from '../sliding-log.ts';

const MINUTE_MS = 60_000;

class RateRule implements RuleEvaluator {
  readonly reason = REASONS.tooFast;
  readonly temporary = true;

  constructor(
    readonly rule: RuleEvaluator['rule'],
    readonly attempts: SlidingLog,
  ) {}

  connect: RuleEvaluator['connect'] = (context) => {
    const limit = this.rule.limit ?? 0;
    const before = this.attempts.count(context.ip, context.now);
    if (!context.dryRun) this.attempts.add(context.ip, context.now);
    return before + 1 > limit ? 'deny' : null;
  };

  prune(now: number): void {
    this.attempts.prune(now);
  }
}

export const rateRule: RuleFactory = (rule, previous) => {
  // Keep one more than the limit: enough to tell "over the limit".
  const cap = (rule.limit ?? 0) + 1;
  const attempts = previous instanceof RateRule ? previous.attempts : new SlidingLog(MINUTE_MS, cap);
  attempts.cap = cap;
  return new RateRule(rule, attempts);
};
