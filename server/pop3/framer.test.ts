import { describe, expect, it } from 'vitest';
import { LineFramer, type FramerItem } from './framer.ts';

function drain(framer: LineFramer, limit = 20): Array<string | 'too-long'> {
  const items: Array<string | 'too-long'> = [];
  for (let item: FramerItem | null; (item = framer.next(limit));) {
    items.push(item.type === 'line' ? item.line.toString('latin1') : 'too-long');
  }
  return items;
}

describe('LineFramer', () => {
  it.each([
    ['one line', ['USER a\r\n'], ['USER a']],
    ['bare LF', ['USER a\nPASS b\n'], ['USER a', 'PASS b']],
    ['several in one chunk (pipelining)', ['STAT\r\nLIST\r\nUIDL\r\n'], ['STAT', 'LIST', 'UIDL']],
    ['split across chunks', ['ST', 'AT\r', '\nLI', 'ST\r\n'], ['STAT', 'LIST']],
    ['incomplete line waits', ['STAT\r\nLIS'], ['STAT']],
    ['empty lines', ['\r\n\r\n'], ['', '']],
    ['CR inside a line is kept', ['A\rB\r\n'], ['A\rB']],
    ['exactly the limit', [`${'x'.repeat(20)}\r\n`], ['x'.repeat(20)]],
  ])('%s', (_name, chunks, expected) => {
    const framer = new LineFramer();
    const items: Array<string | 'too-long'> = [];
    for (const chunk of chunks) {
      framer.push(Buffer.from(chunk, 'latin1'));
      items.push(...drain(framer));
    }
    expect(items).toEqual(expected);
  });

  it('reports an over-long line once and goes on with the next', () => {
    const framer = new LineFramer();
    framer.push(Buffer.from(`${'x'.repeat(21)}\r\nNOOP\r\n`));
    expect(drain(framer)).toEqual(['too-long', 'NOOP']);
  });

  it('discards an over-long line arriving in pieces without holding it', () => {
    const framer = new LineFramer();
    const items: Array<string | 'too-long'> = [];
    for (let index = 0; index < 100; index++) {
      framer.push(Buffer.from('y'.repeat(1000)));
      items.push(...drain(framer));
      expect(framer.buffered).toBeLessThanOrEqual(1000);
    }
    framer.push(Buffer.from('\r\nQUIT\r\n'));
    items.push(...drain(framer));
    expect(items).toEqual(['too-long', 'QUIT']);
  });

  it('applies the limit given per call (continuation lines may be longer)', () => {
    const framer = new LineFramer();
    framer.push(Buffer.from(`${'z'.repeat(50)}\r\n`));
    expect(framer.next(100)).toEqual({ type: 'line', line: Buffer.from('z'.repeat(50)) });
  });

  it('forgets everything on clear()', () => {
    const framer = new LineFramer();
    framer.push(Buffer.from('CAPA\r\nUSER evil\r\n'));
    framer.clear();
    expect(drain(framer)).toEqual([]);
    framer.push(Buffer.from('CAPA\r\n'));
    expect(drain(framer)).toEqual(['CAPA']);
  });
});
