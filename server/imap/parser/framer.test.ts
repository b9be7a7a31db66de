import { describe, expect, it } from 'vitest';
import {
  ImapFramer,
  findLiteralMarker,
  frameAll,
  isFramerError,
  peekTagAndCommand,
  type FramedCommand,
  type FramerError,
  type FramerLimits,
} from './framer.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A readable summary of a framed command: segments and literals interleaved. */
function show(item: FramedCommand | FramerError): string {
  if (isFramerError(item))
    return `ERROR ${item.kind} tag=${String(item.tag)} cmd=${String(item.command)}${item.fatal ? ' FATAL' : ''}`;
  let out = '';
  item.segments.forEach((seg, i) => {
    out += seg.toString('latin1');
    const lit = item.literals[i];
    if (lit) out += `<${lit.data.toString('latin1')}>`;
  });
  return out;
}

/** Feeds `input` in the given chunks, auto-accepting literals; returns everything in order. */
function run(chunks: Buffer[], limits: Partial<FramerLimits> = {}): string[] {
  const framer = new ImapFramer(limits);
  const out: string[] = [];
  for (const chunk of chunks) {
    framer.push(chunk);
    for (;;) {
      const item = framer.next();
      if (!item) break;
      if (item.type === 'literal-request') {
        out.push(`REQUEST ${String(item.size)}`);
        framer.acceptLiteral();
      } else if (item.type === 'command') out.push(show(item.command));
      else if (item.type === 'error') out.push(show(item.error));
    }
  }
  return out;
}

describe('findLiteralMarker', () => {
  it.each([
    ['a LOGIN {5}', { size: 5, nonSync: false, binary: false }],
    ['a LOGIN {5+}', { size: 5, nonSync: true, binary: false }],
    ['a APPEND x ~{12}', { size: 12, nonSync: false, binary: true }],
    ['a APPEND x ~{0+}', { size: 0, nonSync: true, binary: true }],
    ['{99999999999999999999}', { size: Infinity, nonSync: false, binary: false }],
    ['a NOOP', null],
    ['a {}', null],
    ['a {+}', null],
    ['a {5', null],
    ['a 5}', null],
    ['a {5a}', null],
    ['}', null],
    [`a {${'9'.repeat(60)}}`, null],
  ])('%j', (line, expected) => {
    expect(findLiteralMarker(b(line))).toEqual(expected);
  });
});

describe('peekTagAndCommand', () => {
  it.each([
    ['a1 FETCH 1 FLAGS', { tag: 'a1', command: 'FETCH' }],
    ['a1 uid fetch 1 FLAGS', { tag: 'a1', command: 'UID FETCH' }],
    ['a1 ', { tag: 'a1', command: null }],
    ['a1', { tag: null, command: null }],
    ['x'.repeat(300), { tag: null, command: null }],
    ['+ x', { tag: null, command: null }],
    ['', { tag: null, command: null }],
  ])('%j', (line, expected) => {
    expect(peekTagAndCommand(b(line))).toEqual(expected);
  });
});

