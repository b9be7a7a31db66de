import { describe, expect, it } from 'vitest';
import { networkOf, tripletOf } from './greylist.ts';

describe('greylisting triplets', () => {
  it('group a client by its /24 (IPv4) or first four groups (IPv6), sender and recipient lower-cased', () => {
    expect(networkOf('192.0.2.99')).toBe('192.0.2');
    expect(networkOf('::ffff:192.0.2.99')).toBe('192.0.2');
    expect(networkOf('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2');
    expect(tripletOf('192.0.2.7', 'A@X.test', 'B@Y.test')).toBe('192.0.2|a@x.test|b@y.test');
    expect(tripletOf('192.0.2.200', 'a@x.test', 'b@y.test')).toBe(
      tripletOf('192.0.2.7', 'a@x.test', 'b@y.test'),
    );
  });
});
