/**
 * The `mallard` command's prebuilt bundle (bin/bundle.mjs), in a temporary copy of the repository's
 * layout (bin/, server/, app/, package.json, node_modules linked) so that editing a source file
 * there disturbs no other test: a bundle is used only while every input is as it was built from
 * (a new mtime with the same bytes does not count), a changed input makes it stale and the next
 * start rebuilds it, MALLARD_BUNDLE=0 runs the sources, a rebuild clears what builds before the last
 * one left in bin/dist, and `mallard deliver` run from the bundle delivers (trace fields, exit codes).
 * `deliver` runs from a script of its own (bin/dist/deliver-*.cjs) with V8's code cache: on both
 * engines, with a cache V8 refuses, and with a configuration it reports as every command does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.ts';
import { freshDatabaseUri, startMongoStandIn } from './helpers/mongo.ts';
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

/**
 * `mallard ARGS` in the copy with `input` on stdin, started as bin/mallard.mjs or as package.json's
 * bin, bin/mallard.cjs.
 */
function mallardIn(
  env: NodeJS.ProcessEnv,
  args: string[],
  input = '',
  launcher: 'mallard.mjs' | 'mallard.cjs' = 'mallard.mjs',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join('bin', launcher), ...args],
      { cwd: copy, env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

/** The code caches of a script (deliver's unless named) in the copy's bin/dist. */
const codeCaches = (script = 'deliver') =>
  fs
    .readdirSync(path.join(copy, 'bin', 'dist'))
    .filter((file) => file.startsWith(`.${script}-`) && file.endsWith('.cjs.v8cache'));
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
  for (const file of ['bundle.mjs', 'launch.cjs', 'mallard.cjs', 'mallard.mjs'])
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
    const mallard = (args: string[], input = '') => mallardIn(env, args, input);
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

  it.each(['sqlite', 'mongodb'])(
    'runs deliver, and the other commands, from scripts with a code cache, on %s',
    async (engine) => {
      const mongo = engine === 'mongodb' ? await startMongoStandIn() : null;
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bundle-data-'));
      const env = {
        MALLARD_CONFIG: '',
        MALLARD_DATA_DIR: dataDir,
        MALLARD_BUNDLE_DEBUG: '1',
        ...(mongo
          ? { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: freshDatabaseUri(mongo.uri) }
          : {}),
      };
      const mallard = (args: string[], input = '') => mallardIn(env, args, input, 'mallard.cjs');
      try {
        expect((await mallard(['domain', 'add', 'script.test'])).code).toBe(0);
        expect(
          (await mallard(['user', 'add', 'rcpt@script.test', '--password', 'a long password'])).code,
        ).toBe(0);
        for (const file of codeCaches()) fs.rmSync(path.join(copy, 'bin', 'dist', file));
        const message = (n: number) => `From: a@remote.test\r\nSubject: script ${n}\r\n\r\nbody ${n}\r\n`;
        // The first run compiles the script and leaves its code cache; the second runs from it.
        const first = await mallard(['deliver', 'rcpt@script.test'], message(1));
        expect(first).toMatchObject({ code: 0, stdout: 'rcpt@script.test\tdelivered uid 1\n', stderr: '' });
        expect(codeCaches()).toHaveLength(1);
        const cache = path.join(copy, 'bin', 'dist', codeCaches()[0]!);
        const second = await mallard(['deliver', '--from', '<>', 'rcpt@script.test'], message(2));
        expect(second).toMatchObject({ code: 0, stdout: 'rcpt@script.test\tdelivered uid 2\n', stderr: '' });
        // A cache V8 refuses (another Node, a damaged file) only costs a compilation, and is replaced.
        fs.writeFileSync(cache, 'not a code cache');
        const third = await mallard(['deliver', 'rcpt@script.test', 'nobody@script.test'], message(3));
        expect(third).toMatchObject({
          code: 67,
          stdout: 'rcpt@script.test\tdelivered uid 3\n',
          stderr: 'nobody@script.test\tunknown user\n',
        });
        expect(fs.readFileSync(cache, 'utf8')).not.toBe('not a code cache');
        const list = await mallard(['message', 'list', 'rcpt@script.test', 'INBOX', '--json']);
        expect(list.code, list.stderr).toBe(0);
        expect((JSON.parse(list.stdout) as unknown[]).length).toBe(3);
        const shown = await mallard(['message', 'show', 'rcpt@script.test', 'INBOX', '2', '--raw']);
        expect(shown.stdout).toMatch(/^Return-Path: <>\r\nDelivered-To: rcpt@script\.test\r\nReceived: /);
        expect(shown.stdout.endsWith(message(2))).toBe(true);
        // domain and user ran from the script they share, message from another (see bin/bundle.mjs).
        expect(codeCaches('admin')).toHaveLength(1);
        expect(codeCaches('store')).toHaveLength(1);
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
        await mongo?.stop();
      }
    },
    120_000,
  );

  it('deliver reports a bad configuration as every command does (exit 78, the same words)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bundle-data-'));
    try {
      const config = path.join(dataDir, 'mallard.yaml');
      fs.writeFileSync(config, 'imap:\n  colour: red\n');
      const message = 'Subject: x\r\n\r\nbody\r\n';
      const store = path.join(dataDir, 'store');
      for (const env of [
        { MALLARD_CONFIG: '', MALLARD_IMAP_PORT: '99999' },
        { MALLARD_CONFIG: '', MALLARD_STORE_ENGINE: 'postgres' },
        { MALLARD_CONFIG: config },
      ]) {
        const delivered = await mallardIn(
          { ...env, MALLARD_DATA_DIR: store },
          ['deliver', 'a@b.test'],
          message,
        );
        const listed = await mallardIn({ ...env, MALLARD_DATA_DIR: store, MALLARD_CLI_OFFLINE: '1' }, [
          'user',
          'list',
        ]);
        expect(delivered.code, delivered.stderr).toBe(78);
        expect(delivered.stderr).toMatch(/^mallard: /);
        expect(delivered.stderr).toBe(listed.stderr);
        expect(listed.code).toBe(78);
      }
      // No store was opened.
      expect(fs.existsSync(store)).toBe(false);
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
        [
          'IMAP_TLS',
          'POP3',
          'POP3_TLS',
          'LMTP',
          'SMTP',
          'SUBMISSION',
          'SUBMISSION_TLS',
          'MANAGESIEVE',
          'WEB',
          'ADMIN',
        ].map((name) => [`MALLARD_${name}_PORT`, '0']),
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
    // The first build's deliver script went too, and the code cache of it with it.
    const firstScript = firstOnly.find((file) => /^deliver-.*\.cjs$/.test(file));
    expect(firstScript).toBeDefined();
    expect(await fresh()).toBe(true);
    const help = await run([path.join('bin', 'mallard.mjs'), 'deliver'], { MALLARD_BUNDLE_DEBUG: '1' });
    expect(help.stderr).toContain('(third)');
    // The third build's script ran and left its cache; a cache whose script is gone is removed.
    const thirdScript = [...third.own].find((file) => /^deliver-.*\.cjs$/.test(file))!;
    expect(codeCaches()).toContain(`.${thirdScript}.v8cache`);
    fs.writeFileSync(path.join(dist, `.${firstScript}.v8cache`), 'old');
    await rebuild('(fourth)');
    expect(codeCaches()).not.toContain(`.${firstScript}.v8cache`);
    // the third build is the one before the last now: its script and cache stay
    expect(codeCaches()).toContain(`.${thirdScript}.v8cache`);
  }, 240_000); // four builds

  it('runs the sources with MALLARD_BUNDLE=0', async () => {
    const source = path.join(copy, 'server', 'cli', 'main.ts');
    fs.writeFileSync(source, fs.readFileSync(source, 'utf8').replace('CHANGED', 'FROM THE SOURCES'));
    const help = await run([path.join('bin', 'mallard.mjs'), 'help'], { MALLARD_BUNDLE: '0' });
    expect(help.stdout).toContain('FROM THE SOURCES');
    // deliver too (a command with a script of its own), started as package.json's bin
    const deliver = await run([path.join('bin', 'mallard.cjs'), 'deliver'], { MALLARD_BUNDLE: '0' });
    expect(deliver).toMatchObject({ code: 64, stdout: '' });
    expect(deliver.stderr).toBe(
      'mallard: missing RECIPIENT\nusage: mallard deliver [--from SENDER] RECIPIENT... (fourth) < message.eml\n',
    );
    // Not rebuilt: the sources ran.
    expect(await fresh()).toBe(false);
  });
});
