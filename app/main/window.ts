/**
 * The panel window and the rules every web page of the app lives under. Thin on purpose: the
 * decisions are the plain functions of security/policy.ts; this file only applies them.
 */
import { BrowserWindow, shell, type Session, type WebContents } from 'electron';
import {
  contentSecurityPolicy,
  externalTarget,
  navigationAllowed,
  permissionAllowed,
  withContentSecurityPolicy,
} from './security/policy.ts';

function openOutside(url: string, panelOrigin: string): void {
  const target = externalTarget(url, panelOrigin);
  if (target === null) return;
  shell.openExternal(target).catch((error: Error) => {
    console.error(`mallard: could not open ${target}: ${error.message}`);
  });
}

/** Permissions and the CSP, for the session the panel window uses. */
export function hardenSession(session: Session, panelOrigin: string): void {
  const policy = contentSecurityPolicy(panelOrigin);
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders, policy) });
  });
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(permissionAllowed(permission, details.requestingUrl, panelOrigin));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    permissionAllowed(permission, requestingOrigin, panelOrigin),
  );
}

/**
 * For every WebContents the app ever creates: no new windows (links that leave the panel go to
 * the system's browser), no navigation or redirect off the panel's origin, no <webview>.
 */
export function guardContents(contents: WebContents, panelOrigin: string): void {
  contents.setWindowOpenHandler(({ url }) => {
    openOutside(url, panelOrigin);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (navigationAllowed(event.url, panelOrigin)) return;
    event.preventDefault();
    openOutside(event.url, panelOrigin);
  });
  contents.on('will-redirect', (event) => {
    if (!navigationAllowed(event.url, panelOrigin)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export interface MainWindowOptions {
  preloadPath: string;
  icon?: Electron.NativeImage;
}

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    title: 'Mallard',
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    show: false,
    icon: options.icon,
    autoHideMenuBar: true,
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  return window;
}
