/**
 * Follows the store's change journal for one process and hands each entry to the sessions of the
 * user it concerns. This is how sessions see each other's changes, in this process and in every
 * other process on the same store: everything goes through the journal, nothing is pushed directly.
 *
 * The journal is per user (store/types.ts): the follower reads only the users that have a listener
 * here (sessions of this process), each from its own position, in one query per poll for all of
 * them. A user is followed from the moment its first listener subscribes (from its journal head
 * then) until its last one leaves.
 *
 * One poll per interval serves all sessions; `catchUp()` lets a session read up to the head before
 * it reports updates (so a session's own APPEND or COPY shows at once), and `nudge()` is how a
 * process learns at once that another wrote (the workers of `mallard serve` relay that through
 * their supervisor, server/cluster/journal-signal.ts): the poll is then only the fallback, for
 * processes nobody tells (other servers on one MongoDB).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from './errors.ts';
import type { Id, JournalEntry, Store } from './types.ts';

/** How often `reach` looks again while a journal gap is open (its writer finishing, or filled). */
const REACH_POLL_MS = 20;
/** `reach` gives up after this long (the store is slow or unreachable): UNAVAILABLE. */
const REACH_TIMEOUT_MS = 10_000;
/** Entries asked for per read. */
const READ_LIMIT = 1000;

export type JournalListener = (entry: JournalEntry) => void;

/** One followed user: its listeners and how far its journal has been read. */
interface Followed {
  listeners: Set<JournalListener>;
  /** The id last read; null until the user's head has been read. */
  cursor: number | null;
  /** The head being read for it (started when the first listener subscribed). */
  starting: Promise<void> | null;
}

export class JournalFollower {
  private readonly users = new Map<Id, Followed>();
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private followUp: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Polls every `intervalMs` while some user is followed. */
  async start(intervalMs = 250): Promise<void> {
    this.timer = setInterval(() => {
      if (this.users.size > 0) this.catchUp().catch(this.onError);
    }, intervalMs);
    this.timer.unref();
  }

  /** A change was committed (here, or by another worker that said so): read it now, not at the next poll. */
  nudge(): void {
    if (this.users.size > 0) this.catchUp().catch(this.onError);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Listens to one user's changes from now on (history before is not replayed); returns the
   * function that stops listening. The user's head is read at once; `catchUp()` waits for it.
   */
  subscribe(userId: Id, listener: JournalListener): () => void {
    let followed = this.users.get(userId);
    if (!followed) {
      followed = { listeners: new Set(), cursor: null, starting: null };
      this.users.set(userId, followed);
      this.startFollowing(userId, followed).catch(() => undefined); // retried by the next read
    }
    followed.listeners.add(listener);
    const user = followed;
    return () => {
      user.listeners.delete(listener);
      if (user.listeners.size === 0 && this.users.get(userId) === user) this.users.delete(userId);
    };
  }

  /**
   * Resolves once the user's head has been read (at once when it has): changes committed after
   * this are handed to the user's listeners. Call after `subscribe`.
   */
  async ready(userId: Id): Promise<void> {
    const followed = this.users.get(userId);
    if (followed) await this.startFollowing(userId, followed);
  }

  /** The users followed now (tests, status). */
  get followedUsers(): Id[] {
    return [...this.users.keys()];
  }

  /** Reads the user's head once at a time; a failed read is forgotten, so the next one retries. */
  private startFollowing(userId: Id, followed: Followed): Promise<void> {
    if (followed.cursor !== null) return Promise.resolve();
    followed.starting ??= this.store
      .journalHead(userId)
      .then((head) => {
        followed.cursor ??= head;
      })
      .finally(() => {
        followed.starting = null;
      });
    return followed.starting;
  }

  /**
   * Reads every entry of the followed users up to the head now. A read already running may have
   * started before the caller's own change was committed, so callers arriving during one share a
   * single follow-up read.
   */
  catchUp(): Promise<void> {
    if (this.inFlight) {
      // After the running read settles, failed or not, a read of its own: a failure is never
      // handed on to callers that came later (they get a fresh attempt), and never kept.
      this.followUp ??= this.inFlight
        .catch(() => undefined)
        .then(() => {
          this.followUp = null;
          return this.catchUp();
        });
      return this.followUp;
    }
    this.inFlight = this.readAll().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** The id last read of the user's journal (null: not followed, or its head not read yet). */
  position(userId: Id): number | null {
    return this.users.get(userId)?.cursor ?? null;
  }

  /**
   * Reads the user's journal at least up to `position` (a mailbox's journalMark): then everything
   * allocated up to there is committed and has been handed to the listeners. Waits while a gap
   * below it is open (the journal never skips one; see the visibility rule in types.ts). A user
   * not followed is followed meanwhile.
   */
  async reach(userId: Id, position: number | undefined): Promise<void> {
    if (position === undefined || position <= 0 || (this.position(userId) ?? -1) >= position) return;
    const stopFollowing = this.subscribe(userId, () => {});
    try {
      const deadline = Date.now() + REACH_TIMEOUT_MS;
      for (;;) {
        await this.catchUp();
        if ((this.position(userId) ?? -1) >= position) return;
        if (Date.now() > deadline) {
          throw new StoreError(
            'UNAVAILABLE',
            `the journal of user ${userId} did not reach ${position} (at ${this.position(userId)})`,
          );
        }
        await sleep(REACH_POLL_MS);
      }
    } finally {
      stopFollowing();
    }
  }

  private async readAll(): Promise<void> {
    await Promise.all([...this.users].map(([userId, followed]) => this.startFollowing(userId, followed)));
    for (;;) {
      const after = new Map<Id, number>();
      for (const [userId, followed] of this.users) {
        if (followed.cursor !== null) after.set(userId, followed.cursor);
      }
      if (after.size === 0) return;
      const entries = await this.store.readJournal(after, READ_LIMIT);
      for (const entry of entries) this.hand(entry);
      if (entries.length < READ_LIMIT) return;
    }
  }

  /** Moves the user's cursor past `entry` and gives it to the user's listeners. */
  private hand(entry: JournalEntry): void {
    const followed = this.users.get(entry.userId);
    if (!followed || (followed.cursor !== null && followed.cursor >= entry.id)) return;
    followed.cursor = entry.id;
    for (const listener of [...followed.listeners]) {
      try {
        listener(entry);
      } catch (error) {
        this.onError(error); // one session's failure must not starve the others
      }
    }
  }
}
