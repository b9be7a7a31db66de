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

/**
 * One live session as the registry shows it, and the handle its protocol feeds it through (one
 * object per session, not a handle of closures: thousands of sessions may be open).
 */
class Session implements SessionHandle {
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
  readonly startedAt = Date.now();
  lastActivity = this.startedAt;
  private closed = false;

  constructor(
    readonly info: SessionOpenInfo,
    private readonly events: EventBus | null,
    /** Called once when the session closes (the registry lets go of it). */
    private readonly onClose: (session: Session) => void,
  ) {
    this.secure = info.secure;
    this.tls = info.tls ?? null;
  }

  get id(): string {
    return this.info.id;
  }

  private touch(): void {
    this.lastActivity = Date.now();
  }

  command(name: string): void {
    if (this.closed) return;
    this.touch();
    this.current = commandName(name);
    this.commands++;
    this.events?.publish('session.command', {
      id: this.info.id,
      protocol: this.info.protocol,
      command: this.current,
      commands: this.commands,
    });
  }

  update(patch: SessionPatch): void {
    if (this.closed) return;
    const { info, events } = this;
    let changed = false;
    if (patch.command !== undefined) {
      this.current = patch.command === null ? null : commandName(patch.command);
      this.touch();
    }
    if (patch.user !== undefined && (patch.user?.id ?? null) !== this.userId) {
      this.user = patch.user?.username ?? null;
      this.userId = patch.user?.id ?? null;
      if (patch.user) {
        events?.publish('session.authenticated', {
          id: info.id,
          protocol: info.protocol,
          user: patch.user.username,
          userId: patch.user.id,
        });
      }
    }
    if (patch.idle !== undefined && patch.idle !== this.idle) {
      this.idle = patch.idle;
      this.touch();
      events?.publish('session.idle', { id: info.id, protocol: info.protocol, idle: patch.idle });
    }
    if (patch.clientName !== undefined && patch.clientName !== this.clientName) {
      this.clientName = patch.clientName;
      changed = true;
    }
    if (patch.mailbox !== undefined && patch.mailbox !== this.mailbox) {
      this.mailbox = patch.mailbox;
      changed = true;
    }
    if (patch.secure !== undefined && patch.secure !== this.secure) {
      this.secure = patch.secure;
      changed = true;
    }
    if (patch.tls !== undefined && patch.tls?.cipher !== this.tls?.cipher) {
      this.tls = patch.tls;
      if (patch.tls) this.secure = true;
      changed = true;
    }
    if (changed) events?.publish('session.updated', this.toJson());
  }

  addBytes(inbound: number, outbound: number): void {
    this.bytesIn += inbound;
    this.bytesOut += outbound;
    this.touch();
  }

  delivered(delivery: Parameters<SessionHandle['delivered']>[0]): void {
    const { protocol, id } = this.info;
    if (protocol !== 'lmtp' && protocol !== 'smtp') return;
    this.events?.publish('delivery', { protocol, sessionId: id, ...delivery });
  }

  refused(refusal: Parameters<SessionHandle['refused']>[0]): void {
    const { protocol, id } = this.info;
    if (protocol !== 'lmtp' && protocol !== 'smtp') return;
    this.events?.publish('delivery.refused', { protocol, sessionId: id, ...refusal });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const bytes = this.bytes();
    this.bytesIn = bytes.in;
    this.bytesOut = bytes.out;
    this.onClose(this);
    this.events?.publish('session.closed', {
      id: this.info.id,
      protocol: this.info.protocol,
      user: this.user,
      commands: this.commands,
      bytesIn: bytes.in,
      bytesOut: bytes.out,
      durationMs: Date.now() - this.startedAt,
    });
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
      startedAt: new Date(this.startedAt).toISOString(),
      lastActivityAt: new Date(this.lastActivity).toISOString(),
    };
  }
}

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly events: EventBus | null = null) {}

  /** Registers a live session; the handle feeds it until `close()`. */
  open(info: SessionOpenInfo): SessionHandle {
    const session = new Session(info, this.events, this.forget);
    this.sessions.set(info.id, session);
    this.events?.publish('session.opened', session.toJson());
    return session;
  }

  private readonly forget = (session: Session): void => {
    if (this.sessions.get(session.info.id) === session) this.sessions.delete(session.info.id);
  };

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
