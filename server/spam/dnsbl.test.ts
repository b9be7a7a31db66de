import { describe, expect, it } from 'vitest';
import { dnsblName } from './dnsbl.ts';

describe('dnsblName (RFC 5782)', () => {
  it.each([
    ['192.0.2.99', '99.2.0.192.zen.example'],
    ['::ffff:192.0.2.99', '99.2.0.192.zen.example'],
    ['2001:db8:1:2::abcd', 'd.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.zen.example'],
    ['not an address', null],
  ])('%s', (ip, expected) => {
    expect(dnsblName(ip, 'zen.example')).toBe(expected);
  });
});
