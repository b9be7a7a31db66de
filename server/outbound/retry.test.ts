import { describe, expect, it } from 'vitest';
import { afterTemporaryFailure, retryDelayMs, type RetryPolicy } from './retry.ts';

const policy: RetryPolicy = {
  retryBaseMs: 300_000,
  retryMaxMs: 4 * 3_600_000,
  giveUpAfterMs: 5 * 86_400_000,
  delayWarningAfterMs: 4 * 3_600_000,
};

describe('retry policy', () => {
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((attempts) => retryDelayMs(policy, attempts) / 60_000)).toEqual([
      5, 10, 20, 40, 80, 160, 240, 240,
    ]);
  });

  it('defers, warns once past the warning age, and gives up past the limit', () => {
    const queued = new Date(0);
    expect(afterTemporaryFailure(policy, queued, 1, false, new Date(60_000))).toEqual({
      kind: 'defer',
      nextAttemptAt: new Date(360_000),
      warn: false,
    });
    const late = new Date(5 * 3_600_000);
    expect(afterTemporaryFailure(policy, queued, 8, false, late)).toMatchObject({
      kind: 'defer',
      warn: true,
    });
    expect(afterTemporaryFailure(policy, queued, 8, true, late)).toMatchObject({
      kind: 'defer',
      warn: false,
    });
    // The last retry is at the give-up time, and a failure then bounces.
    const nearEnd = new Date(5 * 86_400_000 - 60_000);
    expect(afterTemporaryFailure(policy, queued, 30, true, nearEnd)).toMatchObject({
      nextAttemptAt: new Date(5 * 86_400_000),
    });
    expect(afterTemporaryFailure(policy, queued, 31, true, new Date(5 * 86_400_000))).toEqual({
      kind: 'give-up',
    });
  });
});
