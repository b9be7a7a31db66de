/**
 * The desktop app builds here even though Electron cannot run here: the bundles are made, load
 * nothing they must not, the preload obeys the sandbox's require rule and talks to the real IPC
 * handlers, and electron-builder accepts its configuration.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import vm from 'node:vm';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { IPC_CHANNELS, type AppInfo, type DesktopBridge } from './shared/ipc-contract.ts';
import { createIpcHandlers } from './main/ipc/handlers.ts';
import type { SupervisorStatus } from './supervisor/types.ts';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mainBundle = path.join(root, 'app', 'dist', 'main.cjs');
const preloadBundle = path.join(root, 'app', 'dist', 'preload.cjs');

/** Packages the main process must never load: the store engines belong to the server process. */
const FORBIDDEN = ['better-sqlite3', 'mongodb'];
/** Non-builtin modules the main bundle may require at load time (externals of app/build.mjs). */
const ALLOWED_AT_LOAD = ['electron', '@node-rs/argon2'];

/**
 * Requires the main bundle in plain Node with 'electron' either refused (as outside Electron) or
 * replaced by a stub that records calls. Never lets the real 'electron' package load: outside
 * Electron it would try to download the binary.
 */
const PROBE = String.raw`
const Module = require('node:module');
const [target, mode] = process.argv.slice(1);
const loaded = [];
const calls = [];
function stub(name) {
  const fn = function () { calls.push(name); return false; };
  return new Proxy(fn, { get: (_t, key) => (key === 'then' ? undefined : stub(name + '.' + String(key))) });
}
const electron = {};
for (const key of ['app', 'BrowserWindow', 'Menu', 'Tray', 'nativeImage', 'dialog', 'session', 'shell', 'ipcMain']) {
  electron[key] = stub(key);
}
const load = Module._load;
Module._load = function (request, parent) {
  const bare = request.replace(/^node:/, '');
  if (parent && parent.filename === target && !Module.builtinModules.includes(bare)) loaded.push(request);
  if (request === 'electron') {
    if (mode === 'block') throw new Error('electron is not available here');
    return electron;
  }
  return load.apply(this, arguments);
};
let error = null;
try { require(target); } catch (e) { error = e.message; }
process.stdout.write(JSON.stringify({ error, loaded, calls }));
`;

async function probeMain(mode: 'block' | 'stub') {
  const { stdout } = await run(process.execPath, ['-e', PROBE, mainBundle, mode], {
    cwd: root,
    timeout: 30_000,
  });
  return JSON.parse(stdout) as { error: string | null; loaded: string[]; calls: string[] };
}

