/** The tray icon: the server's state at a glance, and Open, Restart server and Quit. */
import { Menu, Tray, nativeImage, type NativeImage } from 'electron';
import type { SupervisorStatus } from '../supervisor/types.ts';
import { trayIconPng1x, trayIconPng2x } from './tray-icon-data.ts';
import { trayModel } from './tray-model.ts';

export interface TrayActions {
  open(): void;
  restartServer(): void;
  quit(): void;
}

export interface TrayHandle {
  update(status: SupervisorStatus | null): void;
  destroy(): void;
}

/** The duck icon; macOS menu bars want about 18 points, other trays take 32 px (64 px on HiDPI). */
export function trayIcon(): NativeImage {
  const image = nativeImage.createFromBuffer(Buffer.from(trayIconPng1x, 'base64'), { scaleFactor: 1 });
  image.addRepresentation({ scaleFactor: 2, buffer: Buffer.from(trayIconPng2x, 'base64') });
  return process.platform === 'darwin' ? image.resize({ width: 18, height: 18 }) : image;
}

export function createTray(actions: TrayActions): TrayHandle {
  const tray = new Tray(trayIcon());
  // Windows and most Linux trays open on click; macOS shows the menu.
  tray.on('click', () => actions.open());
  let backoffTimer: NodeJS.Timeout | null = null;

  const update = (status: SupervisorStatus | null) => {
    if (backoffTimer) clearTimeout(backoffTimer);
    backoffTimer = null;
    const model = trayModel(status);
    tray.setToolTip(model.tooltip);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: model.statusLabel, enabled: false },
        { type: 'separator' },
        { label: 'Open Mallard', click: () => actions.open() },
        { label: 'Restart server', enabled: model.canRestart, click: () => actions.restartServer() },
        { type: 'separator' },
        { label: 'Quit Mallard', click: () => actions.quit() },
      ]),
    );
    // The backoff line counts down; refresh it each second until the state changes.
    if (status?.state === 'backoff') backoffTimer = setTimeout(() => update(status), 1000);
  };

  return {
    update,
    destroy() {
      if (backoffTimer) clearTimeout(backoffTimer);
      tray.destroy();
    },
  };
}
