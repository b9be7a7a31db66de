/**
 * The `mallard` command's prebuilt bundle (bin/bundle.mjs), in a temporary copy of the repository's
 * layout (bin/, server/, app/, package.json, node_modules linked) so that editing a source file
 * there disturbs no other test: a bundle is used only while every input is as it was built from
 * (a new mtime with the same bytes does not count), a changed input makes it stale and the next
 * start rebuilds it, and MALLARD_BUNDLE=0 runs the sources.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.ts';

let copy: string;

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: copy, env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Asks the copy's bin/bundle.mjs whether its cli bundle is fresh (in a process of its own). */
async function fresh(): Promise<boolean> {
  const script = `import { freshBundle } from ${JSON.stringify(path.join(copy, 'bin', 'bundle.mjs'))}; console.log(freshBundle('cli') !== null);`;
  const { stdout } = await run(['--input-type=module', '-e', script]);
  return stdout.trim() === 'true';
}

beforeAll(async () => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bundle-'));
  for (const dir of ['server', 'app']) {
    fs.cpSync(path.join(ROOT, dir), path.join(copy, dir), {
      recursive: true,
      filter: (source) => !source.split(path.sep).includes('dist'),
    });
  }
  fs.mkdirSync(path.join(copy, 'bin'));
  for (const file of ['bundle.mjs', 'mallard.mjs'])
    fs.copyFileSync(path.join(ROOT, 'bin', file), path.join(copy, 'bin', file));
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const built = await run([path.join('bin', 'bundle.mjs')]);
  expect(built.stderr).toBe('');
  expect(built.stdout).toMatch(/bin\/dist\/cli\.mjs/);
}, 180_000);
afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

describe('the mallard bundle', () => {
  it('is fresh after a build, and stays fresh when a source only gets a new mtime', async () => {
    expect(await fresh()).toBe(true);
    const source = path.join(copy, 'server', 'version.ts');
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(source, later, later);
    expect(await fresh()).toBe(true);
  });

  it('is stale once a source changes, and the next start rebuilds it and runs the change', async () => {
    const source = path.join(copy, 'server', 'cli', 'main.ts');
    fs.writeFileSync(
      source,
      fs.readFileSync(source, 'utf8').replace('a self-hosted IMAP/POP3 mail server', 'CHANGED'),
    );
    expect(await fresh()).toBe(false);
    const help = await run([path.join('bin', 'mallard.mjs'), 'help'], { MALLARD_BUNDLE_DEBUG: '1' });
    expect(help.stderr).toMatch(/bundle is stale: server\/cli\/main\.ts changed/);
    expect(help.stdout).toContain('CHANGED');
    expect(await fresh()).toBe(true);
  });

  it('runs the sources with MALLARD_BUNDLE=0', async () => {
    const source = path.join(copy, 'server', 'cli', 'main.ts');
    fs.writeFileSync(source, fs.readFileSync(source, 'utf8').replace('CHANGED', 'FROM THE SOURCES'));
    const help = await run([path.join('bin', 'mallard.mjs'), 'help'], { MALLARD_BUNDLE: '0' });
    expect(help.stdout).toContain('FROM THE SOURCES');
    // Not rebuilt: the sources ran.
    expect(await fresh()).toBe(false);
  });
});
