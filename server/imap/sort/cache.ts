/**
 * The sort entries of one mailbox's messages (keys.ts), by UID, kept in its shared MailboxState:
 * filled lazily by the first SORT or THREAD that needs a message, then reused by every session of
 * this process that has the mailbox selected, so a second SORT costs only the sort itself. A
 * message's bytes, internal date and size never change, so an entry stays right until the message
 * is expunged (the state forgets it then); it goes away with the state when the last session leaves.
 */
import type { SortEntry } from './keys.ts';

export class SortCache {
  private readonly entries = new Map<number, SortEntry>();

  get(uid: number): SortEntry | undefined {
    return this.entries.get(uid);
  }

  set(entry: SortEntry): void {
    this.entries.set(entry.uid, entry);
  }

  forget(uid: number): void {
    this.entries.delete(uid);
  }

  get size(): number {
    return this.entries.size;
  }
}
