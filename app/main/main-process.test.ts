/**
 * The built main process (app/dist/main.cjs) run from start to quit. Electron itself cannot run on
 * the test machines, so fixtures/electron-stand-in.mjs stands in for the 'electron' module and
 * records what the app asks of it; the rest is real: the bundle, the panel host on a loopback
 * port, the supervisor and a real `mallard serve` with its own data directory.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IPC_CHANNELS, ipcInputSchemas, type IpcReply } from '../shared/ipc-contract.ts';
import type { SupervisorStatus } from '../supervisor/types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const standIn = path.join(root, 'app', 'main', 'fixtures', 'electron-stand-in.mjs');

interface Snapshot {
  windows: Array<{
    options: { webPreferences: Record<string, unknown> };
    urls: string[];
    shown: number;
    focused: number;
  }>;
  channels: string[];
  sent: Array<{ channel: string; payload: SupervisorStatus }>;
  tooltips: string[];
  menus: Array<Array<{ label?: string; enabled?: boolean }>>;
  dialogs: string[];
  externals: string[];
  quit: { requests: number; prevented: number; done: boolean };
}

let tmp: string;
let dataDir: string;
let app: ChildProcess;
let output = '';
let nextId = 1;
const pending = new Map<number, (reply: { result?: unknown; error?: string }) => void>();
let quitComplete: Promise<Snapshot>;
let exited: Promise<number | null>;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The environment without MALLARD_* overrides of the test's config file. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('MALLARD_')) env[key] = value;
  // From a checkout the app runs the server on `node` from PATH; here: this very Node.
  env.MALLARD_NODE = process.execPath;
  return env;
}

function ask<T>(type: string, params: Record<string, unknown> = {}): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, (reply) => (reply.error ? reject(new Error(reply.error)) : resolve(reply.result as T)));
    app.send({ id, type, ...params });
  });
}

const snapshot = () => ask<Snapshot>('snapshot');

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output}`);
    await sleep(100);
  }
}

function invoke(channel: string, frameUrl: string | null, args: unknown[] = [], isMainFrame = true) {
  return ask<IpcReply<unknown>>('invoke', { channel, frameUrl, isMainFrame, args });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The app's layout (as installed): app/dist, renderer/dist, bin, server, node_modules, package.json. */
async function makeAppRoot(): Promise<string> {
  const appRoot = path.join(tmp, 'Mallard');
  await promisify(execFile)(process.execPath, [
    path.join(root, 'app', 'build.mjs'),
    '--outdir',
    path.join(appRoot, 'app', 'dist'),
  ]);
  for (const entry of ['bin', 'server', 'node_modules', 'package.json']) {
    fs.symlinkSync(path.join(root, entry), path.join(appRoot, entry));
  }
  fs.mkdirSync(path.join(appRoot, 'renderer', 'dist'), { recursive: true });
  fs.writeFileSync(
    path.join(appRoot, 'renderer', 'dist', 'index.html'),
    '<!doctype html><title>Mallard</title><div id="root"></div>',
  );
  return appRoot;
}

let panelOrigin: string;
let appRoot: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-electron-'));
  dataDir = path.join(tmp, 'data');
  appRoot = await makeAppRoot();
  const configFile = path.join(tmp, 'mallard.yml');
  // Only the admin API listens; the mail protocols are off (port 0), which is all this test needs.
  const off = { port: 0, tls_port: 0 };
  fs.writeFileSync(
    configFile,
    stringifyYaml({
      data_dir: dataDir,
      hostname: 'localhost',
      log_level: 'warn',
      imap: { host: '127.0.0.1', ...off },
      pop3: { host: '127.0.0.1', ...off },
      lmtp: { host: '127.0.0.1', port: 0 },
      smtp: { host: '127.0.0.1', port: 0 },
      submission: { host: '127.0.0.1', port: 0, tls_port: 0 },
      admin: { host: '127.0.0.1', port: await freePort() },
    }),
  );
  app = fork(standIn, [path.join(appRoot, 'app', 'dist', 'main.cjs'), '--config', configFile], {
    cwd: tmp,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  app.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  app.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  exited = new Promise((resolve) => app.once('exit', (code) => resolve(code)));
  quitComplete = new Promise((resolve) => {
    app.on(
      'message',
      (message: { id?: number; type?: string; result?: unknown; error?: string; snapshot?: Snapshot }) => {
        if (message.type === 'quit-complete') resolve(message.snapshot!);
        if (message.id !== undefined) pending.get(message.id)?.(message);
      },
    );
  });
  const first = await until('the window to load the panel', async () => {
    const state = await snapshot();
    return state.windows[0]?.urls[0] ? state : null;
  });
  panelOrigin = new URL(first.windows[0]!.urls[0]!).origin;
}, 120_000);