function pngSize(file: string): [number, number] {
  const bytes = fs.readFileSync(file);
  expect(bytes.subarray(1, 4).toString('ascii')).toBe('PNG');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

beforeAll(async () => {
  const { stdout } = await run(process.execPath, [path.join(root, 'app', 'build.mjs')], { cwd: root });
  expect(stdout).toMatch(/main\.cjs/);
}, 120_000);

describe('app/build.mjs', () => {
  it('writes the main and preload bundles', () => {
    expect(fs.statSync(mainBundle).size).toBeGreaterThan(10_000);
    expect(fs.statSync(preloadBundle).size).toBeGreaterThan(500);
  });

  it('outside Electron, the main bundle fails on its electron import and nothing else', async () => {
    const result = await probeMain('block');
    expect(result.error).toBe('electron is not available here');
    for (const name of result.loaded) expect(ALLOWED_AT_LOAD).toContain(name);
  });

  it('the whole main bundle loads with only its allowed externals; a second instance quits at once', async () => {
    const result = await probeMain('stub');
    expect(result.error).toBeNull();
    expect(result.loaded).toContain('electron');
    for (const name of result.loaded) expect(ALLOWED_AT_LOAD).toContain(name);
    for (const name of FORBIDDEN) expect(result.loaded).not.toContain(name);
    // The stub says another instance holds the lock (it answers false): quit, start nothing.
    expect(result.calls).toEqual(['app.setName', 'app.requestSingleInstanceLock', 'app.quit']);
  });
});

describe('the preload bundle, under the sandbox rule, against the real IPC handlers', () => {
  const origin = 'http://127.0.0.1:40001';
  const info: AppInfo = {
    version: '0.1.0',
    electron: '45.3.4',
    chrome: '142',
    node: '22.20.0',
    platform: 'linux',
    dataDir: 'data',
  };
  const status: SupervisorStatus = {
    state: 'running',
    pid: 1234,
    startedAt: '2026-01-01T00:00:00.000Z',
    restarts: 0,
    lastExit: null,
    nextRestartAt: null,
  };

  function loadPreload() {
    const required: string[] = [];
    const exposed = new Map<string, unknown>();
    const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
    const opened: string[] = [];
    const handlers = createIpcHandlers({
      panelOrigin: origin,
      appInfo: () => info,
      openExternal: async (url) => void opened.push(url),
      openPath: async () => '',
      supervisor: { status: () => status, restart: async () => {} },
    });
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
      ipcRenderer: {
        // What ipcMain.handle does with (event, ...args): the adapter in register.ts.
        invoke: (channel: string, ...args: unknown[]) => {
          const handler = handlers[channel as keyof typeof handlers];
          if (!handler) return Promise.reject(new Error(`No handler registered for '${channel}'`));
          const sender = { senderFrameUrl: `${origin}/`, isMainFrame: true };
          return handler(sender, args.length > 1 ? args : args[0]);
        },
        on: (channel: string, listener: (...args: unknown[]) => void) => {
          if (!listeners.has(channel)) listeners.set(channel, new Set());
          listeners.get(channel)!.add(listener);
        },
        removeListener: (channel: string, listener: (...args: unknown[]) => void) =>
          listeners.get(channel)?.delete(listener),
      },
    };
    // A sandboxed preload's require knows 'electron' and a few builtins; ours needs only 'electron'.
    const sandboxRequire = (id: string) => {
      required.push(id);
      if (id === 'electron') return electron;
      throw new Error(`module not found: ${id}`);
    };
    const module = { exports: {} };
    vm.runInNewContext(fs.readFileSync(preloadBundle, 'utf8'), {
      require: sandboxRequire,
      module,
      exports: module.exports,
    });
    const bridge = exposed.get('mallardDesktop') as DesktopBridge;
    const emit = (channel: string, ...args: unknown[]) =>
      listeners.get(channel)?.forEach((l) => l({}, ...args));
    return { required, exposed, bridge, opened, listeners, emit };
  }

  it('requires only electron and exposes exactly the five functions', () => {
    const { required, exposed, bridge } = loadPreload();
    expect(required).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['mallardDesktop']);
    expect(Object.keys(bridge).sort()).toEqual([
      'getAppInfo',
      'onServerState',
      'openDataDirectory',
      'openExternal',
      'restartServer',
    ]);
    for (const fn of Object.values(bridge)) expect(typeof fn).toBe('function');
  });

  it('answers good calls and turns refusals into readable errors', async () => {
    const { bridge, opened } = loadPreload();
    expect(await bridge.getAppInfo()).toEqual(info);
    await bridge.openExternal('https://example.org/help');
    expect(opened).toEqual(['https://example.org/help']);
    await expect(bridge.openExternal('file:///etc/passwd')).rejects.toThrow(
      'openExternal(url): expected an https:, http: or mailto: link (got file:)',
    );
    await expect(bridge.restartServer()).resolves.toBeUndefined();
  });

  it('onServerState gives the current state, then each change, until unsubscribed', async () => {
    const { bridge, emit, listeners } = loadPreload();
    const seen: SupervisorStatus[] = [];
    const stop = bridge.onServerState((s) => seen.push(s));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual([status]);
    const stopping = { ...status, state: 'stopping' as const };
    emit(IPC_CHANNELS.serverState, stopping);
    expect(seen).toEqual([status, stopping]);
    stop();
    emit(IPC_CHANNELS.serverState, status);
    expect(seen).toHaveLength(2);
    expect(listeners.get(IPC_CHANNELS.serverState)?.size).toBe(0);
    expect(() => bridge.onServerState('not a function' as never)).toThrow('onServerState needs a function');
  });
});

describe('packaging configuration', () => {
  const config = parseYaml(fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as {
    extraMetadata: { main: string };
    files: string[];
    linux: { target: string[] };
    win: { target: string[] };
    mac: { target: string[] };
  };

  it('names the four targets and packs the built app', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(path.join(root, config.extraMetadata.main)).toBe(mainBundle);
    for (const pattern of ['app/dist/**', 'renderer/dist/**', 'server/**', 'bin/**', 'package.json']) {
      expect(config.files).toContain(pattern);
    }
  });

  it("passes electron-builder's own schema validation", async () => {
    const require = createRequire(path.join(root, 'package.json'));
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(config: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(
      validateConfiguration({ ...config, linux: { target: 'AppImage', bogus: 1 } }, new DebugLogger(false)),
    ).rejects.toThrow(/Invalid configuration object[\s\S]*configuration\.linux/);
  });

  it('has the icons electron-builder needs', () => {
    expect(pngSize(path.join(root, 'build', 'icon.png'))).toEqual([512, 512]);
    expect(pngSize(path.join(root, 'build', 'icons', '512x512.png'))).toEqual([512, 512]);
    expect(pngSize(path.join(root, 'build', 'icons', '256x256.png'))).toEqual([256, 256]);
  });
});
