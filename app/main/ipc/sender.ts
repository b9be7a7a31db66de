/**
 * Who may call the desktop bridge: only the panel's own page, in the window's main frame. A frame
 * of another origin (which navigation rules should already keep out) or a sub-frame is refused, so
 * that nothing but the panel the app itself loaded can open links or restart the server.
 */

/** The part of an Electron IpcMainInvokeEvent the checks need (plain data, testable without Electron). */
export interface IpcSenderInfo {
  /** URL of the frame that sent the message; null when that frame is gone. */
  senderFrameUrl: string | null;
  isMainFrame: boolean;
}

/** The origin of a URL, or null when it is not a URL with an origin. */
export function originOf(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/** True when `url` belongs to the panel (same scheme, host and port). */
export function isPanelUrl(url: string, panelOrigin: string): boolean {
  return originOf(url) === panelOrigin;
}

/** Why this sender is refused, or null when it is the panel's main frame. */
export function senderProblem(sender: IpcSenderInfo, panelOrigin: string): string | null {
  if (sender.senderFrameUrl === null) return 'the calling page is gone';
  if (!isPanelUrl(sender.senderFrameUrl, panelOrigin)) {
    return `only the control panel (${panelOrigin}) may use the desktop bridge, not ${originOf(sender.senderFrameUrl) ?? 'this page'}`;
  }
  if (!sender.isMainFrame) return 'only the main page of the window may use the desktop bridge, not a frame';
  return null;
}
