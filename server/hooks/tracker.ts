/**
 * Open connections per IP address and protocol. A connection is added when `onConnect` starts
 * deciding and removed when it is refused or closes; removing is idempotent and keyed by the
 * session id, so a refused connection's `onClose` never takes away a count it did not add.
 *
 * Connections are numbered as they arrive, and a connection being decided counts only itself and
 * those that arrived before it: of N+5 connections arriving at once under `max-conn N`, the first N
 * get in, whatever order their decisions finish in.
 */
import type { ConnectionCounts } from './rule.ts';

interface Entry {
  ip: string;
  protocol: string;
  sequence: number;
}

function matches(entry: Entry, protocols: readonly string[]): boolean {
  return protocols.length === 0 || protocols.includes(entry.protocol);
}

export class ConnectionTracker {
  private readonly sessions = new Map<string, Entry>();
  private readonly byIp = new Map<string, Set<Entry>>();
  private sequence = 0;

  add(sessionId: string, ip: string, protocol: string): void {
    if (this.sessions.has(sessionId)) return;
    const entry = { ip, protocol, sequence: ++this.sequence };
    this.sessions.set(sessionId, entry);
    const entries = this.byIp.get(ip) ?? new Set<Entry>();
    entries.add(entry);
    this.byIp.set(ip, entries);
  }

  /** Forgets the connection; a session never added (or already removed) changes nothing. */
  remove(sessionId: string): void {
    const entry = this.sessions.get(sessionId);
    if (!entry) return;
    this.sessions.delete(sessionId);
    const entries = this.byIp.get(entry.ip);
    entries?.delete(entry);
    if (entries?.size === 0) this.byIp.delete(entry.ip);
  }

  /** Open connections from `ip` on `protocols` (all when empty). */
  count(ip: string, protocols: readonly string[] = []): number {
    let total = 0;
    for (const entry of this.byIp.get(ip) ?? []) if (matches(entry, protocols)) total++;
    return total;
  }

  /** The counts as the connection `sessionId` sees them: itself and those that arrived before it. */
  viewOf(sessionId: string): ConnectionCounts {
    const own = this.sessions.get(sessionId)?.sequence ?? Infinity;
    return {
      count: (ip, protocols) => {
        let total = 0;
        for (const entry of this.byIp.get(ip) ?? []) {
          if (entry.sequence <= own && matches(entry, protocols)) total++;
        }
        return total;
      },
    };
  }

  /** Connections tracked in all (for tests and status). */
  get size(): number {
    return this.sessions.size;
  }
}
