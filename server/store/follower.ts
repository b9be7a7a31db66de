/**
 * Follows the store's change journal for one process and hands each entry to the sessions of the
 * user it concerns. This is how sessions see each other's changes, in this process and in every
 * other process on the same store: everything goes through the journal, nothing is pushed directly.
 *
 * One poll per interval serves all sessions; `catchUp()` lets a session read up to the head before
 * it reports updates (so a session's own APPEND or COPY shows at once).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from './errors.ts';
import type { Id, JournalEntry, Store } from './types.ts';

/** How often `reach` looks again while a journal gap is open (its writer finishing, or filled). */
const REACH_POLL_MS = 20;
/** `reach` gives up after this long (the store is slow or unreachable): UNAVAILABLE. */
const REACH_TIMEOUT_MS = 10_000;

export type JournalListener = (entry: JournalEntry) => void;

export class JournalFollower {
  private cursor = 0;
  private readonly listeners = new Map<Id, Set<JournalListener>>();
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private followUp: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Starts at the current head: history before start-up is not replayed. */
  async start(intervalMs = 250): Promise<void> {
    this.cursor = await this.store.journalHead();
    this.timer = setInterval(() => {
      if (this.listeners.size > 0) this.catchUp().catch(this.onError);
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Listens to one user's changes; returns the function that stops listening. */
  subscribe(userId: Id, listener: JournalListener): () => void {
    let set = this.listeners.get(userId);
    if (!set) this.listeners.set(userId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(userId);
    };
  }

  /**
   * Reads every entry up to the head now. A read already running may have started before the
   * caller's own change was committed, so callers arriving during one share a single follow-up read.
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

  /** The id of the last entry read. */
  get position(): number {
    return this.cursor;
  }

  /**
   * Reads the journal at least up to `position` (a mailbox's journalMark): then everything
   * allocated up to there is committed and has been handed to the listeners. Waits while a gap
   * below it is open (the journal never skips one; see the visibility rule in types.ts).
   */
  async reach(position: number | undefined): Promise<void> {
    if (position === undefined || this.cursor >= position) return;
    const deadline = Date.now() + REACH_TIMEOUT_MS;
    for (;;) {
      await this.catchUp();
      if (this.cursor >= position) return;
      if (Date.now() > deadline) {
        throw new StoreError('UNAVAILABLE', `the journal did not reach ${position} (at ${this.cursor})`);
      }
      await sleep(REACH_POLL_MS);
    }
  }

  private async readAll(): Promise<void> {
    for (;;) {
      const entries = await this.store.readJournal(this.cursor, 1000);
      for (const entry of entries) {
        this.cursor = entry.id;
        for (const listener of this.listeners.get(entry.userId) ?? []) {
          try {
            listener(entry);
          } catch (error) {
            this.onError(error); // one session's failure must not starve the others
          }
        }
      }
      if (entries.length < 1000) return;
    }
  }
}
