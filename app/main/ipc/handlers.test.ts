import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { IPC_CHANNELS, type AppInfo, type IpcReply } from '../../shared/ipc-contract.ts';
import { ServerSupervisor } from '../../supervisor/supervisor.ts';
import type { SupervisorStatus } from '../../supervisor/types.ts';
import { createIpcHandlers, type IpcDeps } from './handlers.ts';
import type { IpcSenderInfo } from './sender.ts';

const ORIGIN = 'http://127.0.0.1:43117';
const panelPage: IpcSenderInfo = { senderFrameUrl: `${ORIGIN}/users?page=2`, isMainFrame: true };

const info: AppInfo = {
  version: '0.1.0',
  electron: '45.3.4',
  chrome: '142.0.0.0',
  node: '22.20.0',
  platform: 'linux',
  dataDir: '/srv/mallard-data',
};

/** Deps whose side effects (the system browser, the file manager) are written down instead. */
function setup(overrides: Partial<IpcDeps> = {}) {
  const opened: string[] = [];
  const shown: string[] = [];
  const deps: IpcDeps = {
    panelOrigin: ORIGIN,
    appInfo: () => info,
    openExternal: async (url) => void opened.push(url),
    openPath: async (dir) => {
      shown.push(dir);
      return '';
    },
    supervisor: null,
    ...overrides,
  };
  return { handlers: createIpcHandlers(deps), opened, shown };
}

function refusal(reply: IpcReply<unknown>): string {
  if (reply.ok) throw new Error(`expected a refusal, got ${JSON.stringify(reply.value)}`);
  return reply.error;
}

describe('IPC handlers: the sender', () => {
  const strangers: Array<[string, IpcSenderInfo, RegExp]> = [
    [
      'another origin',
      { senderFrameUrl: 'https://evil.example/', isMainFrame: true },
      /not https:\/\/evil\.example/,
    ],
    [
      'another port on loopback',
      { senderFrameUrl: 'http://127.0.0.1:9999/', isMainFrame: true },
      /only the control panel/,
    ],
    [
      'localhost instead of 127.0.0.1',
      { senderFrameUrl: 'http://localhost:43117/', isMainFrame: true },
      /only the control panel/,
    ],
    ['a file: page', { senderFrameUrl: 'file:///etc/passwd', isMainFrame: true }, /not this page/],
    ['a sub-frame of the panel', { senderFrameUrl: `${ORIGIN}/`, isMainFrame: false }, /not a frame/],
    ['a frame that is gone', { senderFrameUrl: null, isMainFrame: false }, /page is gone/],
    ['garbage for a URL', { senderFrameUrl: 'not a url', isMainFrame: true }, /only the control panel/],
  ];

  it.each(strangers)(
    'refuses %s on every channel, before looking at the input',
    async (_name, sender, why) => {
      const { handlers, opened, shown } = setup();
      for (const [channel, handler] of Object.entries(handlers)) {
        const input = channel === IPC_CHANNELS.openExternal ? 'https://example.org/' : undefined;
        const error = refusal(await handler(sender, input));
        expect(error).toMatch(/refused: /);
        expect(error).toMatch(why);
      }
      expect(opened).toEqual([]);
      expect(shown).toEqual([]);
    },
  );
});

describe('IPC handlers: the input', () => {
  const badLinks: Array<[string, unknown, RegExp]> = [
    ['a number', 42, /expected a link as text/],
    ['an object', { url: 'https://example.org/' }, /expected a link as text/],
    ['nothing', undefined, /expected a link as text/],
    ['two arguments', ['https://example.org/', 'x'], /expected a link as text/],
    ['a relative path', '/users', /expected a complete link/],
    ['javascript:', 'javascript:alert(1)', /expected an https:, http: or mailto: link \(got javascript:\)/],
    ['file:', 'file:///etc/passwd', /got file:/],
    ['a custom scheme', 'ms-msdt:/id PCWDiagnostic', /got ms-msdt:/],
    ['a web link with credentials', 'https://bank.example@evil.example/', /without a user name or password/],
    ['an empty mailto:', 'mailto:', /with an address/],
    ['a very long link', `https://example.org/${'a'.repeat(3000)}`, /at most 2048 characters/],
  ];

  it.each(badLinks)('openExternal refuses %s with a readable reason', async (_name, input, why) => {
    const { handlers, opened } = setup();
    const error = refusal(await handlers[IPC_CHANNELS.openExternal](panelPage, input));
    expect(error).toMatch(/^openExternal\(url\): expected /);
    expect(error).toMatch(why);
    expect(opened).toEqual([]);
  });

  it.each([IPC_CHANNELS.getAppInfo, IPC_CHANNELS.openDataDirectory, IPC_CHANNELS.restartServer])(
    '%s refuses an argument',
    async (channel) => {
      const { handlers, shown } = setup();
      const error = refusal(await handlers[channel](panelPage, { force: true }));
      expect(error).toMatch(/\(\): expected no argument$/);
      expect(shown).toEqual([]);
    },
  );
});

