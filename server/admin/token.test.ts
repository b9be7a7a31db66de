import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateToken, tokenMatches, tokenPath } from './token.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-token-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the admin token', () => {
  it('is created with mode 0600 and read back afterwards', () => {
    const dir = tempDir();
    const token = loadOrCreateToken(dir);
    expect(token).toMatch(/^[\w-]{43}$/);
    if (process.platform !== 'win32') expect(fs.statSync(tokenPath(dir)).mode & 0o777).toBe(0o600);
    expect(loadOrCreateToken(dir)).toBe(token);
  });

  it('tightens a token file others can read, and replaces an empty one', () => {
    const dir = tempDir();
    fs.writeFileSync(tokenPath(dir), 'kept-token\n', { mode: 0o644 });
    fs.chmodSync(tokenPath(dir), 0o644);
    expect(loadOrCreateToken(dir)).toBe('kept-token');
    if (process.platform !== 'win32') expect(fs.statSync(tokenPath(dir)).mode & 0o777).toBe(0o600);
    fs.writeFileSync(tokenPath(dir), '  \n');
    const fresh = loadOrCreateToken(dir);
    expect(fresh).toMatch(/^[\w-]{43}$/);
  });

  it('creates the data directory when missing', () => {
    const dir = path.join(tempDir(), 'new', 'data');
    expect(loadOrCreateToken(dir)).toMatch(/^[\w-]{43}$/);
  });

  it('compares tokens whatever their lengths', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', '')).toBe(false);
    expect(tokenMatches('abc', 'abcabc')).toBe(false);
  });
});
