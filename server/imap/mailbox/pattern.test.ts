import { describe, expect, it } from 'vitest';
import { compilePattern, compilePatterns } from './pattern.ts';

const NAMES = ['INBOX', 'INBOX/Sub', 'Sent', 'Work', 'Work/2024', 'Work/2024/Q1', 'Workshop', 'a%b'];

function matching(pattern: string): string[] {
  const matches = compilePattern(pattern);
  return NAMES.filter((name) => matches(name));
}

describe('compilePattern', () => {
  it.each([
    ['*', NAMES],
    ['%', ['INBOX', 'Sent', 'Work', 'Workshop', 'a%b']],
    ['Work', ['Work']],
    ['Work/%', ['Work/2024']],
    ['Work/*', ['Work/2024', 'Work/2024/Q1']],
    ['Work*', ['Work', 'Work/2024', 'Work/2024/Q1', 'Workshop']],
    ['Work%', ['Work', 'Workshop']],
    ['%/%', ['INBOX/Sub', 'Work/2024']],
    ['*/Q1', ['Work/2024/Q1']],
    ['%/Q1', []],
    ['W%k', ['Work']],
    ['', []],
    ['work', []],
    ['a%b', ['a%b']],
  ])('%j matches %j', (pattern, expected) => {
    expect(matching(pattern)).toEqual(expected);
  });

  it('matches INBOX in any case, but only INBOX', () => {
    expect(matching('inbox')).toEqual(['INBOX']);
    expect(matching('InBoX/%')).toEqual(['INBOX/Sub']);
    expect(matching('inb*')).toEqual(['INBOX', 'INBOX/Sub']);
    expect(compilePattern('inbox2')('INBOX2')).toBe(false);
    expect(compilePattern('sent')('Sent')).toBe(false);
  });

  it('treats runs of wildcards like one', () => {
    expect(matching('%%')).toEqual(matching('%'));
    expect(matching('%*')).toEqual(matching('*'));
    expect(matching('*%*')).toEqual(matching('*'));
  });

  it('matches non-ASCII names code unit by code unit', () => {
    expect(compilePattern('Caf%')('Café')).toBe(true);
    expect(compilePattern('%')('日本語/x')).toBe(false);
    expect(compilePattern('*/x')('日本語/x')).toBe(true);
  });

  it('stays fast on patterns that make backtracking matchers explode', () => {
    const pattern = '*a'.repeat(40) + '*b';
    const name = 'a'.repeat(1000);
    const started = Date.now();
    expect(compilePattern(pattern)(name)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('combines several patterns', () => {
    const matches = compilePatterns(['Sent', 'Work/%']);
    expect(NAMES.filter((name) => matches(name))).toEqual(['Sent', 'Work/2024']);
  });
});

describe('compilePattern against a reference matcher', () => {
  /** The meaning of a pattern as a regular expression (fine for these short inputs). */
  function reference(pattern: string, name: string): boolean {
    const body = [...pattern]
      .map((c) => (c === '*' ? '.*' : c === '%' ? '[^/]*' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${body}$`, 's').test(name);
  }

  it('agrees on random patterns and names', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', 'b', '/', '*', '%'];
    const nameAlphabet = ['a', 'b', '/'];
    for (let round = 0; round < 5000; round++) {
      const pattern = Array.from({ length: random(8) }, () => alphabet[random(alphabet.length)]).join('');
      const name = Array.from({ length: 1 + random(8) }, () => nameAlphabet[random(3)]).join('');
      expect(compilePattern(pattern)(name), `${pattern} ~ ${name}`).toBe(reference(pattern, name));
    }
  });

  it('handles patterns longer than 32 and 64 states (several words)', () => {
    const name = 'x/'.repeat(40) + 'end';
    expect(compilePattern('%/'.repeat(40) + 'end')(name)).toBe(true);
    expect(compilePattern('%/'.repeat(41) + 'end')(name)).toBe(false);
    expect(compilePattern('x*'.repeat(40) + 'end')(name)).toBe(true);
    expect(compilePattern('*x'.repeat(41) + '*end')(name)).toBe(false);
  });
});
