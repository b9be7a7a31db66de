/**
 * The main-process side of the desktop bridge as plain functions: each handler checks who sent the
 * call, validates the input with the contract's zod schema, then acts through `IpcDeps`. Every
 * outcome is an IpcReply, so a refusal reaches the renderer as a sentence, never as a crash.
 * Nothing here imports Electron: register.ts connects these to ipcMain.
 */
import {
  IPC_CHANNELS,
  bridgeFunctionNames,
  ipcInputSchemas,
  type AppInfo,
  type DesktopServerStatus,
  type InvokeChannel,
  type IpcReply,
  type IpcResults,
} from '../../shared/ipc-contract.ts';
import { senderProblem, type IpcSenderInfo } from './sender.ts';

/** The supervisor's part the bridge uses; null when the panel runs without one. */
export interface SupervisorControl {
  status(): DesktopServerStatus;
  restart(): Promise<void>;
}

export interface IpcDeps {
  /** Origin of the panel the window loads (http://127.0.0.1:PORT). */
  panelOrigin: string;
  appInfo(): AppInfo;
  /** Opens a checked link outside the app (shell.openExternal). */
  openExternal(url: string): Promise<void>;
  /** Opens a directory in the file manager; resolves to an error text, '' on success (shell.openPath). */
  openPath(dir: string): Promise<string>;
  supervisor: SupervisorControl | null;
}

export type IpcHandler = (sender: IpcSenderInfo, input: unknown) => Promise<IpcReply<unknown>>;

type Actions = { [C in InvokeChannel]: (input: never) => Promise<IpcResults[C]> | IpcResults[C] };

function actions(deps: IpcDeps): Actions {
  const supervisor = (): SupervisorControl => {
    if (!deps.supervisor) throw new Error('this panel does not run the server, so it cannot restart it');
    return deps.supervisor;
  };
  return {
    [IPC_CHANNELS.getAppInfo]: () => deps.appInfo(),
    [IPC_CHANNELS.openExternal]: async (url: string) => {
      await deps.openExternal(url);
    },
    [IPC_CHANNELS.openDataDirectory]: async () => {
      const dir = deps.appInfo().dataDir;
      const problem = await deps.openPath(dir);
      if (problem) throw new Error(`could not open the data directory ${dir}: ${problem}`);
    },
    [IPC_CHANNELS.getServerState]: () => supervisor().status(),
    [IPC_CHANNELS.restartServer]: async () => {
      await supervisor().restart();
    },
  };
}

/** Handlers for every invoke channel of the contract. */
export function createIpcHandlers(deps: IpcDeps): Record<InvokeChannel, IpcHandler> {
  const act = actions(deps);
  const handlers = {} as Record<InvokeChannel, IpcHandler>;
  for (const channel of Object.keys(ipcInputSchemas) as InvokeChannel[]) {
    const name = bridgeFunctionNames[channel];
    handlers[channel] = async (sender, input) => {
      const refused = senderProblem(sender, deps.panelOrigin);
      if (refused) return { ok: false, error: `${name} refused: ${refused}` };
      const parsed = ipcInputSchemas[channel].safeParse(input);
      if (!parsed.success) {
        const expected = parsed.error.issues.map((issue) => issue.message).join('; ');
        return { ok: false, error: `${name}: expected ${expected}` };
      }
      try {
        const run = act[channel] as (value: unknown) => Promise<unknown> | unknown;
        return { ok: true, value: await run(parsed.data) };
      } catch (error) {
        return { ok: false, error: `${name} failed: ${(error as Error).message}` };
      }
    };
  }
  return handlers;
}
