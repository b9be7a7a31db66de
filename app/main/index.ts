/**
 * The Electron main process: one instance per user (a second launch focuses the window), the
 * panel host on a free loopback port supervising `mallard serve`, the window on a one-time login
 * link, the tray, and a quit that waits for the server to say BYE and close its store.
 *
 * The window shows the same renderer, served over HTTP by the same panel host, as `mallard panel`
 * does for a browser: one UI, one code path. Bundled by app/build.mjs into app/dist/main.cjs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BrowserWindow, app, dialog, session, shell } from 'electron';
import { startPanelHost, type PanelHost } from '../panel/host.ts';
import { IPC_CHANNELS } from '../shared/ipc-channels.ts';
import type { SupervisorStatus } from '../supervisor/types.ts';
import { createIpcHandlers } from './ipc/handlers.ts';
import { registerIpcHandlers } from './ipc/register.ts';
import { isPanelUrl } from './ipc/sender.ts';
import { createQuitCoordinator } from './quit.ts';
import { configFileFromArgv, serverCommand } from './server-command.ts';
import { createTray, trayIcon, type TrayHandle } from './tray.ts';
import { createMainWindow, guardContents, hardenSession } from './window.ts';

// The bundle is <root>/app/dist/main.cjs (CommonJS, so __dirname is defined); <root> holds bin/,
// server/, renderer/dist and node_modules, in a checkout and in the installed app alike.
const APP_ROOT = path.resolve(__dirname, '..', '..');
const PRELOAD = path.join(__dirname, 'preload.cjs');
const RENDERER_DIR = path.join(APP_ROOT, 'renderer', 'dist');
const QUIT_TIMEOUT_MS = 20_000;
// Read from package.json rather than app.getVersion(): started as `electron app/dist/main.cjs`,
// Electron finds no package.json beside the bundle and would report its own name and version.
const VERSION = (
  JSON.parse(fs.readFileSync(path.join(APP_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

let host: PanelHost | null = null;
let mainWindow: BrowserWindow | null = null;
let tray: TrayHandle | null = null;

function log(message: string): void {
  console.error(`mallard: ${message}`);
}

function panelOrigin(): string {
  return new URL(host!.url).origin;
}

/** Shows the window, making a new one (with a fresh login link) when it was closed. */
function showWindow(): void {
  if (!host) return;
  if (mainWindow && !mainWindow.isDestroyed()) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
    return;
  }
  mainWindow = createMainWindow({ preloadPath: PRELOAD, icon: trayIcon() });
  mainWindow.on('closed', () => (mainWindow = null));
  mainWindow
    .loadURL(host.createLoginLink())
    .catch((error: Error) => log(`cannot load the panel: ${error.message}`));
}

/** Sends a state change to the window, if it still shows the panel. */
function pushState(status: SupervisorStatus): void {
  const contents = mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents : null;
  if (contents && isPanelUrl(contents.getURL(), panelOrigin()))
    contents.send(IPC_CHANNELS.serverState, status);
}

function restartServer(): void {
  host?.supervisor?.restart().catch((error: Error) => log(`restart failed: ${error.message}`));
}

async function start(): Promise<PanelHost> {
  await app.whenReady();
  if (!fs.existsSync(path.join(RENDERER_DIR, 'index.html'))) {
    throw new Error(`the control panel is not built (no ${RENDERER_DIR}); run \`npm run build\` first`);
  }
  const configFile = configFileFromArgv(process.argv);
  host = await startPanelHost({
    configFile,
    // The desktop panel is for this machine only, whatever panel.host says.
    host: '127.0.0.1',
    port: 0,
    supervise: true,
    rendererDir: RENDERER_DIR,
    serverCommand: serverCommand({
      packaged: app.isPackaged,
      appRoot: APP_ROOT,
      execPath: process.execPath,
      env: process.env,
      configFile,
    }),
  });
  const origin = panelOrigin();
  const dataDir = host.config.data_dir;
  const supervisor = host.supervisor;

  hardenSession(session.defaultSession, origin);
  app.on('web-contents-created', (_event, contents) => guardContents(contents, origin));
  registerIpcHandlers(
    createIpcHandlers({
      panelOrigin: origin,
      appInfo: () => ({
        version: VERSION,
        electron: process.versions.electron,
        chrome: process.versions.chrome,
        node: process.versions.node,
        platform: process.platform,
        dataDir,
      }),
      openExternal: (url) => shell.openExternal(url),
      openPath: (dir) => shell.openPath(dir),
      supervisor,
    }),
  );

  try {
    tray = createTray({ open: showWindow, restartServer, quit: () => app.quit() });
    tray.update(supervisor?.status() ?? null);
  } catch (error) {
    // Some Linux desktops have no tray: the app then quits when its window closes.
    log(`no tray icon: ${(error as Error).message}`);
  }
  supervisor?.on('state', (status) => {
    tray?.update(status);
    pushState(status);
  });
  showWindow();
  return host;
}

function main(): void {
  // The same name (so the same profile directory and single-instance lock) from a checkout as installed.
  app.setName('Mallard');
  if (!app.requestSingleInstanceLock()) {
    // Another Mallard runs: it receives 'second-instance' and shows its window.
    app.quit();
    return;
  }
  const starting = start();
  const quit = createQuitCoordinator({
    close: async () => {
      tray?.destroy();
      tray = null;
      // Also closes a host whose start failed after it began listening.
      await starting.catch(() => null);
      await host?.close();
    },
    quit: () => app.quit(),
    timeoutMs: QUIT_TIMEOUT_MS,
    log,
  });
  starting.catch((error: Error) => {
    log(error.message);
    dialog.showErrorBox('Mallard could not start', error.message);
    app.quit();
  });

  app.on('second-instance', () => showWindow());
  app.on('activate', () => showWindow());
  // With a tray icon the server keeps running (and serving mail) after the window is closed.
  app.on('window-all-closed', () => {
    if (!tray) app.quit();
  });
  app.on('before-quit', (event) => quit.beforeQuit(event));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
}

main();
