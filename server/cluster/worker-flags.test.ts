import { describe, expect, it } from 'vitest';
import { supervisorV8Flags, WORKER_V8_FLAGS, workerExecArgv } from './supervisor.ts';

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

describe("the supervisor's own V8 flags", () => {
  it('stops its young generation from growing, unless a size or growth factor was given', () => {
    expect(supervisorV8Flags(['--enable-source-maps'], '')).toEqual(['--semi-space-growth-factor=1']);
    expect(supervisorV8Flags(['--max-semi-space-size=16'], '')).toEqual([]);
    expect(supervisorV8Flags([], '--semi_space_growth_factor=2')).toEqual([]);
  });
});
