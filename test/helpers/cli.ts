/** Runs the real `mallard` command in a child process against a throw-away data directory. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MALLARD_BIN = path.join(ROOT, 'bin', 'mallard.mjs');

export interface CliResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
  text: string;
}

export function makeDataDir(prefix = 'mallard-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function runMallard(
  args: string[],
  options: { dataDir: string; input?: Buffer | string; env?: NodeJS.ProcessEnv },
): CliResult {
  const result = spawnSync(process.execPath, [MALLARD_BIN, ...args], {
    cwd: ROOT,
    input: options.input ?? '',
    env: {
      ...process.env,
      MALLARD_CONFIG: '',
      MALLARD_DATA_DIR: options.dataDir,
      MALLARD_LOG_LEVEL: 'warn',
      ...options.env,
    },
    maxBuffer: 256 * 1024 * 1024,
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr.toString(),
    text: result.stdout.toString(),
  };
}
