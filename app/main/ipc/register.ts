/** Connects the plain IPC handlers to Electron's ipcMain: the thin adapter the handlers are tested without. */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { IpcHandler } from './handlers.ts';
import type { IpcSenderInfo } from './sender.ts';

function senderInfo(event: IpcMainInvokeEvent): IpcSenderInfo {
  try {
    const frame = event.senderFrame;
    if (!frame) return { senderFrameUrl: null, isMainFrame: false };
    return { senderFrameUrl: frame.url, isMainFrame: frame.parent === null };
  } catch {
    // Reading a frame that navigated away or was destroyed can throw.
    return { senderFrameUrl: null, isMainFrame: false };
  }
}

/** Registers every handler; returns the function that removes them again. */
export function registerIpcHandlers(handlers: Record<string, IpcHandler>): () => void {
  const channels = Object.keys(handlers);
  for (const channel of channels) {
    const handler = handlers[channel]!;
    // One argument is the input; more than one is passed as an array, which no schema accepts.
    ipcMain.handle(channel, (event, ...args: unknown[]) =>
      handler(senderInfo(event), args.length > 1 ? args : args[0]),
    );
  }
  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel);
  };
}
