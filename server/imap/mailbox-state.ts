/**
 * The latest known state of a mailbox's messages in this process, shared by every session that
 * has it selected: UIDs, MODSEQs and flags in parallel typed arrays (16 bytes a message, flag lists
 * interned), so a thousand idle sessions on one mailbox cost one copy, not a thousand. Each
 * session's `MailboxView` keeps only what it has not reported yet on top of this. The state is
 * built from the store's FlagListing, whose typed arrays it takes over: loading it makes no object
 * per message.
 *
 * Journal entries are applied once per entry (the first session's listener applies it; the others
 * get the memoised effect), in journal order.
 */
import { StoreError } from '../store/errors.ts';
import type { JournalFollower } from '../store/follower.ts';
import type { Flag, FlagListing, Id, JournalEntry, Mailbox, MessageSummary, Store } from '../store/types.ts';
import { SortCache } from './sort/cache.ts';

/** What loading a mailbox state reads. */
export type MailboxSource = Pick<Store, 'getMailboxById' | 'listFlags'>;

/** What applying one journal entry did, so every view of the mailbox can queue the same change. */
export type StateEffect =
  | { kind: 'none' }
  | { kind: 'added'; uid: number }
  | { kind: 'removed'; uid: number; flags: Flag[]; modseq: number }
  | { kind: 'flags'; uid: number };

const NONE: StateEffect = { kind: 'none' };

export class MailboxState {
  private uids = new Uint32Array(0);
  private modseqs = new Float64Array(0);
  private flagIds = new Uint32Array(0);
  private count = 0;
  private readonly flagSets: Flag[][] = [];
  private readonly flagSetIds = new Map<string, number>();
  private lastEntryId = -1;
  private lastEffect: StateEffect = NONE;
  /**
   * A MODSEQ every change at or below which this state holds (the listing's settled
   * HIGHESTMODSEQ, then each applied entry's, which come in MODSEQ order): what SELECT may show.
   */
  highestModseq: number;
  /** Views holding this state; the registry forgets it at zero. */
  references = 0;
  /** SORT and THREAD keys of the messages, filled as commands need them (sort/cache.ts). */
  readonly sortCache = new SortCache();
  /** A session of this process claimed \Recent up to this UID (the store's mark is at least this). */
  private recentClaimedThrough = 0;
  /** The claim a session of this process is making now. */
  private recentClaiming: Promise<unknown> | null = null;

  constructor(
    readonly mailboxId: Id,
    /** The store's compact listing (its arrays are taken over), or summaries (tests). */
    messages: FlagListing | readonly MessageSummary[],
    /**
     * Settled HIGHESTMODSEQ of the listing. Not the listing's highest MODSEQ: it may hold changes
     * committed after the settled point whose lower neighbours are still being written.
     */
    highestModseq?: number,
  ) {
    if ('flagSets' in messages) this.adopt(messages);
    else {
      this.reserve(messages.length);
      for (const message of messages) this.push(message.uid, message.flags, message.modseq);
    }
    this.highestModseq = highestModseq ?? this.topModseq();
  }

  /** Takes a listing's arrays as they are, its flag lists interned again (the store keys them its own way). */
  private adopt(listing: FlagListing): void {
    const ids = listing.flagSets.map((flags) => this.internFlags(flags));
    this.uids = listing.uids;
    this.modseqs = listing.modseqs;
    this.flagIds = listing.flagSetIds;
    this.count = listing.count;
    for (let i = 0; i < this.count; i++) this.flagIds[i] = ids[this.flagIds[i]!]!;
  }

  private topModseq(): number {
    let top = 0;
    for (let i = 0; i < this.count; i++) if (this.modseqs[i]! > top) top = this.modseqs[i]!;
    return top;
  }

  /**
   * Claims \Recent (Store.claimRecent) for a session that has new messages up to `newest` to
   * report, unless a session of this process has claimed them already: then nobody else may see
   * them as recent, and asking the store again (a write) would only say so. A thousand sessions
   * idling on one mailbox thus make one claim per delivery between them, not a thousand; those
   * arriving while a claim is made wait for it. Null when there was nothing to claim.
   */
  async claimRecent(
    claim: (mailboxId: Id) => Promise<{ previous: number; current: number }>,
    newest: number,
  ): Promise<{ previous: number; current: number } | null> {
    while (this.recentClaimedThrough < newest) {
      if (this.recentClaiming) {
        await this.recentClaiming.catch(() => undefined);
        continue;
      }
      const claiming = claim(this.mailboxId);
      this.recentClaiming = claiming;
      try {
        const result = await claiming;
        this.recentClaimedThrough = Math.max(this.recentClaimedThrough, result.current);
        return result;
      } finally {
        this.recentClaiming = null;
      }
    }
    return null;
  }

