/**
 * Connections kept open between messages to one destination (RFC 5321 allows any number of
 * transactions per connection): when more messages wait for the destination, the next goes over
 * the same connection after an RSET instead of a new connect, greeting, STARTTLS and AUTH. As
 * Postfix's connection cache "on demand", a connection is kept only while there is such a backlog
 * (and a few seconds at most), so remote hosts are not held with idle connections.
 */
import { SmtpSession, type Destination, type SessionSource } from './transport.ts';

/** How long an idle connection is kept for the next message. */
const IDLE_MS = 5_000;

interface Idle {
  session: SmtpSession;
  timer: NodeJS.Timeout;
}

function keyOf(destination: Destination): string {
  const { host, port, servername, tls, verifyCertificate, auth } = destination;
  return JSON.stringify([host, port, servername, tls, verifyCertificate, auth?.user ?? '', auth?.pass ?? '']);
}

export class ConnectionPool implements SessionSource {
  private readonly idle = new Map<string, Idle[]>();
  private closed = false;

  constructor(private readonly idleMs = IDLE_MS) {}

  async acquire(destination: Destination, helo: string): Promise<{ session: SmtpSession; reused: boolean }> {
    const list = this.idle.get(keyOf(destination)) ?? [];
    while (list.length > 0) {
      const { session, timer } = list.pop()!;
      clearTimeout(timer);
      if (session.usable) return { session, reused: true };
      session.close();
    }
    return { session: await SmtpSession.open(destination, helo), reused: false };
  }

  /** Keeps a connection that is still good (after RSET) for the next message; closes others. */
  async release(destination: Destination, session: SmtpSession, keep: boolean): Promise<void> {
    if (!keep || this.closed || !session.usable) return session.close();
    // Awaited, so that the next message to this destination finds the connection ready.
    const ok = await session.reset();
    if (!ok || this.closed || !session.usable) return session.close();
    const key = keyOf(destination);
    const list = this.idle.get(key) ?? [];
    const entry: Idle = {
      session,
      timer: setTimeout(() => {
        const index = list.indexOf(entry);
        if (index >= 0) list.splice(index, 1);
        session.close();
      }, this.idleMs),
    };
    entry.timer.unref();
    list.push(entry);
    this.idle.set(key, list);
  }

  /** Closes every kept connection (QUIT); later releases close theirs at once. */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) {
      for (const { session, timer } of list) {
        clearTimeout(timer);
        session.close();
      }
    }
    this.idle.clear();
  }
}
