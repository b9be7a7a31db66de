/**
 * How a server learns at once that a mailbox changed: the server wraps its store so that a call
 * that writes the change journal, once it has committed, makes this process read the journal now
 * (JournalFollower.nudge) and, in a worker of `mallard serve`, tells the supervisor, which tells
 * every other worker to do the same (server/cluster/). Without it a process finds a change made
 * outside its IMAP sessions (a delivery, another worker's) at its next poll
 * (server.journal_poll_ms); with it, within one IPC round trip.
 *
 * The signal says only "the journal advanced": the journal itself stays the one way changes
 * travel (its order, its exactly-once rule), and a lost signal costs a poll interval, nothing more.
 */
import type { Store } from '../store/types.ts';

/** The Store methods that write journal entries (types.ts: the changes sessions must learn of). */
export const JOURNAL_WRITERS = [
  'createMailbox',
  'deleteMailbox',
  'renameMailbox',
  'append',
  'appendMany',
  'replaceMessage',
  'deliver',
  'storeFlags',
  'copyMessages',
  'moveMessages',
  'expunge',
  'deleteMessages',
  'importMailbox',
  'importMessage',
  'deleteUser',
] as const satisfies ReadonlyArray<keyof Store>;

const WRITERS: ReadonlySet<PropertyKey> = new Set(JOURNAL_WRITERS);

/**
 * The store, with `written()` called after each journal-writing call that succeeded (a failed one
 * may have committed part of its work too: the poll finds that). Every other member is the store's
 * own, bound to it (engines keep private state that a proxy as `this` could not reach).
 */
export function signalJournalWrites(store: Store, written: () => void): Store {
  // Keyed by the function itself, not its name: a member replaced later (a test's spy) is used.
  const bound = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      let method = bound.get(value);
      if (!method) {
        const own = (value as (...args: unknown[]) => unknown).bind(target);
        method = WRITERS.has(key)
          ? async (...args: unknown[]) => {
              const result = await own(...args);
              written();
              return result;
            }
          : own;
        bound.set(value, method);
      }
      return method;
    },
  });
}
