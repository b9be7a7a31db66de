/**
 * What one session knows of its selected mailbox: the UID of each sequence number, each message's
 * flags and MODSEQ, and which messages are \Recent for it. Changes from the journal (made by this
 * or any other session or process) are queued here and reported only when RFC 3501 allows:
 * EXISTS and FETCH after any command, EXPUNGE never while a FETCH, STORE or SEARCH (by sequence
 * number) is answered, so sequence numbers cannot shift under the client.
 */
import type { Flag, JournalEntry, Mailbox, MessageSummary } from '../store/types.ts';

export type ViewUpdate =
  | { kind: 'expunge'; seq: number }
  | { kind: 'exists'; count: number }
  | { kind: 'recent'; count: number }
  | { kind: 'fetch'; seq: number; uid: number; flags: Flag[]; modseq: number }
  | { kind: 'flags'; keywords: string[] };

interface Entry {
  flags: Flag[];
  modseq: number;
}

function sameFlags(a: Flag[], b: Flag[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a.map((flag) => flag.toLowerCase()));
  return b.every((flag) => set.has(flag.toLowerCase()));
}

export class MailboxView {
  /** UIDs in sequence order: sequence number n is uids[n - 1]. */
  private uids: number[];
  private readonly entries = new Map<number, Entry>();
  private readonly recent = new Set<number>();
  /** Keywords by lower-cased name (keywords are case-insensitive), each with its first spelling. */
  private readonly keywords = new Map<string, string>();
  private highestModseq: number;
  private reportedCount: number;
  private keywordsChanged = false;
  private readonly pendingExpunges = new Set<number>();
  private readonly pendingNew = new Map<number, Entry>();
  private readonly pendingFlags = new Map<number, Entry>();

  constructor(
    readonly mailbox: Mailbox,
    messages: MessageSummary[],
    readonly readOnly: boolean,
    keywords: string[],
  ) {
    this.uids = messages.map((message) => message.uid);
    for (const message of messages)
      this.entries.set(message.uid, { flags: message.flags, modseq: message.modseq });
    for (const keyword of keywords) this.keywords.set(keyword.toLowerCase(), keyword);
    this.highestModseq = mailbox.highestModseq;
    this.reportedCount = this.uids.length;
  }

  get exists(): number {
    return this.uids.length;
  }

  get modseq(): number {
    return this.highestModseq;
  }

  get recentCount(): number {
    return this.recent.size;
  }

  get keywordList(): string[] {
    return [...this.keywords.values()];
  }

  /** Marks the messages claimed as recent by this session (UIDs in (previous, current]). */
  markRecent(previous: number, current: number): void {
    for (const uid of this.uids) if (uid > previous && uid <= current) this.recent.add(uid);
    for (const uid of this.pendingNew.keys()) if (uid > previous && uid <= current) this.recent.add(uid);
  }

  isRecent(uid: number): boolean {
    return this.recent.has(uid);
  }

  uidAt(seq: number): number | undefined {
    return this.uids[seq - 1];
  }

