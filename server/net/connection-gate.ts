/**
 * The connection gate: one per server process, shared by every protocol, consulted when a TCP
 * connection is accepted (before any TLS handshake). It keeps strangers from holding the server's
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

class Ticket implements GateTicket {
  prelogin = true;
  ended = false;
  timer: NodeJS.Timeout | null = null;
  private endListener: ((reason: EndReason) => void) | null = null;

  constructor(
    readonly socket: net.Socket,
    readonly address: string,
    private readonly gate: ConnectionGate,
  ) {}

  loggedIn(): void {
    if (!this.prelogin) return;
    this.prelogin = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.gate.noteLoggedIn(this);
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

export class ConnectionGate {
  private readonly perAddress = new Map<string, number>();
  /** Connections not yet logged in, oldest first (a Set keeps insertion order). */
  private readonly waiting = new Set<Ticket>();
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
    const address = socket.remoteAddress ?? '';
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
    const ticket = new Ticket(socket, address, this);
    this.open++;
    this.perAddress.set(address, fromAddress + 1);
    this.waiting.add(ticket);
    ticket.timer = setTimeout(() => {
      this.counts.timedOut++;
      this.waiting.delete(ticket);
      ticket.end('prelogin-timeout');
    }, this.limits.preloginMs);
    ticket.timer.unref();
    socket.once('close', () => this.release(ticket));
    return ticket;
  }

  /** @internal the ticket logged in */
  noteLoggedIn(ticket: Ticket): void {
    this.waiting.delete(ticket);
  }

  private evictOldest(): boolean {
    const oldest = this.waiting.values().next();
    if (oldest.done) return false;
    const ticket = oldest.value;
    this.waiting.delete(ticket);
    if (ticket.timer) clearTimeout(ticket.timer);
    this.counts.evicted++;
    ticket.end('evicted');
    // It still holds its descriptor until destroyed; the new connection is let in now anyway:
    // the reserve of descriptors covers the grace period.
    return true;
  }

  private release(ticket: Ticket): void {
    if (ticket.timer) clearTimeout(ticket.timer);
    ticket.timer = null;
    this.waiting.delete(ticket);
    this.open--;
    const left = (this.perAddress.get(ticket.address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(ticket.address);
    else this.perAddress.set(ticket.address, left);
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