describe('ImapFramer basics', () => {
  it('frames pipelined lines, CRLF and bare LF', () => {
    expect(run([b('a NOOP\r\nb CAPABILITY\nc LOGOUT\r\n')])).toEqual(['a NOOP', 'b CAPABILITY', 'c LOGOUT']);
  });

  it('keeps an incomplete line until its end arrives', () => {
    const framer = new ImapFramer();
    framer.push(b('a NO'));
    expect(framer.next()).toBeNull();
    framer.push(b('OP\r'));
    expect(framer.next()).toBeNull();
    framer.push(b('\n'));
    expect(framer.next()).toMatchObject({ type: 'command' });
    expect(framer.bufferedBytes).toBe(0);
  });

  it('emits an empty line as an empty command', () => {
    expect(run([b('\r\n\na NOOP\r\n')])).toEqual(['', '', 'a NOOP']);
  });

  it('asks before a synchronising literal and waits for the answer', () => {
    const framer = new ImapFramer();
    framer.push(b('A1 LOGIN {5}\r\n'));
    const request = framer.next();
    expect(request).toEqual({ type: 'literal-request', tag: 'A1', command: 'LOGIN', size: 5, binary: false });
    expect(framer.pendingLiteral).toEqual({ size: 5, binary: false });
    expect(() => framer.next()).toThrow(/literal request/);
    framer.acceptLiteral();
    framer.push(b('alice {6}\r\n'));
    expect(framer.next()).toMatchObject({ type: 'literal-request', size: 6 });
    framer.acceptLiteral();
    framer.push(b('secret\r\n'));
    const item = framer.next();
    expect(item?.type).toBe('command');
    if (item?.type !== 'command') return;
    expect(show(item.command)).toBe('A1 LOGIN {5}<alice> {6}<secret>');
    expect(item.command.literals.map((l) => l.nonSync)).toEqual([false, false]);
    expect(item.command.size).toBe('A1 LOGIN {5}'.length + 5 + ' {6}'.length + 6);
  });

  it('takes non-synchronising literals without asking', () => {
    expect(run([b('a LOGIN {5+}\r\nalice {3+}\r\n{1}\r\n')])).toEqual(['a LOGIN {5+}<alice> {3+}<{1}>']);
  });

  it('frames literal8 and zero-length literals', () => {
    const out = frameAll(b('a APPEND x ~{3}\r\n\0\r\n {0}\r\n\r\n'));
    expect(out).toHaveLength(1);
    const cmd = out[0] as FramedCommand;
    expect(cmd.literals).toEqual([
      { data: b('\0\r\n'), binary: true, nonSync: false },
      { data: b(''), binary: false, nonSync: false },
    ]);
  });

  it('a rejected synchronising literal aborts the command; the next bytes are a new command', () => {
    const framer = new ImapFramer();
    framer.push(b('a APPEND INBOX {10}\r\nb NOOP\r\n'));
    expect(framer.next()).toMatchObject({ type: 'literal-request', tag: 'a', command: 'APPEND', size: 10 });
    framer.rejectLiteral();
    const next = framer.next();
    expect(next?.type === 'command' && show(next.command)).toBe('b NOOP');
    expect(() => framer.acceptLiteral()).toThrow();
    expect(() => framer.rejectLiteral()).toThrow();
  });

  it('reads single raw lines for IDLE and keeps a command pipelined after DONE', () => {
    const framer = new ImapFramer();
    framer.push(b('a IDLE\r\nDONE\r\nb NOOP {3}\r\n'));
    expect(framer.next()).toMatchObject({ type: 'command' });
    expect(framer.next('line')).toEqual({ type: 'line', line: b('DONE') });
    expect(framer.next()).toMatchObject({ type: 'literal-request', tag: 'b', command: 'NOOP', size: 3 });
  });

  it('raw lines ignore literal markers (AUTHENTICATE continuations)', () => {
    const framer = new ImapFramer();
    framer.push(b('abc {5}\r\n*\nx'));
    expect(framer.next('line')).toEqual({ type: 'line', line: b('abc {5}') });
    expect(framer.next('line')).toEqual({ type: 'line', line: b('*') });
    expect(framer.next('line')).toBeNull();
  });

  it('refuses next("line") in the middle of a command', () => {
    const framer = new ImapFramer();
    framer.push(b('a LOGIN {1+}\r\nx'));
    expect(framer.next()).toBeNull();
    expect(() => framer.next('line')).toThrow(/between commands/);
  });

  it('reports a raw line that is too long', () => {
    const framer = new ImapFramer({ maxLineLength: 10 });
    framer.push(b('0123456789ABC\r\nok\r\n'));
    expect(framer.next('line')).toMatchObject({ type: 'error', error: { kind: 'line-too-long' } });
    expect(framer.next('line')).toEqual({ type: 'line', line: b('ok') });
  });

  it('limits can be changed between commands (e.g. raised after authentication)', () => {
    const framer = new ImapFramer({ maxLiteralSize: 10 });
    framer.push(b('a LOGIN {20}\r\n'));
    expect(framer.next()).toMatchObject({ type: 'error', error: { kind: 'literal-too-large' } });
    framer.setLimits({ maxLiteralSize: 100 });
    expect(framer.limits.maxLiteralSize).toBe(100);
    framer.push(b('b APPEND x {20}\r\n'));
    expect(framer.next()).toMatchObject({ type: 'literal-request', size: 20 });
    expect(() => framer.setLimits({ maxLineLength: 1.5 })).toThrow(RangeError);
  });

  it('rejects invalid limits', () => {
    expect(() => new ImapFramer({ maxLineLength: -1 })).toThrow(RangeError);
    expect(() => new ImapFramer({ maxLiteralSize: Number.NaN })).toThrow(RangeError);
  });
});

