import { describe, expect, it } from 'vitest';
import { ParseError } from './errors.ts';
import { parse } from './test-helpers.ts';

describe('SORT and THREAD arguments (RFC 5256)', () => {
  it('reads the sort program, REVERSE applying to the next key, the charset and the search', () => {
    expect(parse('a SORT (REVERSE date subject DISPLAYFROM) utf-8 SEEN 1:3')).toMatchObject({
      tag: 'a',
      name: 'SORT',
      uid: false,
      criteria: [
        { key: 'DATE', reverse: true },
        { key: 'SUBJECT', reverse: false },
        { key: 'DISPLAYFROM', reverse: false },
      ],
      charset: 'UTF-8',
      search: {
        type: 'and',
        keys: [
          { type: 'flag', flag: '\\Seen', set: true },
          { type: 'seq', set: { ranges: [{ start: 1, end: 3 }] } },
        ],
      },
    });
    expect(parse('a UID SORT (SIZE) US-ASCII ALL')).toMatchObject({
      name: 'SORT',
      uid: true,
      charset: 'US-ASCII',
    });
  });

  it('reads the thread algorithm', () => {
    for (const algorithm of ['ORDEREDSUBJECT', 'REFERENCES', 'REFS']) {
      expect(parse(`a UID THREAD ${algorithm.toLowerCase()} UTF-8 ALL`)).toEqual({
        tag: 'a',
        name: 'THREAD',
        uid: true,
        algorithm,
        charset: 'UTF-8',
        search: { type: 'all' },
      });
    }
  });

  it.each([
    ['a SORT', 'syntax'],
    ['a SORT (ARRIVAL)', 'syntax'],
    ['a SORT () UTF-8 ALL', 'syntax'],
    ['a SORT (NAME) UTF-8 ALL', 'syntax'],
    ['a SORT (DATE REVERSE) UTF-8 ALL', 'syntax'],
    ['a SORT (REVERSE REVERSE DATE) UTF-8 ALL', 'syntax'],
    ['a SORT (DATE) UTF-8', 'syntax'],
    ['a SORT (DATE) KOI8-R ALL', 'bad-charset'],
    ['a THREAD JWZ UTF-8 ALL', 'syntax'],
    ['a THREAD REFERENCES ALL', 'bad-charset'],
    ['a THREAD REFERENCES UTF-8', 'syntax'],
  ])('%j is refused (%s)', (input, kind) => {
    const result = parse(input);
    expect(result).toBeInstanceOf(ParseError);
    expect((result as ParseError).kind).toBe(kind);
  });
});
