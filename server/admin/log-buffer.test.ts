import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LogBuffer } from './log-buffer.ts';

describe('LogBuffer', () => {
  it('keeps the newest lines in order, oldest first', () => {
    const buffer = new LogBuffer(3);
    for (let index = 1; index <= 5; index++) {
      buffer.write(
        `${JSON.stringify({ level: 30, time: 1_700_000_000_000 + index, msg: `line ${index}` })}\n`,
      );
    }
    expect(buffer.size).toBe(3);
    expect(buffer.tail().map((line) => line.msg)).toEqual(['line 3', 'line 4', 'line 5']);
    expect(buffer.tail(2).map((line) => line.msg)).toEqual(['line 4', 'line 5']);
    expect(buffer.tail()[0]).toMatchObject({
      level: 'info',
      time: new Date(1_700_000_000_003).toISOString(),
    });
  });

  it('takes several lines in one write, and text that is not JSON', () => {
    const buffer = new LogBuffer(10);
    buffer.write('{"level":50,"time":1,"msg":"a","user":"x"}\n{"level":40,"time":2,"msg":"b"}\nplain text\n');
    expect(buffer.tail()).toEqual([
      expect.objectContaining({ level: 'error', msg: 'a', user: 'x' }),
      expect.objectContaining({ level: 'warn', msg: 'b' }),
      expect.objectContaining({ level: 'info', msg: 'plain text' }),
    ]);
  });

  it('is a pino destination', () => {
    const buffer = new LogBuffer(10);
    const logger = pino({ level: 'info' }, buffer);
    logger.info({ session: 's1' }, 'hello');
    logger.debug('hidden');
    expect(buffer.tail()).toEqual([expect.objectContaining({ msg: 'hello', session: 's1', level: 'info' })]);
  });
});
