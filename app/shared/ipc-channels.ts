/**
 * The IPC channel names between the Electron main process and the preload. Kept apart from
 * ipc-contract.ts so the preload bundle holds these strings and not zod (which only main needs).
 */
export const IPC_CHANNELS = {
  /** invoke, no input → AppInfo */
  getAppInfo: 'mallard:get-app-info',
  /** invoke, a URL string → void; opens it in the user's browser or mail client */
  openExternal: 'mallard:open-external',
  /** invoke, no input → void; shows the data directory in the file manager */
  openDataDirectory: 'mallard:open-data-directory',
  /** invoke, no input → SupervisorStatus; the state onServerState starts from */
  getServerState: 'mallard:get-server-state',
  /** invoke, no input → void; stops and starts the supervised server */
  restartServer: 'mallard:restart-server',
  /** main → renderer event carrying a SupervisorStatus each time the server's state changes */
  serverState: 'mallard:server-state',
} as const;

export type IpcChannel = (typeof IPC_CHANNELS)[keyof typeof IPC_CHANNELS];

/**
 * What every invoke channel answers: the preload turns `ok: false` into an Error carrying only
 * `error`, so the renderer shows a readable sentence instead of Electron's "Error invoking remote
 * method ..." wrapping.
 */
export type IpcReply<T> = { ok: true; value: T } | { ok: false; error: string };
