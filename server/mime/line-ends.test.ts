import { describe, expect, it } from 'vitest';
import { withCrlfLineEnds } from './line-ends.ts';

describe('withCrlfLineEnds', () => {
  it.each([
    ['a\nb\n', 'a\r\nb\r\n'],
    ['\n', '\r\n'],
    ['\n\n', '\r\n\r\n'],
    ['Received: x\r\nSubject: y\nbody\n', 'Received: x\r\nSubject: y\r\nbody\r\n'],
    ['no line end', 'no line end'],
    ['lone\rCR\r\n', 'lone\rCR\r\n'],
    ['', ''],
  ])('%j becomes %j', (input, expected) => {
    expect(withCrlfLineEnds(Buffer.from(input, 'latin1')).toString('latin1')).toBe(expected);
  });

  it('keeps a CRLF message as the same buffer, byte for byte', () => {
    const raw = Buffer.from('A: b\r\n\r\n\x00\xff body\r\n', 'latin1');
    expect(withCrlfLineEnds(raw)).toBe(raw);
  });

  it('agrees with a simple reference on random input', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 500; round++) {
      const bytes = Buffer.from(
        Array.from({ length: Math.floor(random() * 40) }, () => [10, 13, 65][Math.floor(random() * 3)]!),
      );
      const expected = Buffer.from(bytes.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'), 'latin1');
      expect(withCrlfLineEnds(bytes)).toEqual(expected);
    }
  });
});