  get length(): number {
    return this.count;
  }

  get lastUid(): number {
    return this.count > 0 ? this.uids[this.count - 1]! : 0;
  }

  uidAt(index: number): number {
    return this.uids[index]!;
  }

  /** Number of UIDs below `uid` (its index when present). */
  lowerBound(uid: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.uids[middle]! < uid) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  indexOf(uid: number): number {
    const index = this.lowerBound(uid);
    return index < this.count && this.uids[index] === uid ? index : -1;
  }

  flagsAt(index: number): Flag[] {
    return this.flagSets[this.flagIds[index]!]!;
  }

  modseqAt(index: number): number {
    return this.modseqs[index]!;
  }

  /** The interned flag list of the message at `index`, by its number (below flagSetCount). */
  flagSetIdAt(index: number): number {
    return this.flagIds[index]!;
  }

  flagSetById(id: number): Flag[] {
    return this.flagSets[id]!;
  }

  /**
   * The indexes from `from` to `to` (exclusive) of the messages whose flag list is marked 1 in
   * `marks` (by flag list id, 0 for the others; it must cover every id), written into `found` from
   * `at` on; returns where they end. One pass over the typed arrays without a branch per message
   * (which a third of matches would mispredict), for a SEARCH on flags alone (search/view-only.ts).
   */
  collectMarked(marks: Uint8Array, from: number, to: number, found: Uint32Array, at: number): number {
    const flagIds = this.flagIds;
    const end = Math.min(to, this.count);
    for (let index = from; index < end; index++) {
      found[at] = index;
      at += marks[flagIds[index]!]!;
    }
    return at;
  }

  /** How many distinct flag lists were interned (ids never change while the state lives). */
  get flagSetCount(): number {
    return this.flagSets.length;
  }

  /** Sets flags and MODSEQ unless the stored MODSEQ is newer; true when applied. */
  setFlags(uid: number, flags: Flag[], modseq: number): boolean {
    const index = this.indexOf(uid);
    if (index < 0 || this.modseqs[index]! > modseq) return false;
    this.flagIds[index] = this.internFlags(flags);
    this.modseqs[index] = modseq;
    return true;
  }

  /** Applies a journal entry (once per entry id) and says what it changed. */
  apply(entry: JournalEntry): StateEffect {
    if (entry.id === this.lastEntryId) return this.lastEffect;
    this.lastEntryId = entry.id;
    this.lastEffect = this.applyOnce(entry);
    return this.lastEffect;
  }

  private applyOnce(entry: JournalEntry): StateEffect {
    if (entry.mailboxId !== this.mailboxId || entry.uid === null) return NONE;
    const uid = entry.uid;
    const modseq = entry.modseq ?? 0;
    this.highestModseq = Math.max(this.highestModseq, modseq);
    switch (entry.kind) {
      case 'message-new':
        if (uid <= this.lastUid) return NONE; // already in the listing this state was loaded from
        this.reserve(this.count + 1);
        this.push(uid, entry.flags ?? [], modseq);
        return { kind: 'added', uid };
      case 'message-flags':
        // Equal MODSEQ still counts: the change may have been applied early by its own session.
        return this.setFlags(uid, entry.flags ?? [], modseq) ? { kind: 'flags', uid } : NONE;
      case 'message-expunge':
        return this.remove(uid);
      case 'mailbox-create':
      case 'mailbox-rename':
      case 'mailbox-delete':
      case 'mailbox-subscribe':
      case 'mailbox-unsubscribe':
      case 'metadata-change':
      case 'noop':
        return NONE;
    }
  }

  private remove(uid: number): StateEffect {
    const index = this.indexOf(uid);
    if (index < 0) return NONE;
    const effect: StateEffect = {
      kind: 'removed',
      uid,
      flags: this.flagsAt(index),
      modseq: this.modseqAt(index),
    };
    this.uids.copyWithin(index, index + 1, this.count);
    this.modseqs.copyWithin(index, index + 1, this.count);
    this.flagIds.copyWithin(index, index + 1, this.count);
    this.count--;
    this.sortCache.forget(uid);
    return effect;
  }

  private push(uid: number, flags: Flag[], modseq: number): void {
    this.uids[this.count] = uid;
    this.modseqs[this.count] = modseq;
    this.flagIds[this.count] = this.internFlags(flags);
    this.count++;
  }

