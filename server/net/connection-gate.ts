/**
 * The connection gate: one per server (in the supervisor when `mallard serve` runs worker processes,
 * which ask it through IPC), shared by every protocol, consulted when a TCP connection is accepted
 * (before any TLS handshake). It keeps strangers from holding the server's
 * sockets and file descriptors:
 *
 * - at most `perAddress` open connections from one IP address (every protocol together);
 * - at most `prelogin` connections that have not logged in yet, and at most `total` connections
 *   (the open-files limit minus a reserve). When one of those is full, a new connection ends the
 *   OLDEST connection that has not logged in (as Dovecot's login processes do), so a flood of
 *   idle strangers can never keep a real user from logging in: the user's connection is the newest;
 *   only when every connection is logged in is the new one refused;
 * - an absolute deadline from accept to login (`preloginMs`), not pushed back by the client's
 *   bytes, so a client that drips one byte every few seconds is cut like a silent one.
 *
 * The protocols call `loggedIn()` on their ticket at a successful login (IMAP, POP3) or at the
 * first MAIL FROM (SMTP, LMTP, which have no login), and say goodbye in `onEnd`; the gate destroys
 * the socket a moment later in any case (a client that reads nothing never drains the goodbye).
 */
import fs from 'node:fs';
import type net from 'node:net';

export interface GateLimits {
  perAddress: number;
  prelogin: number;
  total: number;
  /** Milliseconds from accept to login. */
  preloginMs: number;
}

/** Why the gate ends a connection it let in. */
export type EndReason = 'prelogin-timeout' | 'evicted';

export interface GateTicket {
  /** The client logged in (or started a mail transaction): no longer evicted, no deadline. */
  loggedIn(): void;
  /** What to say before the gate closes the connection (a protocol's BYE / -ERR / 421). */
  onEnd(listener: (reason: EndReason) => void): void;
}

/** How long a connection the gate ends may take to send its goodbye before it is destroyed. */
const GOODBYE_GRACE_MS = 1000;

/** Read for the default total: the process's soft open-files limit (`ulimit -n`), Linux only. */
export function openFilesLimit(): number {
  try {
    const text = fs.readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (match && match[1] !== 'unlimited') return Number(match[1]);
  } catch {
    // Not Linux: no file-descriptor budget is known, so none is enforced.
  }
  return Infinity;
}

/**
 * What every gate hands out for an accepted socket: in a single process the gate itself, in a
 * worker of `mallard serve` the supervisor's gate through IPC (server/cluster/shared-gate.ts), so
 * admission may take a moment: the listener awaits it.
 */
export interface Gate {
  admit(socket: net.Socket): GateTicket | string | Promise<GateTicket | string>;
}

/** The ticket of one socket: says the goodbye, then destroys the socket after a grace period. */
export class SocketTicket implements GateTicket {
  private ended = false;
  private endListener: ((reason: EndReason) => void) | null = null;

  constructor(
    private readonly socket: net.Socket,
    private readonly onLoggedIn: () => void,
  ) {}

  loggedIn(): void {
    this.onLoggedIn();
  }

  onEnd(listener: (reason: EndReason) => void): void {
    this.endListener = listener;
  }

  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.endListener?.(reason);
    } catch {
      // A goodbye that cannot be said does not keep the socket open.
    }
    setTimeout(() => this.socket.destroy(), GOODBYE_GRACE_MS).unref();
  }
}

/** A connection the gate counts, wherever its socket is: it logs in once, and is released once. */
export interface GateEntry {
  loggedIn(): void;
  release(): void;
}

class Entry implements GateEntry {
  prelogin = true;
  released = false;
  timer: NodeJS.Timeout | null = null;

  constructor(
    readonly address: string,
    readonly end: (reason: EndReason) => void,
    private readonly gate: ConnectionGate,
  ) {}

  loggedIn(): void {
    if (!this.prelogin || this.released) return;
    this.prelogin = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.gate.noteLoggedIn(this);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.gate.noteReleased(this);
  }
}

export class ConnectionGate implements Gate {
  private readonly perAddress = new Map<string, number>();
  /** Connections not yet logged in, oldest first (a Set keeps insertion order). */
  private readonly waiting = new Set<Entry>();
  private open = 0;
  /** Connections the gate ended or refused, by reason (the admin API and tests read it). */
  readonly counts = { refusedAddress: 0, refusedFull: 0, evicted: 0, timedOut: 0 };

  constructor(readonly limits: GateLimits) {}

  get openConnections(): number {
    return this.open;
  }

  get preloginConnections(): number {
    return this.waiting.size;
  }

  /**
   * Lets a freshly accepted socket in, or says why not (the caller refuses it). A ticket is
   * released by itself when the socket closes.
   */
  admit(socket: net.Socket): GateTicket | string {
    let ticket: SocketTicket | null = null;
    const entry = this.enter(socket.remoteAddress ?? '', (reason) => ticket?.end(reason));
    if (typeof entry === 'string') return entry;
    ticket = new SocketTicket(socket, () => entry.loggedIn());
    socket.once('close', () => entry.release());
    return ticket;
  }

  /**
   * Counts a connection from `address` whose socket may live in another process; `end` says the
   * goodbye and closes it (evicted, or no login before the deadline). The caller releases the
   * entry when the connection closes.
   */
  enter(address: string, end: (reason: EndReason) => void): GateEntry | string {
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.perAddress) {
      this.counts.refusedAddress++;
      return `Too many connections from your address (limit ${this.limits.perAddress})`;
    }
    if (this.open >= this.limits.total || this.waiting.size >= this.limits.prelogin) {
      if (!this.evictOldest()) {
        this.counts.refusedFull++;
        return 'Too many connections, try again later';
      }
    }
    const entry = new Entry(address, end, this);
    this.open++;
    this.perAddress.set(address, fromAddress + 1);
    this.waiting.add(entry);
    entry.timer = setTimeout(() => {
      this.counts.timedOut++;
      this.waiting.delete(entry);
      entry.end('prelogin-timeout');
    }, this.limits.preloginMs);
    entry.timer.unref();
    return entry;
  }

  /** @internal the entry logged in */
  noteLoggedIn(entry: Entry): void {
    this.waiting.delete(entry);
  }

  private evictOldest(): boolean {
    const oldest = this.waiting.values().next();
    if (oldest.done) return false;
    const entry = oldest.value;
    this.waiting.delete(entry);
    if (entry.timer) clearTimeout(entry.timer);
    this.counts.evicted++;
    entry.end('evicted');
    // It still holds its descriptor until destroyed; the new connection is let in now anyway:
    // the reserve of descriptors covers the grace period.
    return true;
  }

  /** @internal the entry's connection closed */
  noteReleased(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    this.waiting.delete(entry);
    this.open--;
    const left = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(entry.address);
    else this.perAddress.set(entry.address, left);
  }
}

/** The gate's limits from the configuration's `limits` section. */
export function gateLimitsOf(limits: {
  max_connections_per_address: number;
  max_prelogin_connections: number;
  fd_reserve: number;
  prelogin_timeout: number;
}): GateLimits {
  return {
    perAddress: limits.max_connections_per_address,
    prelogin: limits.max_prelogin_connections,
    total: Math.max(1, openFilesLimit() - limits.fd_reserve),
    preloginMs: limits.prelogin_timeout * 1000,
  };
}
