import { describe, expect, it } from 'vitest';
import { AuthThrottle } from './throttle.ts';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('AuthThrottle', () => {
  const options = {
    baseDelayMs: 100,
    maxDelayMs: 1000,
    lockoutAfter: 5,
    windowMs: 60_000,
    lockoutMs: 30_000,
  };

  it('grows the delay per failure up to the maximum', () => {
    const time = clock();
    const throttle = new AuthThrottle(options, time.now);
    expect(throttle.delayFor('10.0.0.1', 'a@x')).toBe(0);
    const delays = [1, 2, 3, 4].map(() => {
      throttle.recordFailure('10.0.0.1', 'a@x');
      return throttle.delayFor('10.0.0.1', 'a@x');
    });
    expect(delays).toEqual([100, 200, 400, 800]);
    throttle.recordFailure('10.0.0.9', 'a@x');
    expect(throttle.delayFor('10.0.0.9', 'other@x')).toBe(100);
  });

  it('locks out an IP and an account after the limit, then lets them in after the window', () => {
    const time = clock();
    const throttle = new AuthThrottle(options, time.now);
    for (let i = 0; i < 5; i++) throttle.recordFailure('10.0.0.2', 'b@x');
    expect(throttle.isLockedOut('10.0.0.2', 'someone@x')).toBe(true);
    expect(throttle.isLockedOut('10.0.0.3', 'b@x')).toBe(true);
    expect(throttle.isLockedOut('10.0.0.3', 'c@x')).toBe(false);
    time.advance(30_001);
    expect(throttle.isLockedOut('10.0.0.2', 'b@x')).toBe(false);
  });

  it('clears the account on success but not the IP', () => {
    const time = clock();
    const throttle = new AuthThrottle(options, time.now);
    for (let i = 0; i < 3; i++) throttle.recordFailure('10.0.0.4', 'd@x');
    throttle.recordSuccess('d@x');
    expect(throttle.delayFor('10.0.0.5', 'd@x')).toBe(0);
    expect(throttle.delayFor('10.0.0.4', 'e@x')).toBe(400);
  });
});
