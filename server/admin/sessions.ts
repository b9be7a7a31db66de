/**
 * The session registry: every live IMAP, POP3, LMTP and SMTP session of this server process, for
 * the admin API (list, details, kick) and its event stream.
 *
 * Protocols feed it through a handle, and only when `services.sessions` is set (it is optional, so
 * protocol code and tests work without it):
 *
 *   const handle = services.sessions?.open({ id, protocol, remoteAddress, ..., close: (text) => ... });
 *   handle?.command('SELECT');             // a command starts (its name only, never arguments)
 *   handle?.update({ mailbox: 'INBOX' });  // user, client name, mailbox, IDLE, TLS, command done
 *   handle?.addBytes(inbound, outbound);
 *   handle?.close();                        // in the connection's finish
 *
 * Every call is synchronous and cheap (a few field writes, an event only when something changed).
 * `kick(id)` ends one session through its protocol's own goodbye (`close(text)` of the opener:
 * IMAP `* BYE`, POP3 `-ERR`, SMTP/LMTP 421), leaving the user's other sessions alone.
 */
import tls from 'node:tls';
import type { EventBus } from './events.ts';
import type { SessionJson, SessionProtocol } from './schemas.ts';

export interface TlsDetails {
  version: string;
  cipher: string;
}

/** The negotiated TLS version and cipher of a socket; null when it is not a TLS socket (yet). */
export function tlsDetails(socket: unknown): TlsDetails | null {
  if (!(socket instanceof tls.TLSSocket)) return null;
  const version = socket.getProtocol();
  const cipher = socket.getCipher();
  if (!version || !cipher) return null;
  return { version, cipher: cipher.standardName || cipher.name };
}

/** The client's name from IMAP ID parameters ("Thunderbird 128.0"); null when it sent none. */
export function clientNameOf(params: Record<string, string | null> | null): string | null {
  if (!params) return null;
  const text = [params.name, params.version].filter((part) => part).join(' ');
  return text ? text.slice(0, 200) : null;
}

export interface SessionOpenInfo {
  /** The protocol's session id (the one in its log lines). */
  id: string;
  protocol: SessionProtocol;
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  secure: boolean;
  tls?: TlsDetails | null;
  /**
   * Ends the session with the protocol's goodbye carrying `text`; resolves when the goodbye is
   * written (or the session is already gone). Without it the session cannot be kicked.
   */
  close?(text: string): Promise<void> | void;
  /**
   * Reads the session's byte counters, for protocols that count elsewhere (the socket); when
   * given, `addBytes` is not used.
   */
  bytes?(): { in: number; out: number };
}

export interface SessionPatch {
  /** The authenticated user; set once at login. */
  user?: { id: string; username: string } | null;
  clientName?: string | null;
  mailbox?: string | null;
  idle?: boolean;
  /** The command running now; null when it is done. */
  command?: string | null;
  secure?: boolean;
  tls?: TlsDetails | null;
}

export interface SessionHandle {
  readonly id: string;
  /** A command starts: counts it and shows it as current until `update({ command: null })`. */
  command(name: string): void;
  update(patch: SessionPatch): void;
  addBytes(inbound: number, outbound: number): void;
  /** A message was stored for a recipient of this session (LMTP, SMTP). */
  delivered(delivery: {
    recipient: string;
    userId: string;
    uid: number;
    size: number;
    /** "INBOX", or "Junk" when an inbound check filed it there. */
    mailbox?: string;
    /** Why it went where it went (the inbound checks' reasons; [] when none). */
    reasons?: string[];
  }): void;
  /** SMTP-in refused a message at the end of DATA: the reply and why. */
  refused(refusal: { transactionId: string; reply: string; recipients?: string[]; reasons: string[] }): void;
  close(): void;
}

/** Command names as shown: upper-case words only, so nothing typed by a client (arguments) leaks. */
function commandName(name: string): string {
  const upper = name.toUpperCase();
  return /^[A-Z][A-Z0-9_-]{0,31}( [A-Z][A-Z0-9_-]{0,31})?$/.test(upper) ? upper : 'UNKNOWN';
}

class Session {
  user: string | null = null;
  userId: string | null = null;
  clientName: string | null = null;
  mailbox: string | null = null;
  idle = false;
  current: string | null = null;
  commands = 0;
  bytesIn = 0;
  bytesOut = 0;
  secure: boolean;
  tls: TlsDetails | null;
  readonly startedAt = new Date();
  lastActivity = Date.now();

  constructor(readonly info: SessionOpenInfo) {
    this.secure = info.secure;
    this.tls = info.tls ?? null;
  }

  bytes(): { in: number; out: number } {
    if (this.info.bytes) {
      try {
        return this.info.bytes();
      } catch {
        // the socket is gone: keep the last figures
      }
    }
    return { in: this.bytesIn, out: this.bytesOut };
  }