  /** Sequence number of a UID, or 0 when the message is not (or no longer) in view. */
  seqOf(uid: number): number {
    let low = 0;
    let high = this.uids.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const value = this.uids[middle]!;
      if (value === uid) return middle + 1;
      if (value < uid) low = middle + 1;
      else high = middle - 1;
    }
    return 0;
  }

  allUids(): readonly number[] {
    return this.uids;
  }

  flagsOf(uid: number): Flag[] {
    return this.entries.get(uid)?.flags ?? [];
  }

  modseqOf(uid: number): number {
    return this.entries.get(uid)?.modseq ?? 0;
  }

  /** Records this session's own flag change so the journal echo of it is not reported back. */
  applyOwnFlags(uid: number, flags: Flag[], modseq: number): void {
    const entry = this.entries.get(uid);
    if (entry) {
      entry.flags = flags;
      entry.modseq = Math.max(entry.modseq, modseq);
    }
    const pending = this.pendingFlags.get(uid);
    if (pending && pending.modseq <= modseq) this.pendingFlags.delete(uid);
    this.noteKeywords(flags);
    this.highestModseq = Math.max(this.highestModseq, modseq);
  }

  /** Queues one journal entry; entries of other mailboxes are ignored. */
  queue(entry: JournalEntry): void {
    if (entry.mailboxId !== this.mailbox.id || entry.uid === null) return;
    const uid = entry.uid;
    if (entry.modseq !== null) this.highestModseq = Math.max(this.highestModseq, entry.modseq);
    switch (entry.kind) {
      case 'message-new':
        if (!this.entries.has(uid) && uid > (this.uids[this.uids.length - 1] ?? 0)) {
          this.pendingNew.set(uid, { flags: entry.flags ?? [], modseq: entry.modseq ?? 0 });
        }
        return;
      case 'message-flags': {
        const known = this.entries.get(uid) ?? this.pendingNew.get(uid);
        if (!known || known.modseq >= (entry.modseq ?? 0)) return;
        if (this.pendingNew.has(uid)) known.flags = entry.flags ?? [];
        else this.pendingFlags.set(uid, { flags: entry.flags ?? [], modseq: entry.modseq ?? 0 });
        return;
      }
      case 'message-expunge':
        if (this.pendingNew.delete(uid)) return;
        if (this.entries.has(uid)) this.pendingExpunges.add(uid);
        return;
      case 'mailbox-create':
      case 'mailbox-rename':
      case 'mailbox-delete':
        return;
    }
  }

  /** True when new messages are waiting to be reported. */
  hasNew(): boolean {
    return this.pendingNew.size > 0;
  }

  /** True when changes are waiting to be reported (a new keyword of this session's own STORE, too). */
  hasPending(): boolean {
    if (this.keywordsChanged) return true;
    return this.pendingExpunges.size + this.pendingNew.size + this.pendingFlags.size > 0;
  }

  /**
   * The untagged updates to send now, applied to the view. `allowExpunge` is false while answering
   * FETCH, STORE or SEARCH by sequence number.
   */
  takeUpdates(allowExpunge: boolean): ViewUpdate[] {
    const updates: ViewUpdate[] = [];
    if (allowExpunge) this.applyExpunges(updates);
    this.applyFlagChanges(updates);
    this.applyNew(updates);
    if (this.keywordsChanged) {
      this.keywordsChanged = false;
      updates.unshift({ kind: 'flags', keywords: this.keywordList });
    }
    return updates;
  }

  private applyExpunges(updates: ViewUpdate[]): void {
    if (this.pendingExpunges.size === 0) return;
    // Highest sequence numbers first: each EXPUNGE shifts the numbers above it.
    for (let index = this.uids.length - 1; index >= 0; index--) {
      const uid = this.uids[index]!;
      if (!this.pendingExpunges.has(uid)) continue;
      updates.push({ kind: 'expunge', seq: index + 1 });
      this.entries.delete(uid);
      this.recent.delete(uid);
      this.pendingFlags.delete(uid);
    }
    this.uids = this.uids.filter((uid) => !this.pendingExpunges.has(uid));
    this.pendingExpunges.clear();
    this.reportedCount = this.uids.length;
  }

  private applyFlagChanges(updates: ViewUpdate[]): void {
    for (const [uid, change] of this.pendingFlags) {
      const entry = this.entries.get(uid);
      const seq = this.seqOf(uid);
      if (!entry || seq === 0) continue;
      const changed = !sameFlags(entry.flags, change.flags);
      entry.flags = change.flags;
      entry.modseq = change.modseq;
      this.noteKeywords(change.flags);
      if (changed) updates.push({ kind: 'fetch', seq, uid, flags: change.flags, modseq: change.modseq });
    }
    this.pendingFlags.clear();
  }

  private applyNew(updates: ViewUpdate[]): void {
    if (this.pendingNew.size === 0) return;
    const fresh = [...this.pendingNew.entries()].sort(([a], [b]) => a - b);
    for (const [uid, entry] of fresh) {
      this.uids.push(uid);
      this.entries.set(uid, entry);
      this.noteKeywords(entry.flags);
    }
    this.pendingNew.clear();
    if (this.uids.length !== this.reportedCount) {
      this.reportedCount = this.uids.length;
      updates.push({ kind: 'exists', count: this.uids.length });
      updates.push({ kind: 'recent', count: this.recent.size });
    }
  }

  private noteKeywords(flags: Flag[]): void {
    for (const flag of flags) {
      if (flag.startsWith('\\') || this.keywords.has(flag.toLowerCase())) continue;
      this.keywords.set(flag.toLowerCase(), flag);
      this.keywordsChanged = true;
    }
  }
}
