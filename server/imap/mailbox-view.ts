/**
 * What one session knows of its selected mailbox. The messages themselves live in the shared
 * `MailboxState` (the latest state in this process); a view keeps only the difference between that
 * state and what it has reported to its client: new messages not yet announced, expunged messages
 * it still shows, flag changes to report. So an idle session costs a few small sets, not a copy
 * of the mailbox.
 *
 * Changes are reported only when RFC 3501 allows: EXISTS and FETCH after any command, EXPUNGE
 * never while a FETCH, STORE or SEARCH by sequence number is answered, so sequence numbers cannot
 * shift under the client.
 */
import type { Flag, JournalEntry, Mailbox, MessageSummary } from '../store/types.ts';
import { MailboxState, type StateEffect } from './mailbox-state.ts';
import { SearchContexts } from './search/contexts.ts';

export type ViewUpdate =
  | { kind: 'expunge'; seq: number; uid: number }
  | { kind: 'exists'; count: number }
  | { kind: 'recent'; count: number }
  | { kind: 'fetch'; seq: number; uid: number; flags: Flag[]; modseq: number }
  | { kind: 'flags'; keywords: string[] };

interface Expunged {
  flags: Flag[];
  modseq: number;
}

/** How many of the sorted numbers are below `value` (a binary search: asked once per message). */
function countBelow(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The view's sets and maps stay these shared empty ones until something is written to them, and
 * go back to them once reported: a session idling in a quiet mailbox (thousands of them, in IDLE)
 * then holds no collection of its own. Never written to: writes go through the functions below.
 */
const EMPTY_SET: ReadonlySet<never> = new Set<never>();
const EMPTY_MAP: ReadonlyMap<never, never> = new Map<never, never>();

function withValue<T>(set: ReadonlySet<T>, value: T): ReadonlySet<T> {
  const own = set === EMPTY_SET ? new Set<T>() : (set as Set<T>);
  own.add(value);
  return own;
}

function withEntry<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> {
  const own = map === EMPTY_MAP ? new Map<K, V>() : (map as Map<K, V>);
  own.set(key, value);
  return own;
}

/** Removes a value or key in place; true when it was there. */
function removed<T>(collection: ReadonlySet<T> | ReadonlyMap<T, unknown>, key: T): boolean {
  return collection.size > 0 && (collection as Set<T> | Map<T, unknown>).delete(key);
}

function sortedKeys(map: ReadonlyMap<number, unknown> | ReadonlySet<number>): number[] {
  return [...map.keys()].sort((a, b) => a - b);
}

export class MailboxView {
  /** In the shared state, not yet announced to this client. */
  private pendingNew: ReadonlySet<number> = EMPTY_SET;
  /** Gone from the shared state, still shown to this client until EXPUNGE is sent. */
  private pendingExpunges: ReadonlyMap<number, Expunged> = EMPTY_MAP;
  /** Flag changes to report (UIDs). */
  private pendingFlags: ReadonlySet<number> = EMPTY_SET;
  /** MODSEQs of this session's own flag changes: their journal echo is not reported back. */
  private ownChanges: ReadonlyMap<number, number> = EMPTY_MAP;
  /**
   * The pending sets' UIDs sorted, made when first asked after a change: a FETCH or SEARCH over
   * the whole mailbox asks for them once per message while changes wait to be reported.
   */
  private sortedNew: number[] | null = null;
  private sortedExpunges: number[] | null = null;
  /** UID ranges (low exclusive, high inclusive) this session claimed as \Recent. */
  private readonly recentRanges: Array<[number, number]> = [];
  /** Keywords by lower-cased name (keywords are case-insensitive), each with its first spelling. */
  private keywords: ReadonlyMap<string, string> = EMPTY_MAP;
  private keywordsChanged = false;
  private highestModseq: number;
  private reportedCount: number;
  /**
   * The SEARCHRES result variable `$` (RFC 5182), as UIDs: saved by SEARCH RETURN (SAVE), empty in
   * a newly selected mailbox (a view lives as long as one selection).
   */
  private savedUids: readonly number[] = [];
  /** Searches that send updates as their result changes (CONTEXT=SEARCH/SORT, RFC 5267). */
  readonly searchContexts = new SearchContexts();

  readonly state: MailboxState;

  constructor(
    readonly mailbox: Mailbox,
    /** The shared state, or the messages to build a private one from (tests). */
    messages: MailboxState | readonly MessageSummary[],
    readonly readOnly: boolean,
    keywords: string[],
  ) {
    this.state =
      messages instanceof MailboxState
        ? messages
        : new MailboxState(mailbox.id, messages, mailbox.highestModseq);
    for (const keyword of keywords) this.keywords = withEntry(this.keywords, keyword.toLowerCase(), keyword);
    // The shared state's settled HIGHESTMODSEQ, not the mailbox's (which may cover changes still
    // being written, that this session could then never learn with CHANGEDSINCE).
    this.highestModseq = this.state.highestModseq;
    this.reportedCount = this.state.length;
  }

  get exists(): number {
    return this.state.length - this.pendingNew.size + this.pendingExpunges.size;
  }

  get modseq(): number {
    return this.highestModseq;
  }

  /** Counted per claimed range by binary search, not per message (SELECT of a big mailbox asks). */
  get recentCount(): number {
    let count = 0;
    let covered = 0; // ranges may overlap: each UID counts once
    for (const [low, high] of [...this.recentRanges].sort((a, b) => a[0] - b[0])) {
      const from = Math.max(low, covered);
      if (high <= from) continue;
      count += this.countShownIn(from, high);
      covered = high;
    }
    return count;
  }

  /** How many messages this client sees with a UID in (low, high]. */
  private countShownIn(low: number, high: number): number {
    const inState = this.state.lowerBound(high + 1) - this.state.lowerBound(low + 1);
    const inRange = (sorted: readonly number[]) => countBelow(sorted, high + 1) - countBelow(sorted, low + 1);
    return inState - inRange(this.newSorted()) + inRange(this.expungesSorted());
  }

  private newSorted(): readonly number[] {
    return (this.sortedNew ??= sortedKeys(this.pendingNew));
  }

  private expungesSorted(): readonly number[] {
    return (this.sortedExpunges ??= sortedKeys(this.pendingExpunges));
  }

  get keywordList(): string[] {
    return [...this.keywords.values()];
  }

  /** Marks the messages claimed as recent by this session (UIDs in (previous, current]). */
  markRecent(previous: number, current: number): void {
    if (current > previous) this.recentRanges.push([previous, current]);
  }

  isRecent(uid: number): boolean {
    // A loop, not some(): asked once per message by FETCH and SEARCH over the whole mailbox.
    for (const [low, high] of this.recentRanges) if (uid > low && uid <= high) return true;
    return false;
  }

  /** True when the view shows exactly what the shared state holds (nothing pending to report). */
  get unchanged(): boolean {
    return this.pendingNew.size === 0 && this.pendingExpunges.size === 0;
  }

  uidAt(seq: number): number | undefined {
    if (this.unchanged) return seq >= 1 && seq <= this.state.length ? this.state.uidAt(seq - 1) : undefined;
    return this.allUids()[seq - 1];
  }

  /** Sequence number of a UID, or 0 when the message is not (or no longer) in view. */
  seqOf(uid: number): number {
    const expunged = this.pendingExpunges.has(uid);
    if (!expunged && (this.pendingNew.has(uid) || this.state.indexOf(uid) < 0)) return 0;
    const below = this.state.lowerBound(uid);
    if (this.unchanged) return below + 1;
    return below - countBelow(this.newSorted(), uid) + countBelow(this.expungesSorted(), uid) + 1;
  }

  saveSearchResult(uids: readonly number[]): void {
    this.savedUids = [...uids].sort((a, b) => a - b);
  }

  /**
   * `$`: the saved UIDs still in view, ascending, with their sequence numbers. An expunged message
   * leaves `$` (RFC 5182 2.1) once this client has been told of the expunge.
   */
  searchResult(): { uids: number[]; seqs: number[] } {
    const uids: number[] = [];
    const seqs: number[] = [];
    for (const uid of this.savedUids) {
      const seq = this.seqOf(uid);
      if (seq === 0) continue;
      uids.push(uid);
      seqs.push(seq);
    }
    return { uids, seqs };
  }

  /**
   * The highest UID this client sees (0: none), without listing them: `*` of a UID set. The state's
   * last messages may be new ones not announced yet; an expunged one still shown may be higher.
   */
  get lastUid(): number {
    let index = this.state.length - 1;
    while (index >= 0 && this.pendingNew.has(this.state.uidAt(index))) index--;
    let last = index >= 0 ? this.state.uidAt(index) : 0;
    for (const uid of this.pendingExpunges.keys()) if (uid > last) last = uid;
    return last;
  }

  /** The UIDs this client sees, in sequence order (a fresh array: callers may keep it). */
  allUids(): readonly number[] {
    const uids: number[] = [];
    const expunged = this.expungesSorted();
    let next = 0;
    for (let index = 0; index < this.state.length; index++) {
      const uid = this.state.uidAt(index);
      while (next < expunged.length && expunged[next]! < uid) uids.push(expunged[next++]!);
      if (!this.pendingNew.has(uid)) uids.push(uid);
    }
    while (next < expunged.length) uids.push(expunged[next++]!);
    return uids;
  }

  /**
   * The sequence number of the first message without \Seen (0: none), for SELECT's OK [UNSEEN].
   * Over a view that shows the state as it is, decided once per interned flag list, in state order,
   * without listing the UIDs of a big mailbox first.
   */
  firstUnseen(): number {
    if (!this.unchanged) return this.allUids().findIndex((uid) => !this.flagsOf(uid).includes('\\Seen')) + 1;
    const state = this.state;
    const seenBySet: Array<boolean | undefined> = [];
    for (let index = 0; index < state.length; index++) {
      const id = state.flagSetIdAt(index);
      const seen = (seenBySet[id] ??= state.flagSetById(id).includes('\\Seen'));
      if (!seen) return index + 1;
    }
    return 0;
  }

  flagsOf(uid: number): Flag[] {
    const expunged = this.pendingExpunges.get(uid);
    if (expunged) return expunged.flags;
    const index = this.state.indexOf(uid);
    return index < 0 ? [] : this.state.flagsAt(index);
  }

  modseqOf(uid: number): number {
    const expunged = this.pendingExpunges.get(uid);
    if (expunged) return expunged.modseq;
    const index = this.state.indexOf(uid);
    return index < 0 ? 0 : this.state.modseqAt(index);
  }

  /** Records this session's own flag change at once; its journal echo is then not reported back. */
  applyOwnFlags(uid: number, flags: Flag[], modseq: number): void {
    this.state.setFlags(uid, flags, modseq);
    this.ownChanges = withEntry(this.ownChanges, uid, Math.max(this.ownChanges.get(uid) ?? 0, modseq));
    this.noteKeywords(flags);
    this.highestModseq = Math.max(this.highestModseq, modseq);
    // A flag change of this session's own may change an updating search's result too.
    if (this.searchContexts.size > 0) this.searchContexts.stale = true;
  }

  /** Applies one journal entry to the shared state and queues its effect for this client. */
  queue(entry: JournalEntry): void {
    if (entry.mailboxId !== this.mailbox.id) return;
    if (entry.modseq !== null) this.highestModseq = Math.max(this.highestModseq, entry.modseq);
    this.queueEffect(this.state.apply(entry), entry.modseq ?? 0);
  }

  private queueEffect(effect: StateEffect, modseq: number): void {
    switch (effect.kind) {
      case 'none':
        return;
      case 'added':
        this.pendingNew = withValue(this.pendingNew, effect.uid);
        this.sortedNew = null;
        return;
      case 'removed':
        this.sortedNew = null;
        if (removed(this.pendingNew, effect.uid)) return; // never shown: nothing to take back
        this.pendingExpunges = withEntry(this.pendingExpunges, effect.uid, {
          flags: effect.flags,
          modseq: effect.modseq,
        });
        this.sortedExpunges = null;
        removed(this.pendingFlags, effect.uid);
        return;
      case 'flags': {
        const own = this.ownChanges.get(effect.uid);
        if (own !== undefined && own >= modseq) return;
        removed(this.ownChanges, effect.uid);
        if (!this.pendingNew.has(effect.uid)) this.pendingFlags = withValue(this.pendingFlags, effect.uid);
        return;
      }
    }
  }

  /** True when new messages are waiting to be reported. */
  hasNew(): boolean {
    return this.pendingNew.size > 0;
  }

  /** True when changes are waiting to be reported (a new keyword of this session's own STORE, too). */
  hasPending(): boolean {
    if (this.keywordsChanged || this.searchContexts.stale) return true;
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
    if (updates.length > 0 && this.searchContexts.size > 0) this.searchContexts.stale = true;
    if (this.keywordsChanged) {
      this.keywordsChanged = false;
      updates.unshift({ kind: 'flags', keywords: this.keywordList });
    }
    return updates;
  }

  private applyExpunges(updates: ViewUpdate[]): void {
    if (this.pendingExpunges.size === 0) return;
    // Highest first: each EXPUNGE shifts only the numbers above it.
    // Each seqOf here sees the expunges still pending above this one: the sorted list, cut short.
    const expunges = [...this.expungesSorted()];
    this.sortedExpunges = expunges;
    for (let at = expunges.length - 1; at >= 0; at--) {
      const uid = expunges[at]!;
      updates.push({ kind: 'expunge', seq: this.seqOf(uid), uid });
      removed(this.pendingExpunges, uid);
      removed(this.ownChanges, uid);
      expunges.pop();
    }
    this.pendingExpunges = EMPTY_MAP;
    this.sortedExpunges = null;
    this.reportedCount = this.exists;
  }

  private applyFlagChanges(updates: ViewUpdate[]): void {
    for (const uid of sortedKeys(this.pendingFlags)) {
      const seq = this.seqOf(uid);
      if (seq === 0 || this.pendingExpunges.has(uid)) continue;
      const flags = this.flagsOf(uid);
      this.noteKeywords(flags);
      updates.push({ kind: 'fetch', seq, uid, flags, modseq: this.modseqOf(uid) });
    }
    this.pendingFlags = EMPTY_SET;
  }

  private applyNew(updates: ViewUpdate[]): void {
    if (this.pendingNew.size === 0) return;
    for (const uid of this.pendingNew) this.noteKeywords(this.flagsOf(uid));
    this.pendingNew = EMPTY_SET;
    this.sortedNew = null;
    if (this.exists !== this.reportedCount) {
      this.reportedCount = this.exists;
      updates.push({ kind: 'exists', count: this.exists });
      updates.push({ kind: 'recent', count: this.recentCount });
    }
  }

  /**
   * Notes the keywords among `flags` that this client has not been told of. True when there were
   * some: the caller announces the new list (FLAGS) before the response that uses them.
   */
  announceKeywords(flags: readonly Flag[]): boolean {
    this.noteKeywords(flags);
    const changed = this.keywordsChanged;
    this.keywordsChanged = false;
    return changed;
  }

  private noteKeywords(flags: readonly Flag[]): void {
    for (const flag of flags) {
      if (flag.startsWith('\\') || this.keywords.has(flag.toLowerCase())) continue;
      this.keywords = withEntry(this.keywords, flag.toLowerCase(), flag);
      this.keywordsChanged = true;
    }
  }
}
