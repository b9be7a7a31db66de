/**
 * The `mallard` command's prebuilt bundle (bin/bundle.mjs), in a temporary copy of the repository's
 * layout (bin/, server/, app/, package.json, node_modules linked) so that editing a source file
 * there disturbs no other test: a bundle is used only while every input is as it was built from
 * (a new mtime with the same bytes does not count), a changed input makes it stale and the next
 * start rebuilds it, MALLARD_BUNDLE=0 runs the sources, a rebuild clears what builds before the last
 * one left in bin/dist, and `mallard deliver` run from the bundle delivers (trace fields, exit codes).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.ts';
import { freePort } from './helpers/ports.ts';

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

/** An IMAP connection that sends lines one by one, each once the previous one's tagged answer came. */
interface Talker {
  talk(lines: string[]): Promise<string>;
}

/** Connects once the server listens (it is starting), and reads its greeting. */
async function connectWhenListening(port: number, output: () => string): Promise<Talker> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const socket = await new Promise<net.Socket | null>((resolve) => {
      const attempt = net.connect(port, '127.0.0.1');
      attempt.once('connect', () => resolve(attempt));
      attempt.once('error', () => resolve(null));
    });
    if (socket) return talker(socket);
    if (Date.now() > deadline) throw new Error(`the server did not listen: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function talker(socket: net.Socket): Talker {
  let received = '';
  let wake: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    wake?.();
  });
  const until = async (pattern: RegExp) => {
    while (!pattern.test(received)) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        socket.once('close', resolve);
      });
      if (socket.destroyed && !pattern.test(received)) throw new Error(`closed: ${received}`);
    }
  };
  return {
    async talk(lines) {
      await until(/^\* OK/m);
      for (const line of lines) {
        const tag = line.split(' ')[0]!;
        socket.write(`${line}\r\n`);
        await until(new RegExp(`^${tag} (OK|NO|BAD)`, 'm'));
      }
      socket.destroy();
      return received;
    },
  };
}

/** Asks the copy's bin/bundle.mjs whether its cli bundle is fresh (in a process of its own). */
async function fresh(): Promise<boolean> {
  const script = `import { freshBundle } from ${JSON.stringify(path.join(copy, 'bin', 'bundle.mjs'))}; console.log(freshBundle('cli') !== null);`;
  const { stdout } = await run(['--input-type=module', '-e', script]);
  return stdout.trim() === 'true';
}

beforeAll(async () => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bundle-'));
  // The device profile builder is shared by the panel, the web server and the renderer.
  for (const dir of ['server', 'app', path.join('renderer', 'src', 'components', 'devices')]) {
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

  it('delivers from the bundle: trace fields on the stored copy, sysexits codes', async () => {
    expect(await fresh()).toBe(true);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bundle-data-'));
    const env = {
      MALLARD_CONFIG: '',
      MALLARD_DATA_DIR: dataDir,
      MALLARD_HOSTNAME: 'mx.bundle.test',
      MALLARD_BUNDLE_DEBUG: '1',
    };
    const mallard = (args: string[], input = '') =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [path.join('bin', 'mallard.mjs'), ...args],
          { cwd: copy, env: { ...process.env, ...env }, timeout: 120_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin!.end(input);
      });
    try {
      expect((await mallard(['domain', 'add', 'bundle.test'])).code).toBe(0);
      expect((await mallard(['user', 'add', 'rcpt@bundle.test', '--password', 'a long password'])).code).toBe(
        0,
      );
      const message = 'From: a@remote.test\r\nSubject: via the bundle\r\n\r\nbody\r\n';
      const delivered = await mallard(['deliver', '--from', 'a@remote.test', 'rcpt@bundle.test'], message);
      // The bundle ran as built: nothing was stale, nothing rebuilt.
      expect(delivered.stderr).toBe('');
      expect(delivered).toMatchObject({ code: 0, stdout: 'rcpt@bundle.test\tdelivered uid 1\n' });
      const unknown = await mallard(['deliver', 'nobody@bundle.test'], message);
      expect(unknown).toMatchObject({ code: 67, stderr: 'nobody@bundle.test\tunknown user\n' });
      const shown = await mallard(['message', 'show', 'rcpt@bundle.test', 'INBOX', '1', '--raw']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(
        /^Return-Path: <a@remote\.test>\r\nDelivered-To: rcpt@bundle\.test\r\nReceived: /,
      );
      expect(shown.stdout).toContain('by mx.bundle.test');
      expect(shown.stdout.endsWith(message)).toBe(true);
      expect(await fresh()).toBe(true);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('serves with its threads built too, none of them loading the TypeScript sources', async () => {
    // The threads' source entries register tsx: made to fail here, so a thread that used one
    // would stop the server (the store threads) or fail the SEARCH (the parse worker).
    for (const entry of ['server/store/sqlite/thread-entry.mjs', 'server/imap/offload/entry.mjs'])
      fs.writeFileSync(
        path.join(copy, entry),
        "throw new Error('a thread loaded the TypeScript sources');\n",
      );
    expect(await fresh()).toBe(true);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bundle-serve-'));
    const port = await freePort();
    const env = {
      MALLARD_CONFIG: '',
      MALLARD_DATA_DIR: dataDir,
      MALLARD_LOG_LEVEL: 'warn',
      MALLARD_SERVER_WORKERS: '1',
      MALLARD_IMAP_HOST: '127.0.0.1',
      MALLARD_IMAP_PORT: String(port),
      ...Object.fromEntries(
        ['IMAP_TLS', 'POP3', 'POP3_TLS', 'LMTP', 'SMTP', 'SUBMISSION', 'SUBMISSION_TLS', 'WEB', 'ADMIN'].map(
          (name) => [`MALLARD_${name}_PORT`, '0'],
        ),
      ),
    };
    let server: ChildProcess | null = null;
    try {
      expect((await run([path.join('bin', 'mallard.mjs'), 'domain', 'add', 'bundle.test'], env)).code).toBe(
        0,
      );
      const added = await run(
        [
          path.join('bin', 'mallard.mjs'),
          'user',
          'add',
          'serve@bundle.test',
          '--password',
          'a long password',
        ],
        env,
      );
      expect(added.code, added.stderr).toBe(0);
      let output = '';
      server = spawn(process.execPath, [path.join('bin', 'mallard.mjs'), 'serve'], {
        cwd: copy,
        env: { ...process.env, ...env },
      });
      server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const client = await connectWhenListening(port, () => output);
      // A message big enough for SEARCH BODY to scan it on the parse worker.
      const big = `Subject: big\r\n\r\n${'filler line\r\n'.repeat(30_000)}needle\r\n`;
      const answers = await client.talk([
        'a LOGIN serve@bundle.test "a long password"',
        `b APPEND INBOX {${big.length}+}\r\n${big}`,
        'c SELECT INBOX',
        'd SEARCH BODY needle',
        'e LOGOUT',
      ]);
      expect(answers, output).toMatch(/^b OK \[APPENDUID \d+ 1\]/m);
      expect(answers).toMatch(/^\* 1 EXISTS\r$/m);
      expect(answers).toMatch(/^\* SEARCH 1\r\nd OK /m);
      expect(output).not.toContain('TypeScript sources');
    } finally {
      server?.kill('SIGTERM');
      if (server && server.exitCode === null) await new Promise((resolve) => server!.once('exit', resolve));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    // The threads' code is part of the bundle: a change to it makes the bundle stale.
    const worker = path.join(copy, 'server', 'store', 'sqlite', 'thread-worker.ts');
    fs.appendFileSync(worker, '// changed\n');
    expect(await fresh()).toBe(false);
  });

  it('a rebuild removes what builds before the last one left, and keeps the last one for running processes', async () => {
    const dist = path.join(copy, 'bin', 'dist');
    const source = path.join(copy, 'server', 'cli', 'commands', 'deliver.ts');
    /** Rebuilds with a new usage text for deliver (so its chunk changes): the files in bin/dist, and the build's own. */
    const rebuild = async (usage: string) => {
      fs.writeFileSync(
        source,
        fs
          .readFileSync(source, 'utf8')
          .replace(/RECIPIENT\.\.\.[^'\n]*< message\.eml'/, `RECIPIENT... ${usage} < message.eml'`),
      );
      const built = await run([path.join('bin', 'bundle.mjs')]);
      expect(built.stderr).toBe('');
      const manifest = JSON.parse(fs.readFileSync(path.join(dist, 'manifest.json'), 'utf8')) as {
        bundles: Record<string, { files: string[] }>;
      };
      const own = new Set([
        'manifest.json',
        ...Object.values(manifest.bundles).flatMap((bundle) => bundle.files),
      ]);
      const present = new Set(fs.readdirSync(dist).filter((file) => !file.startsWith('.')));
      return { own, present };
    };
    // A file no build of this layout made (a chunk of a build from before manifests listed files).
    fs.writeFileSync(path.join(dist, 'chunk-LEFTOVER.mjs'), 'export {};\n');
    const first = await rebuild('(first)');
    expect(first.present.has('chunk-LEFTOVER.mjs')).toBe(false);
    const second = await rebuild('(second)');
    // The first build's files stay: a process that started from it may still import one.
    for (const file of first.own) expect(second.present).toContain(file);
    const third = await rebuild('(third)');
    // Now bin/dist holds exactly the last two builds, and the first build's deliver chunk is gone.
    expect([...third.present].sort()).toEqual([...new Set([...second.own, ...third.own])].sort());
    const firstOnly = [...first.own].filter((file) => !third.present.has(file));
    expect(firstOnly.some((file) => /^deliver-.*\.mjs$/.test(file))).toBe(true);
    expect(await fresh()).toBe(true);
    const help = await run([path.join('bin', 'mallard.mjs'), 'deliver'], { MALLARD_BUNDLE_DEBUG: '1' });
    expect(help.stderr).toContain('(third)');
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
