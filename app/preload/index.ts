/**
 * The preload of the panel window (sandboxed, context-isolated): exposes `window.mallardDesktop`,
 * a few named functions, and never ipcRenderer itself. The main process checks the caller and
 * validates every input again; this side only shapes the calls and unwraps the replies.
 * Bundled to app/dist/preload.cjs, which may require nothing but 'electron' (sandbox rule).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CHANNELS, type IpcReply } from '../shared/ipc-channels.ts';
import type { AppInfo, DesktopBridge, DesktopServerStatus } from '../shared/ipc-contract.ts';

async function call<T>(channel: string, ...input: unknown[]): Promise<T> {
  const reply = (await ipcRenderer.invoke(channel, ...input)) as IpcReply<T>;
  if (!reply.ok) throw new Error(reply.error);
  return reply.value;
}

const bridge: DesktopBridge = {
  getAppInfo: () => call<AppInfo>(IPC_CHANNELS.getAppInfo),
  openExternal: (url: string) => call<void>(IPC_CHANNELS.openExternal, url),
  openDataDirectory: () => call<void>(IPC_CHANNELS.openDataDirectory),
  restartServer: () => call<void>(IPC_CHANNELS.restartServer),
  onServerState(callback) {
    if (typeof callback !== 'function') throw new TypeError('onServerState needs a function');
    let active = true;
    let heard = false;
    const listener = (_event: IpcRendererEvent, status: DesktopServerStatus) => {
      heard = true;
      callback(status);
    };
    ipcRenderer.on(IPC_CHANNELS.serverState, listener);
    // The current state first, unless a newer one already arrived as an event.
    call<DesktopServerStatus>(IPC_CHANNELS.getServerState).then(
      (status) => {
        if (active && !heard) callback(status);
      },
      () => {},
    );
    return () => {
      active = false;
      ipcRenderer.removeListener(IPC_CHANNELS.serverState, listener);
    };
  },
};

contextBridge.exposeInMainWorld('mallardDesktop', bridge);
