import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFileFromArgv, serverCommand } from './server-command.ts';
import { trayModel } from './tray-model.ts';

const root = path.resolve('some', 'app');
const bin = path.join(root, 'bin', 'mallard.mjs');

describe('the server command of the desktop app', () => {
  it('an installed app runs the server on its own executable as Node', () => {
    const command = serverCommand({
      packaged: true,
      appRoot: root,
      execPath: '/opt/Mallard/mallard-panel',
      env: { HOME: '/home/a' },
      configFile: 'mallard.yml',
    });
    expect(command).toEqual({
      command: '/opt/Mallard/mallard-panel',
      args: [bin, 'serve', '--config', path.resolve('mallard.yml')],
      env: { HOME: '/home/a', ELECTRON_RUN_AS_NODE: '1' },
    });
  });

  it('a checkout runs it on the Node in PATH (or MALLARD_NODE), never as Electron', () => {
    const plain = serverCommand({
      packaged: false,
      appRoot: root,
      execPath: '/x/electron',
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
    expect(plain).toEqual({ command: 'node', args: [bin, 'serve'], env: {} });
    const chosen = serverCommand({
      packaged: false,
      appRoot: root,
      execPath: '/x/electron',
      env: { MALLARD_NODE: '/usr/bin/node20' },
    });
    expect(chosen.command).toBe('/usr/bin/node20');
  });

  it('reads --config from the app arguments', () => {
    expect(configFileFromArgv(['/x/electron', 'app/dist/main.cjs'])).toBeUndefined();
    expect(configFileFromArgv(['/opt/Mallard/mallard-panel', '--config', 'a.yml'])).toBe(
      path.resolve('a.yml'),
    );
    expect(configFileFromArgv(['mallard-panel', '--config=/etc/mallard.yml'])).toBe('/etc/mallard.yml');
    expect(() => configFileFromArgv(['mallard-panel', '--config'])).toThrow('--config needs a file path');
    expect(() => configFileFromArgv(['mallard-panel', '--config', '--inspect'])).toThrow(
      '--config needs a file path',
    );
    expect(() => configFileFromArgv(['mallard-panel', '--config='])).toThrow('--config needs a file path');
  });
});

describe('the tray', () => {
  const base = { pid: null, startedAt: null, restarts: 0, lastExit: null, nextRestartAt: null };
  it.each([
    [{ ...base, state: 'running' as const, pid: 4242 }, 'Server running (pid 4242)', true],
    [{ ...base, state: 'starting' as const }, 'Server starting…', true],
    [{ ...base, state: 'stopping' as const }, 'Server stopping…', false],
    [{ ...base, state: 'stopped' as const }, 'Server stopped', true],
    [null, 'Server not run by this app', false],
  ])('shows %o as %j', (status, label, canRestart) => {
    const model = trayModel(status);
    expect(model.statusLabel).toBe(label);
    expect(model.canRestart).toBe(canRestart);
    expect(model.tooltip.startsWith('Mallard — ')).toBe(true);
  });

  it('counts down to the next restart in backoff', () => {
    const now = Date.parse('2026-01-01T10:00:00Z');
    const status = { ...base, state: 'backoff' as const, nextRestartAt: '2026-01-01T10:00:07.500Z' };
    expect(trayModel(status, now).statusLabel).toBe('Server stopped unexpectedly; restarting in 8 s');
    expect(trayModel(status, now).tooltip).toBe('Mallard — server stopped unexpectedly; restarting in 8 s');
  });
});
