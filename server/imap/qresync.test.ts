import { describe, expect, it } from 'vitest';
import { missingRanges } from './qresync.ts';

describe('missingRanges (the larger VANISHED set, RFC 7162 3.2.5.2)', () => {
  it.each([
    {
      ranges: [[1, 10]],
      present: [1, 3, 5, 6, 8],
      missing: [
        [2, 2],
        [4, 4],
        [7, 7],
        [9, 10],
      ],
    },
    { ranges: [[1, 3]], present: [1, 2, 3], missing: [] },
    { ranges: [[1, 5]], present: [], missing: [[1, 5]] },
    {
      ranges: [
        [2, 4],
        [8, 9],
      ],
      present: [1, 3, 5, 9, 12],
      missing: [
        [2, 2],
        [4, 4],
        [8, 8],
      ],
    },
    // A client's 1:4294967295 costs ranges, not numbers.
    {
      ranges: [[1, 4294967295]],
      present: [7],
      missing: [
        [1, 6],
        [8, 4294967295],
      ],
    },
  ])('$ranges without $present', ({ ranges, present, missing }) => {
    expect(missingRanges(ranges as Array<[number, number]>, present)).toEqual(missing);
  });
});