describe('IPC handlers: good calls', () => {
  it('getAppInfo answers the app info', async () => {
    const { handlers } = setup();
    expect(await handlers[IPC_CHANNELS.getAppInfo](panelPage, undefined)).toEqual({ ok: true, value: info });
  });

  it.each([
    ['https://github.com/mallard/mallard/issues', 'https://github.com/mallard/mallard/issues'],
    ['  http://example.org  ', 'http://example.org/'],
    ['mailto:postmaster@example.org?subject=Hello', 'mailto:postmaster@example.org?subject=Hello'],
  ])('openExternal hands %j to the system as %j', async (input, expected) => {
    const { handlers, opened } = setup();
    expect(await handlers[IPC_CHANNELS.openExternal](panelPage, input)).toEqual({
      ok: true,
      value: undefined,
    });
    expect(opened).toEqual([expected]);
  });

  it('openDataDirectory opens the data directory, and says so when the system cannot', async () => {
    const { handlers, shown } = setup();
    expect(await handlers[IPC_CHANNELS.openDataDirectory](panelPage, undefined)).toEqual({
      ok: true,
      value: undefined,
    });
    expect(shown).toEqual(['/srv/mallard-data']);

    const failing = setup({ openPath: async () => 'Failed to open path' });
    expect(refusal(await failing.handlers[IPC_CHANNELS.openDataDirectory](panelPage, undefined))).toBe(
      'openDataDirectory() failed: could not open the data directory /srv/mallard-data: Failed to open path',
    );
  });

  it('a failing side effect becomes a refusal, not a crash', async () => {
    const { handlers } = setup({
      openExternal: async () => {
        throw new Error('no browser is installed');
      },
    });
    expect(refusal(await handlers[IPC_CHANNELS.openExternal](panelPage, 'https://example.org/'))).toBe(
      'openExternal(url) failed: no browser is installed',
    );
  });

  it('without a supervised server, state and restart say why they cannot answer', async () => {
    const { handlers } = setup();
    for (const channel of [IPC_CHANNELS.getServerState, IPC_CHANNELS.restartServer]) {
      expect(refusal(await handlers[channel](panelPage, undefined))).toMatch(/does not run the server/);
    }
  });
});

describe('IPC handlers with a real supervised process', () => {
  let supervisor: ServerSupervisor | null = null;
  afterEach(async () => {
    await supervisor?.stop();
    supervisor = null;
  });

  async function reachState(
    target: ServerSupervisor,
    state: SupervisorStatus['state'],
  ): Promise<SupervisorStatus> {
    while (target.status().state !== state) await once(target, 'state');
    return target.status();
  }

  /** Waits until the child printed that its SIGTERM handler is in place. */
  async function childReady(target: ServerSupervisor): Promise<void> {
    const seen = () => target.logs().some((line) => line.text === `ready ${target.status().pid}`);
    while (!seen()) await once(target, 'log');
  }

  it('getServerState reports it and restartServer replaces the process', async () => {
    // A stand-in for `mallard serve`: runs until SIGTERM, then exits cleanly.
    const script =
      "setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0)); console.log('ready', process.pid);";
    supervisor = new ServerSupervisor({
      command: process.execPath,
      args: ['-e', script],
      stopTimeoutMs: 5000,
    });
    supervisor.start();
    const first = await reachState(supervisor, 'running');
    await childReady(supervisor);
    const { handlers } = setup({ supervisor });

    const state = await handlers[IPC_CHANNELS.getServerState](panelPage, undefined);
    expect(state).toEqual({ ok: true, value: first });
    expect(first.pid).toBeGreaterThan(0);

    expect(await handlers[IPC_CHANNELS.restartServer](panelPage, undefined)).toEqual({
      ok: true,
      value: undefined,
    });
    const second = await reachState(supervisor, 'running');
    await childReady(supervisor);
    expect(second.pid).toBeGreaterThan(0);
    expect(second.pid).not.toBe(first.pid);
    expect(second.lastExit).toMatchObject({ code: 0, signal: null });
    // A manual restart is not counted as a crash restart.
    expect(second.restarts).toBe(0);
    // The first process is really gone.
    expect(() => process.kill(first.pid!, 0)).toThrow();
  });
});
