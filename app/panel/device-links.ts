/**
 * One-time links that let a phone fetch one user's set-up files over the LAN: the admin makes one
 * from "Connect a device" (shown as a QR code); it works once, within 15 minutes, and gives a
 * short device session bound to that user. A device session reaches the device page and its two
 * downloads only — never the admin API, never the admin's pages.
 */
import crypto from 'node:crypto';

export const DEVICE_LINK_TTL_MS = 15 * 60_000;
/** How long the page and its downloads work after the link was opened. */
export const DEVICE_SESSION_MS = 15 * 60_000;
export const DEVICE_COOKIE = 'mallard_device';

export interface DeviceUser {
  id: string;
  address: string;
}

interface Entry {
  user: DeviceUser;
  expires: number;
}

export type LinkUse = { ok: true; user: DeviceUser } | { ok: false; reason: 'unknown' | 'expired' };

export class DeviceLinks {
  private readonly links = new Map<string, Entry>();
  private readonly sessions = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new link for `user`, valid `ttlMs` (at most DEVICE_LINK_TTL_MS: a shorter life is safer, never a longer one). */
  create(user: DeviceUser, ttlMs = DEVICE_LINK_TTL_MS): { code: string; expiresAt: string } {
    this.prune();
    const code = crypto.randomBytes(24).toString('base64url');
    const expires = this.now() + Math.min(ttlMs, DEVICE_LINK_TTL_MS);
    this.links.set(code, { user, expires });
    return { code, expiresAt: new Date(expires).toISOString() };
  }

  /** Uses up a link: a device session for its user, once, before it expires. */
  use(code: string): LinkUse & { session?: string } {
    const entry = this.links.get(code);
    if (!entry) return { ok: false, reason: 'unknown' };
    this.links.delete(code);
    if (entry.expires <= this.now()) return { ok: false, reason: 'expired' };
    const session = crypto.randomBytes(32).toString('base64url');
    this.sessions.set(session, { user: entry.user, expires: this.now() + DEVICE_SESSION_MS });
    return { ok: true, user: entry.user, session };
  }

  userOf(session: string | undefined): DeviceUser | null {
    if (!session) return null;
    const entry = this.sessions.get(session);
    if (!entry || entry.expires <= this.now()) return null;
    return entry.user;
  }

  private prune(): void {
    const now = this.now();
    for (const [code, entry] of this.links) if (entry.expires <= now) this.links.delete(code);
    for (const [id, entry] of this.sessions) if (entry.expires <= now) this.sessions.delete(id);
  }
}
