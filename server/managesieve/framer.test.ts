import { describe, expect, it } from 'vitest';
import { CommandFramer, type FramerItem } from './framer.ts';

const LIMITS = { maxLine: 40, maxLiteral: 20 };

/** Everything the framer gives for `input` pushed in chunks of `chunk` bytes. */
function frame(input: string, chunk = input.length): Array<FramerItem | string> {
  const framer = new CommandFramer();
  const items: Array<FramerItem | string> = [];
  const bytes = Buffer.from(input);
  for (let at = 0; at < bytes.length; at += chunk) {
    framer.push(bytes.subarray(at, at + chunk));
    for (let item = framer.next(LIMITS); item; item = framer.next(LIMITS)) {
      if (item.type === 'literal-too-big') framer.skipLiteral(item.size);
      items.push(item.type === 'command' ? render(item.segments, item.literals) : item);
    }
  }
  return items;
}

function render(segments: Buffer[], literals: Buffer[]): string {
  return segments
    .map((segment, index) => segment.toString() + (literals[index] ? `<${literals[index]}>` : ''))
    .join('|');
}

describe('CommandFramer', () => {
  it.each([
    ['one line', 'NOOP\r\n', ['NOOP']],
    ['bare LF', 'NOOP\nLOGOUT\n', ['NOOP', 'LOGOUT']],
    ['a literal', 'PUTSCRIPT "a" {5+}\r\nkeep;\r\n', ['PUTSCRIPT "a" {5+}<keep;>|']],
    ['a literal with CRLF inside', 'CHECKSCRIPT {7+}\r\nkeep;\r\n\r\n', ['CHECKSCRIPT {7+}<keep;\r\n>|']],
    ['a synchronizing literal', 'CHECKSCRIPT {5}\r\nkeep;\r\n', ['CHECKSCRIPT {5}<keep;>|']],
    ['two literals', 'RENAMESCRIPT {1+}\r\na {1+}\r\nb\r\n', ['RENAMESCRIPT {1+}<a>| {1+}<b>|']],
    ['an empty literal', 'SETACTIVE {0+}\r\n\r\n', ['SETACTIVE {0+}<>|']],
  ])('%s', (_name, input, expected) => {
    expect(frame(input)).toEqual(expected);
    expect(frame(input, 1)).toEqual(expected);
  });

  it('reports an over-long line once and reads on', () => {
    expect(frame(`NOOP "${'x'.repeat(100)}"\r\nNOOP\r\n`, 7)).toEqual([{ type: 'too-long' }, 'NOOP']);
  });

  it('reports a literal over the limit before its octets, and skips them and the rest of the line', () => {
    const input = `PUTSCRIPT "a" {30+}\r\n${'y'.repeat(30)} "extra"\r\nNOOP\r\n`;
    const expected = [
      { type: 'literal-too-big', size: 30, segments: [Buffer.from('PUTSCRIPT "a" {30+}')] },
      'NOOP',
    ];
    expect(frame(input)).toEqual(expected);
    expect(frame(input, 3)).toEqual(expected);
  });

  it('forgets a half-read command on clear()', () => {
    const framer = new CommandFramer();
    framer.push(Buffer.from('PUTSCRIPT "a" {10+}\r\nabc'));
    expect(framer.next(LIMITS)).toBeNull();
    framer.clear();
    framer.push(Buffer.from('NOOP\r\n'));
    expect(framer.next(LIMITS)).toMatchObject({ type: 'command', segments: [Buffer.from('NOOP')] });
  });

  it('never throws on random input, whatever the chunking', () => {
    let state = 7;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
    const alphabet = ['{', '}', '+', '5', '0', '\r', '\n', '"', 'a', ' ', '9'];
    for (let round = 0; round < 300; round++) {
      const input = Array.from({ length: 200 }, () => alphabet[next() % alphabet.length]).join('');
      expect(() => frame(input, 1 + (next() % 17))).not.toThrow();
    }
  });
});
