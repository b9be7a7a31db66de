import { describe, expect, it } from 'vitest';
import { WORKER_V8_FLAGS, workerExecArgv } from './supervisor.ts';

describe('the V8 flags of worker processes', () => {
  it('adds the small young generation to what the supervisor was started with', () => {
    expect(workerExecArgv(['--enable-source-maps'], '')).toEqual([
      '--enable-source-maps',
      ...WORKER_V8_FLAGS,
    ]);
  });

  it('leaves a semi-space size given on the command line or in NODE_OPTIONS as it is', () => {
    expect(workerExecArgv(['--max-semi-space-size=16'], '')).toEqual(['--max-semi-space-size=16']);
    expect(workerExecArgv([], '--require x.cjs --max_semi_space_size=8')).toEqual([]);
  });
});
