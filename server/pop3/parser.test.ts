import { describe, expect, it } from 'vitest';
import { Pop3Error } from './errors.ts';
import { expectArgs, isKeyword, parseCommand, parseNumber } from './parser.ts';

describe('parseCommand', () => {
  it.each([
    ['STAT', { name: 'STAT', args: [], rest: '' }],
    ['stat', { name: 'STAT', args: [], rest: '' }],
    ['RETR 1', { name: 'RETR', args: ['1'], rest: '1' }],
    ['top 2 10', { name: 'TOP', args: ['2', '10'], rest: '2 10' }],
    ['LIST  3', { name: 'LIST', args: ['3'], rest: ' 3' }],
    ['PASS my secret  pass ', { name: 'PASS', args: ['my', 'secret', 'pass'], rest: 'my secret  pass ' }],
    ['USER jörg@example.test', { name: 'USER', args: ['jörg@example.test'], rest: 'jörg@example.test' }],
    ['AUTH PLAIN =', { name: 'AUTH', args: ['PLAIN', '='], rest: 'PLAIN =' }],
  ])('%j', (line, expected) => {
    expect(parseCommand(Buffer.from(line))).toEqual(expected);
  });

  it('ignores empty and blank lines', () => {
    expect(parseCommand(Buffer.from(''))).toBeNull();
    expect(parseCommand(Buffer.from('   '))).toBeNull();
  });

  it('tells keywords from garbage', () => {
    expect(isKeyword('CAPA')).toBe(true);
    expect(isKeyword('GET')).toBe(true);
    expect(isKeyword('\u0016\u0003')).toBe(false);
    expect(isKeyword('A'.repeat(30))).toBe(false);
  });
});

describe('parseNumber', () => {
  it.each([
    ['1', 1, 1],
    ['42', 1, 42],
    ['007', 1, 7],
    ['0', 0, 0],
  ])('%s (min %d) is %d', (arg, min, expected) => {
    expect(parseNumber(arg, 'message number', min)).toBe(expected);
  });

  it.each([
    ['0', 1],
    ['-1', 0],
    ['1.5', 1],
    ['abc', 1],
    ['1e3', 1],
    ['', 1],
    ['12345678901', 1],
    [undefined, 1],
  ])('refuses %j (min %d)', (arg, min) => {
    expect(() => parseNumber(arg, 'message number', min)).toThrow(Pop3Error);
  });
});

describe('expectArgs', () => {
  const command = (args: string[]) => ({ name: 'TOP', args, rest: args.join(' ') });
  it('accepts the right count and refuses others', () => {
    expect(() => expectArgs(command(['1', '2']), 2, 2)).not.toThrow();
    expect(() => expectArgs(command(['1']), 2, 2)).toThrow(/needs 2 arguments/);
    expect(() => expectArgs(command(['1', '2', '3']), 2, 2)).toThrow(/Too many arguments/);
  });
});
