import { describe, expect, it } from 'vitest';
import { stuffLine, virtualSize, wireChunks } from './encoder.ts';

function wire(raw: string, bodyLines?: number, chunkSize?: number): string {
  return Buffer.concat([...wireChunks(Buffer.from(raw, 'latin1'), { bodyLines, chunkSize })]).toString(
    'latin1',
  );
}

/** What a client gets back: dot-stuffing undone. */
function unstuff(text: string): string {
  return text.replace(/(^|\r\n)\.\./g, '$1.');
}

function normalise(raw: string): string {
  const crlf = raw.replace(/\r?\n/g, '\r\n');
  return crlf === '' || crlf.endsWith('\r\n') ? crlf : `${crlf}\r\n`;
}

describe('virtualSize', () => {
  it.each([
    ['', 0],
    ['a\r\nb\r\n', 6],
    ['a\nb\n', 6],
    ['\n\n', 4],
    ['a\r\nb\nc', 7],
    ['a\rb', 3],
    ['no newline', 10],
  ])('%j is %d', (raw, size) => {
    expect(virtualSize(Buffer.from(raw, 'latin1'))).toBe(size);
  });
});

describe('wireChunks', () => {
  it.each([
    ['CRLF kept', 'A: b\r\n\r\nbody\r\n', 'A: b\r\n\r\nbody\r\n'],
    ['bare LF made CRLF', 'A: b\n\nbody\n', 'A: b\r\n\r\nbody\r\n'],
    ['mixed', 'A: b\r\n\nx\ny\r\n', 'A: b\r\n\r\nx\r\ny\r\n'],
    ['final line end added', 'A: b\r\n\r\nlast', 'A: b\r\n\r\nlast\r\n'],
    ['dot lines stuffed', 'A: b\r\n\r\n.\r\n..\r\n.x\r\nx.\r\n', 'A: b\r\n\r\n..\r\n...\r\n..x\r\nx.\r\n'],
    ['dot line with bare LF', 'A: b\n\n.\n', 'A: b\r\n\r\n..\r\n'],
    ['dot at the very end', 'A: b\r\n\r\n.', 'A: b\r\n\r\n..\r\n'],
    ['a lone CR is not a line end', 'A: b\r\n\r\nx\ry\r\n', 'A: b\r\n\r\nx\ry\r\n'],
    ['8-bit bytes kept', 'A: \xe9\r\n\r\n\xff\x00\r\n', 'A: \xe9\r\n\r\n\xff\x00\r\n'],
    ['empty message', '', ''],
  ])('%s', (_name, raw, expected) => {
    expect(wire(raw)).toBe(expected);
  });

  it.each([
    [0, 'A: b\r\nC: d\r\n\r\n'],
    [1, 'A: b\r\nC: d\r\n\r\none\r\n'],
    [2, 'A: b\r\nC: d\r\n\r\none\r\n..two\r\n'],
    [3, 'A: b\r\nC: d\r\n\r\none\r\n..two\r\nthree\r\n'],
    [99, 'A: b\r\nC: d\r\n\r\none\r\n..two\r\nthree\r\n'],
  ])('TOP with %d body lines', (lines, expected) => {
    expect(wire('A: b\r\nC: d\r\n\r\none\n.two\r\nthree', lines)).toBe(expected);
  });

  it('TOP of a message without a body sends the whole header', () => {
    expect(wire('A: b\r\nC: d\r\n', 0)).toBe('A: b\r\nC: d\r\n');
  });

  it('yields chunks of about the size asked for', () => {
    const raw = Buffer.from('x'.repeat(100) + '\r\n')
      .toString('latin1')
      .repeat(1000);
    const chunks = [...wireChunks(Buffer.from(raw, 'latin1'), { chunkSize: 10_000 })];
    expect(chunks.length).toBeGreaterThan(9);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBeLessThan(10_200);
    expect(Buffer.concat(chunks).toString('latin1')).toBe(raw);
  });

  it('round-trips random messages: unstuffed wire bytes are the CRLF message, of virtualSize bytes', () => {
    const alphabet = ['.', '\r', '\n', '\r\n', 'a', ' ', '\xff', '..', '\n.', '\r\n.\r\n'];
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      let raw = '';
      const length = random(40);
      for (let index = 0; index < length; index++) raw += alphabet[random(alphabet.length)];
      const sent = wire(raw, undefined, 1 + random(20));
      // Nothing the client could mistake for the terminator, every line ends CRLF.
      expect(`\r\n${sent}`).not.toContain('\r\n.\r\n');
      expect(sent.replace(/\r\n/g, '')).not.toMatch(/\n/);
      const back = unstuff(sent);
      const expected = normalise(raw);
      // A lone CR before the final LF-less end is kept as content: compare on the normalised form.
      expect(back).toBe(expected);
      const size = virtualSize(Buffer.from(raw, 'latin1'));
      expect(size).toBe(raw === '' || /\n$/.test(raw) ? expected.length : expected.length - 2);
    }
  });
});

describe('stuffLine', () => {
  it('stuffs a leading dot only', () => {
    expect(stuffLine('.x')).toBe('..x\r\n');
    expect(stuffLine('x.')).toBe('x.\r\n');
  });
});
