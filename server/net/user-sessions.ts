/**
 * Connections per account (`imap.max_connections_per_user`): a slot is taken at login and given
 * back when the connection closes. One counter per server: in a single process this one, in the
 * workers of `mallard serve` the supervisor's, asked through IPC (server/cluster/shared-limits.ts).
 */

/** A taken slot; releasing it twice gives back one. */
export interface UserSlot {
  release(): void;
}

export interface UserSessionLimit {
  /** Takes a slot for the user, or null when `limit` are taken (or no answer came: fail closed). */
  acquire(userId: string, limit: number): UserSlot | null | Promise<UserSlot | null>;
}

export class UserSessionCounter implements UserSessionLimit {
  private readonly counts = new Map<string, number>();

  acquire(userId: string, limit: number): UserSlot | null {
    const count = this.counts.get(userId) ?? 0;
    if (count >= limit) return null;
    this.counts.set(userId, count + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.counts.get(userId) ?? 1) - 1;
        if (left <= 0) this.counts.delete(userId);
        else this.counts.set(userId, left);
      },
    };
  }

  /** Slots taken for one user now. */
  of(userId: string): number {
    return this.counts.get(userId) ?? 0;
  }
}
