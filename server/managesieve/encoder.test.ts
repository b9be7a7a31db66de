import { describe, expect, it } from 'vitest';
import { capabilityLine, encodeString, responseLine } from './encoder.ts';

describe('encoder', () => {
  it.each([
    ['plain', '"plain"'],
    ['say "hi" \\o/', '"say \\"hi\\" \\\\o/"'],
    ['two\r\nlines', '{10}\r\ntwo\r\nlines'],
    ['été', '"été"'],
  ])('encodes %j', (value, expected) => {
    expect(encodeString(value)).toBe(expected);
  });

  it('sends long strings as literals counted in bytes', () => {
    const long = 'é'.repeat(600);
    expect(encodeString(long)).toBe(`{1200}\r\n${long}`);
  });

  it('writes responses with codes and text', () => {
    expect(responseLine('OK', null)).toBe('OK\r\n');
    expect(responseLine('NO', 'Gone', { code: 'NONEXISTENT' })).toBe('NO (NONEXISTENT) "Gone"\r\n');
    expect(responseLine('OK', 'Done', { code: 'TAG', value: 'x"y' })).toBe('OK (TAG "x\\"y") "Done"\r\n');
    expect(capabilityLine('STARTTLS')).toBe('"STARTTLS"\r\n');
    expect(capabilityLine('VERSION', '1.0')).toBe('"VERSION" "1.0"\r\n');
  });
});
