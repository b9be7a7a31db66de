import { describe, expect, it } from 'vitest';
import { HourlyLimit } from './rate-limit.ts';

describe('HourlyLimit', () => {
  it('allows `perHour` messages per user within any hour, and more once the oldest is an hour old', () => {
    let now = 1_000_000;
    const limit = new HourlyLimit(2, () => now);
    expect(limit.allows('u1')).toBe(true);
    limit.record('u1');
    now += 1000;
    limit.record('u1');
    expect(limit.allows('u1')).toBe(false);
    expect(limit.allows('u2')).toBe(true);
    now += 3_600_000 - 1001;
    expect(limit.allows('u1')).toBe(false); // the first is not yet an hour old
    now += 1;
    expect(limit.allows('u1')).toBe(true); // an hour old: out of the window
  });
});
