import { describe, expect, it } from 'vitest';
import { capabilityList } from './capabilities.ts';

describe('capabilityList', () => {
  it.each([
    [{ state: 'authorization', secure: false }, false, ['USER', 'SASL PLAIN LOGIN', 'STLS'], []],
    [{ state: 'authorization', secure: false }, true, ['STLS'], ['USER', 'SASL PLAIN LOGIN']],
    [{ state: 'authorization', secure: true }, false, ['USER', 'SASL PLAIN LOGIN'], ['STLS']],
    // RFC 2449 5: what the AUTHORIZATION state offered is announced after login too.
    [{ state: 'transaction', secure: false }, false, ['USER', 'SASL PLAIN LOGIN', 'STLS'], []],
    [{ state: 'transaction', secure: true }, false, ['USER', 'SASL PLAIN LOGIN'], ['STLS']],
  ] as const)('%j, TLS required: %s', (session, tlsRequired, present, absent) => {
    const list = capabilityList(session, tlsRequired);
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