  private reserve(size: number): void {
    if (size <= this.uids.length) return;
    const capacity = Math.max(size, Math.ceil(this.uids.length * 1.25) + 16);
    const grow = <T extends Uint32Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old.subarray(0, this.count));
      return fresh;
    };
    this.uids = grow(this.uids, new Uint32Array(capacity));
    this.modseqs = grow(this.modseqs, new Float64Array(capacity));
    this.flagIds = grow(this.flagIds, new Uint32Array(capacity));
  }

  /** Distinct flag lists are few (a handful of combinations per mailbox): store each once. */
  private internFlags(flags: Flag[]): number {
    const key = flags.join('\u0000');
    let id = this.flagSetIds.get(key);
    if (id === undefined) {
      id = this.flagSets.length;
      this.flagSets.push(flags);
      this.flagSetIds.set(key, id);
    }
    return id;
  }
}

/**
 * The shared states of this process, one per selected mailbox, kept while some view holds it. A
 * state follows the journal itself from before its listing is read, so no change can fall between
 * the listing and the first view (entries seen during the load are applied after it; applying is
 * idempotent for what the listing already had).
 */
export class MailboxStates {
  private readonly states = new Map<
    Id,
    { state: MailboxState; stopFollowing: () => void; expiry: NodeJS.Timeout | null }
  >();
  private readonly loading = new Map<Id, Promise<MailboxState>>();

  constructor(
    private readonly follower: JournalFollower,
    /** How long a state no session holds is kept (still following the journal): clients reselect often. */
    private readonly keepMs = 30_000,
  ) {}

  /** The state of a mailbox, loaded from `source` when no session has it (or had it lately). */
  async acquire(mailbox: Mailbox, source: MailboxSource): Promise<MailboxState> {
    const held = this.states.get(mailbox.id);
    if (held?.expiry) {
      clearTimeout(held.expiry);
      held.expiry = null;
    }
    const state = held?.state ?? (await this.load(mailbox, source));
    state.references++;
    return state;
  }

  private load(mailbox: Mailbox, source: MailboxSource): Promise<MailboxState> {
    let loading = this.loading.get(mailbox.id);
    if (!loading) {
      loading = this.follow(mailbox, source).finally(() => this.loading.delete(mailbox.id));
      this.loading.set(mailbox.id, loading);
    }
    return loading;
  }

  /**
   * Subscribes, then reads a settled listing (the visibility rule in store/types.ts): the mailbox's
   * UIDNEXT and HIGHESTMODSEQ, the owner's journal read up to their journalMark (so every change up to them
   * is committed), then the messages below that UIDNEXT. A message above it, or one still being
   * written below a UID the listing has, would otherwise show out of UID order; those come through
   * the journal instead, in order.
   */
  private async follow(mailbox: Mailbox, source: MailboxSource): Promise<MailboxState> {
    const early: JournalEntry[] = [];
    let state: MailboxState | null = null;
    const stopFollowing = this.follower.subscribe(mailbox.userId, (entry) => {
      if (entry.mailboxId !== mailbox.id) return;
      if (state) state.apply(entry);
      else early.push(entry);
    });
    try {
      // Every change after the user's head reaches the listener above; the ones up to it are
      // committed before the mailbox is read, so the listing has them.
      await this.follower.ready(mailbox.userId);
      const current = await source.getMailboxById(mailbox.id);
      if (!current) throw new StoreError('NONEXISTENT', `mailbox ${mailbox.path} was deleted`);
      await this.follower.reach(mailbox.userId, current.journalMark);
      const listing = await source.listFlags(mailbox.id, current.uidNext);
      const loaded = new MailboxState(mailbox.id, listing, current.highestModseq);
      for (const entry of early) loaded.apply(entry);
      state = loaded;
      this.states.set(mailbox.id, { state, stopFollowing, expiry: null });
      return state;
    } catch (error) {
      stopFollowing();
      throw error;
    }
  }

  release(state: MailboxState): void {
    state.references--;
    const held = this.states.get(state.mailboxId);
    if (state.references > 0 || held?.state !== state || held.expiry) return;
    held.expiry = setTimeout(() => {
      held.expiry = null;
      if (state.references > 0) return;
      held.stopFollowing();
      this.states.delete(state.mailboxId);
    }, this.keepMs);
    held.expiry.unref();
  }

  /** Forgets every state (server shutdown). */
  clear(): void {
    for (const held of this.states.values()) {
      if (held.expiry) clearTimeout(held.expiry);
      held.stopFollowing();
    }
    this.states.clear();
  }

  get size(): number {
    return this.states.size;
  }
}