afterAll(() => {
  if (app && app.exitCode === null) app.kill('SIGKILL');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the main process, built, from start to quit', () => {
  it('opens one hardened window on a working one-time login link of a loopback panel', async () => {
    const state = await snapshot();
    expect(state.dialogs).toEqual([]);
    expect(state.windows).toHaveLength(1);
    const { options, urls } = state.windows[0]!;
    expect(urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/panel\/login\?code=\S+$/);
    expect(options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    });
    expect(path.basename(String(options.webPreferences.preload))).toBe('preload.cjs');
    expect(fs.existsSync(String(options.webPreferences.preload))).toBe(true);

    // The real panel host honours the link once: a session cookie and a redirect to the panel.
    const login = await fetch(urls[0]!, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly/);
    expect((await fetch(urls[0]!, { redirect: 'manual' })).status).toBe(401);
  });

  it('registers every channel of the contract; refuses strangers and answers the panel', async () => {
    const state = await snapshot();
    expect(state.channels.sort()).toEqual(Object.keys(ipcInputSchemas).sort());

    const info = await invoke(IPC_CHANNELS.getAppInfo, `${panelOrigin}/users`);
    const version = (
      JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(info).toMatchObject({ ok: true, value: { version, dataDir, platform: process.platform } });

    const stranger = await invoke(IPC_CHANNELS.getAppInfo, 'https://evil.example/');
    expect(stranger).toEqual({
      ok: false,
      error: `getAppInfo() refused: only the control panel (${panelOrigin}) may use the desktop bridge, not https://evil.example`,
    });
    const frame = await invoke(IPC_CHANNELS.restartServer, `${panelOrigin}/`, [], false);
    expect(frame).toMatchObject({ ok: false, error: expect.stringMatching(/not a frame/) });
    const bad = await invoke(IPC_CHANNELS.openExternal, `${panelOrigin}/`, ['file:///etc/passwd']);
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/got file:/) });
  });

  it('the tray and the window follow the supervised server until it runs', async () => {
    const running = await until('the server to run', async () => {
      const state = await snapshot();
      return state.sent.find((message) => message.payload.state === 'running')?.payload;
    });
    expect(running.pid).toBeGreaterThan(0);
    expect(alive(running.pid!)).toBe(true);
    const state = await snapshot();
    expect(state.sent.every((message) => message.channel === IPC_CHANNELS.serverState)).toBe(true);
    expect(state.tooltips).toContain(`Mallard — server running (pid ${running.pid})`);
    expect(state.menus.at(-1)!.map((item) => item.label)).toEqual([
      `Server running (pid ${running.pid})`,
      undefined,
      'Open Mallard',
      'Restart server',
      undefined,
      'Quit Mallard',
    ]);
    const current = await invoke(IPC_CHANNELS.getServerState, `${panelOrigin}/`);
    expect(current).toMatchObject({ ok: true, value: { state: 'running', pid: running.pid } });
  });

  it('keeps the window on the panel and applies the session rules', async () => {
    expect(await ask('navigate', { kind: 'will-navigate', url: `${panelOrigin}/sessions` })).toEqual({
      prevented: false,
    });
    expect(await ask('navigate', { kind: 'will-navigate', url: 'https://example.org/docs' })).toEqual({
      prevented: true,
    });
    expect(await ask('navigate', { kind: 'will-redirect', url: 'http://127.0.0.1:1/' })).toEqual({
      prevented: true,
    });
    expect(await ask('windowOpen', { url: `${panelOrigin}/users` })).toEqual({ action: 'deny' });
    expect(await ask('windowOpen', { url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    await until('the external link to be handed over', async () => {
      const state = await snapshot();
      return state.externals.length > 0 ? state : null;
    });
    expect((await snapshot()).externals).toEqual(['https://example.org/docs']);

    expect(await ask('permission', { permission: 'media', requestingUrl: `${panelOrigin}/` })).toBe(false);
    const headers = await ask<{ responseHeaders: Record<string, string[]> }>('headers', {
      url: `${panelOrigin}/`,
      responseHeaders: { 'Content-Type': ['text/html'] },
    });
    expect(headers.responseHeaders['Content-Security-Policy']![0]).toMatch(
      /^default-src 'none'; script-src 'self'/,
    );
  });

  it('a second launch brings the same window forward', async () => {
    const windows = await ask<Array<{ shown: number; focused: number }>>('secondInstance');
    expect(windows).toHaveLength(1);
    expect(windows[0]!.focused).toBeGreaterThanOrEqual(1);
  });

  it('quitting waits until the server has stopped cleanly', async () => {
    const before = (await snapshot()).sent.find((message) => message.payload.state === 'running')!.payload;
    const first = await ask<Snapshot['quit']>('quit');
    // The first quit is held back while the server stops.
    expect(first).toMatchObject({ requests: 1, prevented: 1, done: false });
    const state = await quitComplete;
    expect(state.quit.done).toBe(true);
    expect(await exited).toBe(0);
    const states = state.sent.map((message) => message.payload.state);
    expect(states.slice(states.lastIndexOf('running'))).toEqual(['running', 'stopping', 'stopped']);
    // `mallard serve` exits by itself after SIGTERM (sessions got BYE, the store was closed).
    expect(state.sent.at(-1)!.payload.lastExit).toMatchObject({ code: 0, signal: null });
    expect(alive(before.pid!)).toBe(false);
    // The panel no longer listens.
    await expect(fetch(`${panelOrigin}/`)).rejects.toThrow();
  });
});

describe('the main process when the panel cannot start', () => {
  it('says why in an error box and quits', async () => {
    const configFile = path.join(tmp, 'broken.yml');
    fs.writeFileSync(
      configFile,
      stringifyYaml({ data_dir: path.join(tmp, 'broken-data'), admin: { port: 0 } }),
    );
    const broken = fork(standIn, [path.join(appRoot, 'app', 'dist', 'main.cjs'), '--config', configFile], {
      cwd: tmp,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stderr = '';
    broken.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<Snapshot>((resolve) =>
      broken.on('message', (message: { type?: string; snapshot?: Snapshot }) => {
        if (message.type === 'quit-complete') resolve(message.snapshot!);
      }),
    );
    const exitCode = new Promise<number | null>((resolve) => broken.once('exit', (code) => resolve(code)));
    const state = await done;
    expect(state.dialogs).toEqual([
      'Mallard could not start: admin.port is 0 (the admin API is off): the panel needs it; set admin.port, e.g. 8025',
    ]);
    expect(state.windows).toEqual([]);
    expect(stderr).toMatch(/admin\.port is 0/);
    expect(await exitCode).toBe(0);
  });
});
