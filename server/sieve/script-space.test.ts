import { describe, expect, it } from 'vitest';
import { scriptSpaceProblem } from './script-space.ts';

const limits = { max_scripts: 2, max_script_size: 100 };

describe('scriptSpaceProblem', () => {
  it.each([
    { existing: [], name: 'a', bytes: 100, problem: null },
    { existing: [], name: 'a', bytes: 101, problem: 'QUOTA/MAXSIZE' },
    { existing: [{ name: 'a' }], name: 'b', bytes: 1, problem: null },
    { existing: [{ name: 'a' }, { name: 'b' }], name: 'c', bytes: 1, problem: 'QUOTA/MAXSCRIPTS' },
    // a new version of a script the user has is not one more
    { existing: [{ name: 'a' }, { name: 'b' }], name: 'b', bytes: 1, problem: null },
    // too large wins over too many: the size is what the client can fix
    { existing: [{ name: 'a' }, { name: 'b' }], name: 'c', bytes: 101, problem: 'QUOTA/MAXSIZE' },
  ])(
    '$name ($bytes bytes) beside $existing.length scripts: $problem',
    ({ existing, name, bytes, problem }) => {
      expect(scriptSpaceProblem(existing, name, bytes, limits)?.code ?? null).toBe(problem);
    },
  );
});
