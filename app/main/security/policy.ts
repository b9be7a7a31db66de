/**
 * The window's security decisions as plain functions (window.ts applies them through Electron):
 * the window stays on the panel's origin, links elsewhere open in the user's browser after the
 * same check as the bridge's openExternal, no permission is granted except writing to the
 * clipboard (the panel copies app passwords), and every response gets a strict CSP as a second
 * layer behind the one the panel host sends.
 */
import { externalUrlProblem } from '../../shared/ipc-contract.ts';
import { isPanelUrl } from '../ipc/sender.ts';

/** In-window navigation (will-navigate, will-redirect) is allowed only within the panel. */
export function navigationAllowed(targetUrl: string, panelOrigin: string): boolean {
  return isPanelUrl(targetUrl, panelOrigin);
}

/**
 * What to do with a link that would leave the panel (window.open, target=_blank, or a navigation
 * that was refused): the URL to hand to the system's browser or mail client, or null to drop it.
 * The panel's own pages never open in a second window.
 */
export function externalTarget(url: string, panelOrigin: string): string | null {
  if (isPanelUrl(url, panelOrigin)) return null;
  return externalUrlProblem(url) === null ? new URL(url).href : null;
}

/** Permissions granted to the panel's page; everything else (camera, notifications, …) is refused. */
const GRANTED = new Set(['clipboard-sanitized-write']);

export function permissionAllowed(permission: string, requestingUrl: string, panelOrigin: string): boolean {
  return GRANTED.has(permission) && isPanelUrl(requestingUrl, panelOrigin);
}

/**
 * The CSP: scripts, styles, data and the event stream only from the panel itself; inline styles
 * because Mantine sets style attributes and a <style> of CSS variables; data:/blob: images for QR
 * codes and downloads; no plugins, frames, base-URI changes or foreign form targets.
 */
export function contentSecurityPolicy(panelOrigin: string): string {
  const ws = panelOrigin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${ws}`,
    "manifest-src 'self'",
    "object-src 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/**
 * The response headers with our CSP added. A page answering with several policies must satisfy
 * all of them, so the panel host's own policy stays in force and ours can only narrow it.
 */
export function withContentSecurityPolicy(
  headers: Record<string, string[]> | undefined,
  policy: string,
): Record<string, string[]> {
  const result: Record<string, string[]> = { ...headers };
  const key = Object.keys(result).find((name) => name.toLowerCase() === 'content-security-policy');
  if (key) result[key] = [...(result[key] ?? []), policy];
  else result['Content-Security-Policy'] = [policy];
  return result;
}
