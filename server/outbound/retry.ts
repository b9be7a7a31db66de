/**
 * When to try a deferred recipient again, and when to give up or warn: the first retry after
 * `retry_base` seconds, each next one twice as late, capped at `retry_max`; a bounce once the
 * message is older than `give_up_after`; one delay warning once it is older than
 * `delay_warning_after` (RFC 3464 "delayed" DSN, as Postfix's delay_warning_time).
 */
export interface RetryPolicy {
  retryBaseMs: number;
  retryMaxMs: number;
  giveUpAfterMs: number;
  delayWarningAfterMs: number;
}

export function retryPolicyOf(outbound: {
  retry_base: number;
  retry_max: number;
  give_up_after: number;
  delay_warning_after: number;
}): RetryPolicy {
  return {
    retryBaseMs: outbound.retry_base * 1000,
    retryMaxMs: Math.max(outbound.retry_max, outbound.retry_base) * 1000,
    giveUpAfterMs: outbound.give_up_after * 1000,
    delayWarningAfterMs: outbound.delay_warning_after * 1000,
  };
}

/** The delay before the next attempt, after `attemptsSoFar` failed ones (this failure included). */
export function retryDelayMs(policy: RetryPolicy, attemptsSoFar: number): number {
  const exponent = Math.min(Math.max(attemptsSoFar - 1, 0), 30);
  return Math.min(policy.retryBaseMs * 2 ** exponent, policy.retryMaxMs);
}

export type TemporaryOutcome = { kind: 'defer'; nextAttemptAt: Date; warn: boolean } | { kind: 'give-up' };

/** What a temporary failure becomes for a recipient of a message queued at `queuedAt`. */
export function afterTemporaryFailure(
  policy: RetryPolicy,
  queuedAt: Date,
  attemptsSoFar: number,
  alreadyWarned: boolean,
  now: Date,
): TemporaryOutcome {
  const age = now.getTime() - queuedAt.getTime();
  if (age >= policy.giveUpAfterMs) return { kind: 'give-up' };
  const next = Math.min(
    now.getTime() + retryDelayMs(policy, attemptsSoFar),
    // The last attempt falls at the give-up time, not days after it.
    queuedAt.getTime() + policy.giveUpAfterMs,
  );
  return {
    kind: 'defer',
    nextAttemptAt: new Date(next),
    warn: !alreadyWarned && age >= policy.delayWarningAfterMs,
  };
}
