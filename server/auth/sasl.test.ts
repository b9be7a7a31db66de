import { describe, expect, it } from 'vitest';
import { parsePlainMessage, SaslError } from './sasl.ts';

describe('parsePlainMessage', () => {
  it('takes an authzid that is the same login as the authcid, however it is spelled', () => {
    expect(parsePlainMessage('\0bob@example.com\0pw')).toEqual(['bob@example.com', 'pw']);
    expect(parsePlainMessage(' BOB@example.com\0bob@example.com \0pw')).toEqual(['bob@example.com ', 'pw']);
  });

  it('refuses acting as another user and malformed messages', () => {
    expect(() => parsePlainMessage('carol@example.com\0bob@example.com\0pw')).toThrow(SaslError);
    expect(() => parsePlainMessage('bob@example.com\0pw')).toThrow(/Malformed/);
  });
});
