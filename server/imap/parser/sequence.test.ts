import { describe, expect, it } from 'vitest';
import {
  formatSequenceSet,
  resolveRanges,
  resolveSequenceSet,
  sequenceSetContains,
  sequenceSetExceeds,
} from './sequence.ts';
import { parseSequenceSet } from './commands.ts';
import { ParseError } from './errors.ts';
import { S } from './test-helpers.ts';

describe('resolveSequenceSet', () => {
  it.each([
    ['1', 10, [1]],
    ['1:3', 10, [1, 2, 3]],
    ['3:1', 10, [1, 2, 3]],
    ['1,3:5,7:*', 9, [1, 3, 4, 5, 7, 8, 9]],
    ['*', 5, [5]],
    ['*:3', 5, [3, 4, 5]],
    ['5:*', 3, [3]],
    ['2,2,1:2', 10, [1, 2]],
    ['8:12', 10, [8, 9, 10]],
    ['1:4294967295', 3, [1, 2, 3]],
    ['11', 10, []],
    ['1:*', 0, []],
    ['*', 0, []],
  ])('%s with max %d', (text, max, expected) => {
    expect(resolveSequenceSet(S(text), max)).toEqual(expected);
  });

  it('uses the saved result for $', () => {
    expect(resolveSequenceSet(S('$'), 10, [2, 4, 12])).toEqual([2, 4]);
    expect(resolveSequenceSet(S('$'), 10)).toEqual([]);
  });
});

describe('resolveRanges', () => {
  it.each([
    [
      '1:3,5,4,10:*',
      20,
      [
        [1, 5],
        [10, 20],
      ],
    ],
    ['5:*', 3, [[3, 5]]],
    ['100:200', 50, [[100, 200]]],
    ['*', 0, []],
    ['1,3,2', 9, [[1, 3]]],
  ])('%s with max %d', (text, max, expected) => {
    expect(resolveRanges(S(text), max)).toEqual(expected);
  });
});

describe('sequenceSetContains / sequenceSetExceeds / formatSequenceSet', () => {
  it('tests membership with * as max', () => {
    const set = S('1:3,9:*');
    expect(sequenceSetContains(set, 2, 20)).toBe(true);
    expect(sequenceSetContains(set, 5, 20)).toBe(false);
    expect(sequenceSetContains(set, 15, 20)).toBe(true);
    expect(sequenceSetContains(S('$'), 4, 20, [4])).toBe(true);
    expect(sequenceSetContains(S('$'), 5, 20, [4])).toBe(false);
  });

  it('finds explicit numbers above max', () => {
    expect(sequenceSetExceeds(S('1:*'), 5)).toBe(false);
    expect(sequenceSetExceeds(S('1:5'), 5)).toBe(false);
    expect(sequenceSetExceeds(S('1:6'), 5)).toBe(true);
    expect(sequenceSetExceeds(S('7:*'), 5)).toBe(true);
    expect(sequenceSetExceeds(S('$'), 5)).toBe(false);
  });

  it('formats as sent', () => {
    expect(formatSequenceSet(S('1:3,5,*:7'))).toBe('1:3,5,*:7');
    expect(formatSequenceSet(S('$'))).toBe('$');
  });
});

describe('parseSequenceSet', () => {
  it.each(['1', '1:3,5,*:7', '$', '4294967295', '*'])('%s', (text) => {
    expect(parseSequenceSet(text)).toEqual(S(text));
  });

  it.each(['', '0', '1:', ':1', '1,', '1 2', 'a', '4294967296', '$,1', '1:2:3'])('rejects %j', (text) => {
    expect(parseSequenceSet(text)).toBeInstanceOf(ParseError);
  });
});
