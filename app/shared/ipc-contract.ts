/**
 * The contract between the Electron main process, the preload and the renderer: channel names,
 * the bridge the preload exposes as `window.mallardDesktop`, result types, and a zod schema for
 * every input the main process accepts. The renderer imports TYPES only from here (it declares
 * `window.mallardDesktop?: DesktopBridge` itself); in a plain browser the bridge is absent.
 */
import { z } from 'zod';
import type { SupervisorStatus } from '../supervisor/types.ts';

import { IPC_CHANNELS } from './ipc-channels.ts';

export { IPC_CHANNELS, type IpcChannel, type IpcReply } from './ipc-channels.ts';

/** The supervised server's state as the desktop bridge reports it. */
export type DesktopServerStatus = SupervisorStatus;

export interface AppInfo {
  /** Mallard's version (package.json). */
  version: string;
  electron: string;
  chrome: string;
  node: string;
  platform: NodeJS.Platform;
  /** The server's data directory (data_dir of the configuration). */
  dataDir: string;
}

/** What the preload exposes to the renderer as `window.mallardDesktop`. */
export interface DesktopBridge {
  getAppInfo(): Promise<AppInfo>;
  /** Opens an https:, http: or mailto: link outside the app; anything else is refused. */
  openExternal(url: string): Promise<void>;
  /** Shows the data directory in the system's file manager. */
  openDataDirectory(): Promise<void>;
  /**
   * Calls `callback` with the current state, then on every change; returns the function that
   * stops it.
   */
  onServerState(callback: (status: DesktopServerStatus) => void): () => void;
  /** Stops the server (its sessions get BYE) and starts it again; resolves once it is restarting. */
  restartServer(): Promise<void>;
}

export const EXTERNAL_PROTOCOLS = ['https:', 'http:', 'mailto:'] as const;
const MAX_URL_LENGTH = 2048;

/**
 * Why a link may not leave the app, or null when it may: only https:, http: and mailto:, web links
 * with a host and without user:password@ (which hides the real host from the reader).
 */
export function externalUrlProblem(text: string): string | null {
  if (text.length > MAX_URL_LENGTH) return `a link of at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'a complete link such as https://example.org/';
  }
  if (!(EXTERNAL_PROTOCOLS as readonly string[]).includes(url.protocol)) {
    return `an https:, http: or mailto: link (got ${url.protocol})`;
  }
  if (url.protocol === 'mailto:') return url.pathname.length > 0 ? null : 'a mailto: link with an address';
  if (url.hostname === '') return 'a web link with a host name';
  if (url.username !== '' || url.password !== '') return 'a web link without a user name or password in it';
  return null;
}

const noInput = z.undefined({ error: 'no argument' });

export const externalUrlSchema = z
  .string({ error: 'a link as text' })
  .trim()
  .superRefine((text, ctx) => {
    const problem = externalUrlProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((text) => new URL(text).href);

/** The input schema of every invoke channel, by channel name. */
export const ipcInputSchemas = {
  [IPC_CHANNELS.getAppInfo]: noInput,
  [IPC_CHANNELS.openExternal]: externalUrlSchema,
  [IPC_CHANNELS.openDataDirectory]: noInput,
  [IPC_CHANNELS.getServerState]: noInput,
  [IPC_CHANNELS.restartServer]: noInput,
} as const;

/** The bridge function each invoke channel serves, to name it in refusals. */
export const bridgeFunctionNames: Record<InvokeChannel, string> = {
  [IPC_CHANNELS.getAppInfo]: 'getAppInfo()',
  [IPC_CHANNELS.openExternal]: 'openExternal(url)',
  [IPC_CHANNELS.openDataDirectory]: 'openDataDirectory()',
  [IPC_CHANNELS.getServerState]: 'onServerState(callback)',
  [IPC_CHANNELS.restartServer]: 'restartServer()',
};

export type InvokeChannel = keyof typeof ipcInputSchemas;

/** The result each invoke channel answers with (inside IpcReply). */
export interface IpcResults {
  [IPC_CHANNELS.getAppInfo]: AppInfo;
  [IPC_CHANNELS.openExternal]: void;
  [IPC_CHANNELS.openDataDirectory]: void;
  [IPC_CHANNELS.getServerState]: DesktopServerStatus;
  [IPC_CHANNELS.restartServer]: void;
}

export type IpcInput<C extends InvokeChannel> = z.output<(typeof ipcInputSchemas)[C]>;
