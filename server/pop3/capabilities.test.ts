import { describe, expect, it } from 'vitest';
import { capabilityList } from './capabilities.ts';

describe('capabilityList', () => {
  it.each([
    [{ state: 'authorization', secure: false, loopback: true }, ['USER', 'SASL PLAIN LOGIN', 'STLS'], []],
    [{ state: 'authorization', secure: false, loopback: false }, ['STLS'], ['USER', 'SASL PLAIN LOGIN']],
    [{ state: 'authorization', secure: true, loopback: false }, ['USER', 'SASL PLAIN LOGIN'], ['STLS']],
    // RFC 2449 5: what the AUTHORIZATION state offered is announced after login too.
    [{ state: 'transaction', secure: false, loopback: true }, ['USER', 'SASL PLAIN LOGIN', 'STLS'], []],
    [{ state: 'transaction', secure: true, loopback: false }, ['USER', 'SASL PLAIN LOGIN'], ['STLS']],
  ] as const)('%j', (session, present, absent) => {
    const list = capabilityList(session);
    for (const capability of [
      'TOP',
      'UIDL',
      'RESP-CODES',
      'AUTH-RESP-CODE',
      'PIPELINING',
      'IMPLEMENTATION Mallard',
    ]) {
      expect(list).toContain(capability);
    }
    for (const capability of present) expect(list).toContain(capability);
    for (const capability of absent) expect(list).not.toContain(capability);
  });
});