  toJson(): SessionJson {
    const bytes = this.bytes();
    return {
      id: this.info.id,
      protocol: this.info.protocol,
      remoteAddress: this.info.remoteAddress,
      remotePort: this.info.remotePort,
      localPort: this.info.localPort,
      secure: this.secure,
      tls: this.tls,
      user: this.user,
      userId: this.userId,
      clientName: this.clientName,
      mailbox: this.mailbox,
      idle: this.idle,
      command: this.current,
      commands: this.commands,
      bytesIn: bytes.in,
      bytesOut: bytes.out,
      startedAt: this.startedAt.toISOString(),
      lastActivityAt: new Date(this.lastActivity).toISOString(),
    };
  }
}

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly events: EventBus | null = null) {}

  /** Registers a live session; the handle feeds it until `close()`. */
  open(info: SessionOpenInfo): SessionHandle {
    const session = new Session(info);
    const key = info.id;
    this.sessions.set(key, session);
    const events = this.events;
    events?.publish('session.opened', session.toJson());
    let closed = false;
    const touch = () => {
      session.lastActivity = Date.now();
    };
    return {
      id: info.id,
      command(name) {
        if (closed) return;
        touch();
        session.current = commandName(name);
        session.commands++;
        events?.publish('session.command', {
          id: info.id,
          protocol: info.protocol,
          command: session.current,
          commands: session.commands,
        });
      },
      update(patch) {
        if (closed) return;
        let changed = false;
        if (patch.command !== undefined) {
          session.current = patch.command === null ? null : commandName(patch.command);
          touch();
        }
        if (patch.user !== undefined && (patch.user?.id ?? null) !== session.userId) {
          session.user = patch.user?.username ?? null;
          session.userId = patch.user?.id ?? null;
          if (patch.user) {
            events?.publish('session.authenticated', {
              id: info.id,
              protocol: info.protocol,
              user: patch.user.username,
              userId: patch.user.id,
            });
          }
        }
        if (patch.idle !== undefined && patch.idle !== session.idle) {
          session.idle = patch.idle;
          touch();
          events?.publish('session.idle', { id: info.id, protocol: info.protocol, idle: patch.idle });
        }
        if (patch.clientName !== undefined && patch.clientName !== session.clientName) {
          session.clientName = patch.clientName;
          changed = true;
        }
        if (patch.mailbox !== undefined && patch.mailbox !== session.mailbox) {
          session.mailbox = patch.mailbox;
          changed = true;
        }
        if (patch.secure !== undefined && patch.secure !== session.secure) {
          session.secure = patch.secure;
          changed = true;
        }
        if (patch.tls !== undefined && patch.tls?.cipher !== session.tls?.cipher) {
          session.tls = patch.tls;
          if (patch.tls) session.secure = true;
          changed = true;
        }
        if (changed) events?.publish('session.updated', session.toJson());
      },
      addBytes(inbound, outbound) {
        session.bytesIn += inbound;
        session.bytesOut += outbound;
        touch();
      },
      delivered(delivery) {
        if (info.protocol !== 'lmtp' && info.protocol !== 'smtp') return;
        events?.publish('delivery', { protocol: info.protocol, sessionId: info.id, ...delivery });
      },
      refused(refusal) {
        if (info.protocol !== 'lmtp' && info.protocol !== 'smtp') return;
        events?.publish('delivery.refused', { protocol: info.protocol, sessionId: info.id, ...refusal });
      },
      close: () => {
        if (closed) return;
        closed = true;
        const bytes = session.bytes();
        session.bytesIn = bytes.in;
        session.bytesOut = bytes.out;
        if (this.sessions.get(key) === session) this.sessions.delete(key);
        events?.publish('session.closed', {
          id: info.id,
          protocol: info.protocol,
          user: session.user,
          commands: session.commands,
          bytesIn: bytes.in,
          bytesOut: bytes.out,
          durationMs: Date.now() - session.startedAt.getTime(),
        });
      },
    };
  }

  /** Live sessions, oldest first. */
  list(): SessionJson[] {
    return [...this.sessions.values()].map((session) => session.toJson());
  }

  /** One session by id. */
  get(id: string): SessionJson | null {
    return this.sessions.get(id)?.toJson() ?? null;
  }

  /** Live sessions per protocol. */
  counts(): Record<SessionProtocol, number> {
    const counts = { imap: 0, pop3: 0, lmtp: 0, smtp: 0, submission: 0, managesieve: 0 };
    for (const session of this.sessions.values()) counts[session.info.protocol]++;
    return counts;
  }

  /** Live sessions of one user. */
  ofUser(userId: string): SessionJson[] {
    return [...this.sessions.values()]
      .filter((session) => session.userId === userId)
      .map((session) => session.toJson());
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Ends one session with its protocol's goodbye. Resolves to false for an unknown id (or one
   * that cannot be closed), true once the goodbye is on its way; waits at most `waitMs` for it.
   */
  async kick(id: string, text = 'Session closed by the administrator', waitMs = 2000): Promise<boolean> {
    const session = this.sessions.get(id);
    if (!session?.info.close) return false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.resolve()
        .then(() => session.info.close?.(text))
        .catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    return true;
  }

  /** Ends every session of a user (deleted or disabled account); returns how many. */
  async kickUser(userId: string, text: string): Promise<number> {
    const ids = [...this.sessions.values()]
      .filter((session) => session.userId === userId)
      .map((session) => session.info.id);
    await Promise.all(ids.map((sessionId) => this.kick(sessionId, text)));
    return ids.length;
  }
}
