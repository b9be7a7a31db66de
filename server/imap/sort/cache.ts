/**
 * The sort entries of one mailbox's messages (keys.ts), by UID, kept in its shared MailboxState:
 * filled lazily by the first SORT or THREAD that needs a message, then reused by every session of
 * this process that has the mailbox selected, so a second SORT costs only the sort itself. A
 * message's bytes, internal date and size never change, so an entry stays right until the message
 * is expunged (the state forgets it then); it goes away with the state when the last session leaves.
 *
 * Beside them, the last THREAD answer as a tree (thread-tree.ts), with the algorithm and the UIDs
 * it was built from: threads depend on nothing but the messages' bytes and which messages are in
 * the set (ties go by sequence number, which orders like the UID), so a THREAD over the same UIDs
 * gives the same tree whatever flags changed meanwhile, only numbered anew. Its text is kept too,
 * with the numbers (UIDs or sequence numbers, in UID order) it was written with. An expunge drops
 * them (the tree holds the messages' entries); a new message changes the set of a THREAD ALL,
 * which then misses and builds again.
 */
import type { SortEntry } from './keys.ts';
import type { ThreadNode } from './thread-tree.ts';

interface KeptThreads {
  algorithm: string;
  uids: readonly number[];
  threads: ThreadNode[];
  text?: { numbers: readonly number[]; text: string };
}

function sameUids(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SortCache {
  private readonly entries = new Map<number, SortEntry>();
  private threads: KeptThreads | null = null;

  get(uid: number): SortEntry | undefined {
    return this.entries.get(uid);
  }

  set(entry: SortEntry): void {
    this.entries.set(entry.uid, entry);
  }

  forget(uid: number): void {
    this.entries.delete(uid);
    this.threads = null;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The threads last built by `algorithm` over exactly these UIDs (in UID order), if kept. */
  keptThreads(algorithm: string, uids: readonly number[]): ThreadNode[] | undefined {
    const kept = this.threads;
    if (kept === null || kept.algorithm !== algorithm || !sameUids(kept.uids, uids)) return undefined;
    return kept.threads;
  }

  /** Keeps one THREAD answer (the last), replacing any other. */
  keepThreads(algorithm: string, uids: readonly number[], threads: ThreadNode[]): void {
    this.threads = { algorithm, uids: [...uids], threads };
  }

  /** The kept threads' text when written with these numbers (one per UID, in UID order). */
  keptText(threads: ThreadNode[], numbers: readonly number[]): string | undefined {
    const text = this.threads?.threads === threads ? this.threads.text : undefined;
    return text !== undefined && sameUids(text.numbers, numbers) ? text.text : undefined;
  }

  /** Keeps the kept threads' text, as written with these numbers. */
  keepText(threads: ThreadNode[], numbers: readonly number[], text: string): void {
    if (this.threads?.threads === threads) this.threads.text = { numbers: [...numbers], text };
  }
}