describe('ImapFramer limits', () => {
  const limits = { maxLineLength: 20, maxLiteralSize: 10, maxCommandSize: 40, maxDiscardSize: 100 };

  it('a line exactly at the limit passes, one byte more is an error; the connection stays usable', () => {
    const line = 'a NOOP ' + 'x'.repeat(13); // 20 bytes
    expect(run([b(`${line}\r\n`)], limits)).toEqual([line]);
    expect(run([b(`${line}\n`)], limits)).toEqual([line]);
    expect(run([b(`${line}y\r\nb NOOP\r\n`)], limits)).toEqual([
      'ERROR line-too-long tag=a cmd=NOOP',
      'b NOOP',
    ]);
  });

  it('an over-long line ending with a synchronising literal ends the command at once', () => {
    const out = run([b(`a LOGIN ${'x'.repeat(30)} {5}\r\nb NOOP\r\n`)], limits);
    expect(out).toEqual(['ERROR line-too-long tag=a cmd=LOGIN', 'b NOOP']);
  });

  it('an over-long line ending with a non-synchronising literal swallows the literal', () => {
    const out = run([b(`a LOGIN ${'x'.repeat(30)} {6+}\r\nc NOOP rest\r\nb NOOP\r\n`)], limits);
    expect(out).toEqual(['ERROR line-too-long tag=a cmd=LOGIN', 'b NOOP']);
  });

  it('a synchronising literal over the limit is refused without asking', () => {
    const out = run([b('a APPEND x {11}\r\nb NOOP\r\n')], limits);
    expect(out).toEqual(['ERROR literal-too-large tag=a cmd=APPEND', 'b NOOP']);
    const framer = new ImapFramer(limits);
    framer.push(b('a APPEND x {11}\r\n'));
    expect(framer.next()).toEqual({
      type: 'error',
      error: {
        kind: 'literal-too-large',
        tag: 'a',
        command: 'APPEND',
        message: 'Literal too large',
        fatal: false,
        literalSize: 11,
        synchronizing: true,
      },
    });
  });

  it('a non-synchronising literal over the limit is swallowed with the rest of its command', () => {
    const out = run([b('a APPEND x {11+}\r\nc NOOP\r\nxx {4+}\r\nd NO\r\nb NOOP\r\n')], limits);
    expect(out).toEqual(['ERROR literal-too-large tag=a cmd=APPEND', 'b NOOP']);
  });

  it('a synchronising literal after a refused one ends the discarded command', () => {
    const out = run([b('a APPEND x {11+}\r\n0123456789a {3}\r\nb NOOP\r\n')], limits);
    expect(out).toEqual(['ERROR literal-too-large tag=a cmd=APPEND', 'b NOOP']);
  });

  it('a non-synchronising literal too large to swallow is fatal', () => {
    const framer = new ImapFramer(limits);
    framer.push(b('a APPEND x {101+}\r\nmore'));
    expect(framer.next()).toMatchObject({
      type: 'error',
      error: { kind: 'literal-too-large', fatal: true, tag: 'a', literalSize: 101, synchronizing: false },
    });
    expect(framer.failed).toBe(true);
    framer.push(b('b NOOP\r\n'));
    expect(framer.next()).toBeNull();
    expect(framer.bufferedBytes).toBe(0);
  });

  it('an astronomically large literal size is refused (sync) or fatal (non-sync)', () => {
    const limits = { maxLiteralSize: 10, maxDiscardSize: 100 };
    expect(run([b('a LOGIN {99999999999999999999999}\r\nb NOOP\r\n')], limits)).toEqual([
      'ERROR literal-too-large tag=a cmd=LOGIN',
      'b NOOP',
    ]);
    expect(run([b('a LOGIN {99999999999999999999999+}\r\nb NOOP\r\n')], limits)).toEqual([
      'ERROR literal-too-large tag=a cmd=LOGIN FATAL',
    ]);
  });

  it('limits the whole command size', () => {
    // 3 literals of 10 plus text > 40
    const input = 'a APPEND x {10+}\r\n0123456789 {10+}\r\n0123456789 {10}\r\nb NOOP\r\n';
    expect(run([b(input)], limits)).toEqual(['ERROR command-too-large tag=a cmd=APPEND', 'b NOOP']);
    // many small text lines joined by empty literals
    const many = `a LOGIN ${Array.from({ length: 10 }, () => 'xxxx {0+}\r\n').join('')}\r\nb NOOP\r\n`;
    expect(run([b(many)], limits)).toEqual(['ERROR command-too-large tag=a cmd=LOGIN', 'b NOOP']);
  });

  it('LITERAL-: non-synchronising literals over 4096 bytes are refused', () => {
    const big = 'x'.repeat(4097);
    const out = run([b(`a APPEND x {4097+}\r\n${big}\r\nb NOOP\r\n`)], { literalMinus: true });
    expect(out).toEqual(['ERROR literal-too-large tag=a cmd=APPEND', 'b NOOP']);
    const ok = run([b(`a APPEND x {4096+}\r\n${big.slice(1)}\r\n`)], { literalMinus: true });
    expect(ok).toHaveLength(1);
    expect(ok[0]!.startsWith('a APPEND x {4096+}<')).toBe(true);
    // synchronising literals are not limited by LITERAL-
    expect(run([b(`a APPEND x {4097}\r\n${big}\r\n`)], { literalMinus: true })[0]).toBe('REQUEST 4097');
  });

  it('keeps only bounded memory for an endless line', () => {
    const framer = new ImapFramer({ maxLineLength: 1000 });
    const chunk = b('x'.repeat(10_000));
    for (let i = 0; i < 100; i++) {
      framer.push(chunk);
      expect(framer.next()).toBeNull();
    }
    expect(framer.bufferedBytes).toBe(0);
    framer.push(b('\r\nb NOOP\r\n'));
    expect(framer.next()).toMatchObject({ type: 'error', error: { kind: 'line-too-long', tag: null } });
    expect(framer.next()).toMatchObject({ type: 'command' });
  });
});

describe('ImapFramer chunking', () => {
  const PIPELINE = [
    'a1 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n',
    'a2 SELECT INBOX\n',
    'a3 APPEND INBOX (\\Seen) {12}\r\nHi\r\n{3}\r\nYou\r\n {0}\r\n\r\n',
    '\r\n',
    'a4 APPEND x ~{4+}\r\n\0\r\n\n\r\n',
    'a5 IDLE\r\n',
    'DONE\r\n',
    'a6 LOGIN ' + 'x'.repeat(40) + ' {3+}\r\nabc\r\n',
    'a7 APPEND x {11}\r\n',
    'a8 APPEND x {11+}\r\n0123456789a {2+}\r\nzz\r\n',
    'a9 NOOP\r\n',
  ].join('');
  const limits = { maxLineLength: 30, maxLiteralSize: 10, maxCommandSize: 60 };
  const whole = run([b(PIPELINE)], limits);

  it('the reference framing is as expected', () => {
    expect(whole).toEqual([
      'REQUEST 5',
      'a1 LOGIN {5}<alice> {6+}<secret>',
      'a2 SELECT INBOX',
      'ERROR literal-too-large tag=a3 cmd=APPEND', // {12} > 10: refused before the client sends it
      'Hi', // ...so a real client would not have sent these lines
      'REQUEST 3',
      '{3}<You>',
      'REQUEST 0',
      ' {0}<>',
      '',
      'a4 APPEND x ~{4+}<\0\r\n\n>',
      'a5 IDLE',
      'DONE',
      'ERROR line-too-long tag=a6 cmd=LOGIN',
      'ERROR literal-too-large tag=a7 cmd=APPEND',
      'ERROR literal-too-large tag=a8 cmd=APPEND',
      'a9 NOOP',
    ]);
  });

  it('every split point into two chunks gives the same result', () => {
    const input = b(PIPELINE);
    for (let i = 1; i < input.length; i++) {
      expect(run([input.subarray(0, i), input.subarray(i)], limits), `split at ${String(i)}`).toEqual(whole);
    }
  });

  it('every split into three chunks (sampled) gives the same result', () => {
    const input = b(PIPELINE);
    for (let i = 1; i < input.length; i += 3) {
      for (let j = i + 1; j < input.length; j += 7) {
        const chunks = [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
        expect(run(chunks, limits), `split at ${String(i)}, ${String(j)}`).toEqual(whole);
      }
    }
  });

  it('one byte at a time gives the same result', () => {
    const input = b(PIPELINE);
    const chunks = Array.from({ length: input.length }, (_, i) => input.subarray(i, i + 1));
    expect(run(chunks, limits)).toEqual(whole);
  });
});
