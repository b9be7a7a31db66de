/**
 * The change journal on MongoDB, partitioned by user, and the visibility rule it keeps
 * (server/store/types.ts).
 *
 * Every user has a journal of their own: positions 1, 2, 3, ... from a counter document of that
 * user (`counters`, `_id` "journal:<user>"), entries in `user_journal` under the unique key
 * {user, pos} (the shard key too). Writers of different users never touch one document, and a
 * reader reads only the users it follows (one query for all of them, each user from its own
 * position): a process's journal cost grows with the users that have sessions in it, not with the
 * users of the cluster.
 *
 * Every position of a user ends up holding exactly one document: the change it was taken for, or a
 * no-op. Nothing is ever skipped, so a reader that read a user's journal up to N has seen every
 * change of that user whose position is at most N.
 *
 * Positions are taken *before* the change is made, so two writers that take N and N+1 may write
 * N+1 first. Readers only take the contiguous run of positions after their cursor and stop at a
 * gap. A gap normally fills within milliseconds; one still open GAP_WAIT_MS after a reader first
 * saw it (its writer died, or stalls in an outage) is filled by the reader with no-op documents.
 * The unique {user, pos} decides the race: a writer whose insert then fails with a duplicate key
 * has lost its position and makes its change again under new positions (messages.ts,
 * `compensate`), so the change is announced late but in order, never lost and never twice.
 *
 * How long a gap is waited for is measured on the reader's own clock from when it first saw the
 * gap, so clock skew between server processes does not matter; an entry above the gap that is much
 * older than that (a process reading old history) lets the gap be filled at once.
 *
 * Per mailbox, positions (in its user's journal) and MODSEQs/UIDs are allocated in the same order
 * (messages.ts, `allocate`: the mailbox document records the last position it was allocated with,
 * and refuses an allocation with a lower one), so the journal gives each mailbox's changes in UID
 * and MODSEQ order.
 *
 * Databases of schema version 1 had one global journal (`journal`, one counter for the cluster):
 * schema.ts drops it when the database is upgraded (README: stop every old server first).
 */
import { StoreError } from '../errors.ts';
import type { Flag, Id, JournalEntry, JournalKind } from '../types.ts';
import { markUserForRecount } from './totals.ts';
import { isDuplicateKey, journalCounterId, type Collections, type JournalDoc } from './schema.ts';

export const DEFAULT_JOURNAL_LIMIT = 1000;
const MAX_JOURNAL_LIMIT = 10_000;
/** Journal entries older than this are pruned when a store opens (sessions follow within seconds). */
export const JOURNAL_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/**
 * A gap still open this long after a reader first saw it is filled with no-ops. Short enough that
 * a dead writer delays other sessions' updates little (IDLE resumes within 2 s after an outage),
 * long enough that a live writer (a few round trips) is almost never overtaken.
 */
export const GAP_WAIT_MS = 1500;
/** Positions filled with no-ops at once, at most. */
const MAX_FILL = 1000;
/** A gap below an entry written this long ago is filled whatever the reader saw (old history). */
const GAP_STALE_MS = 60_000;
/** How many of a user's newest entries journalHead inspects for gaps still open. */
const HEAD_WINDOW = 64;
/** Query rounds of one readJournal call (a filled gap, or a page cut by the limit, is read again). */
const READ_ROUNDS = 4;
/**
 * How often a reader compares its users' journal counters with what it read, to find positions
 * taken at the top of a journal by a writer that died (no entry above them shows them as a gap).
 */
const HEAD_CHECK_MS = 1000;
/** Users named in one query (an $or of one clause each): a process with more asks in several. */
export const USERS_PER_QUERY = 256;

export interface NewJournalEntry {
  userId: number;
  mailboxId: number;
  kind: Exclude<JournalKind, 'noop'>;
  uid?: number;
  modseq?: number;
  flags?: readonly Flag[];
  path?: string;
  oldPath?: string;
}

/** Reserves `count` consecutive positions of the user's journal; returns the first. */
export async function nextPositions(c: Collections, userId: number, count: number): Promise<number> {
  // The value before the increment is ours (mongo-java-server can hand out the value after twice).
  const before = await c.counters.findOneAndUpdate(
    { _id: journalCounterId(userId) },
    { $inc: { seq: count } },
    { upsert: true, returnDocument: 'before' },
  );
  return (before?.seq ?? 0) + 1;
}

function journalDoc(userId: number, pos: number, entry: NewJournalEntry | null, at: Date): JournalDoc {
  return {
    _id: `${userId}:${pos}`,
    user: userId,
    pos,
    mailbox: entry?.mailboxId ?? 0,
    kind: entry?.kind ?? 'noop',
    uid: entry?.uid ?? null,
    modseq: entry?.modseq ?? null,
    flags: entry?.flags ? [...entry.flags] : null,
    path: entry?.path ?? null,
    oldPath: entry?.oldPath ?? null,
    at,
  };
}

/** Indexes of the documents a bulk insert refused as duplicates; rethrows any other failure. */
function duplicateIndexes(error: unknown): number[] {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0 || !list.every((e: { code?: unknown }) => isDuplicateKey(e))) throw error;
  return list.map((e: { index: number }) => e.index);
}

/**
 * Writes `entries` (null: a no-op) at the user's positions first, first+1, ...; returns the
 * indexes of the entries whose position someone else (a reader) had filled first.
 */
async function insertAt(
  c: Collections,
  userId: number,
  first: number,
  entries: ReadonlyArray<NewJournalEntry | null>,
): Promise<number[]> {
  if (entries.length === 0) return [];
  const at = new Date();
  const docs = entries.map((entry, index) => journalDoc(userId, first + index, entry, at));
  try {
    await c.journal.insertMany(docs, { ordered: false });
    return [];
  } catch (error) {
    if (isDuplicateKey(error) && entries.length === 1) return [0];
    return duplicateIndexes(error);
  }
}

/**
 * Writes `entries` (null: a no-op) at the user's positions first, first+1, ...; returns the
 * indexes of the entries whose position a reader had filled first (their writer must make them
 * again).
 */
export async function insertJournalAt(
  c: Collections,
  userId: number,
  first: number,
  entries: ReadonlyArray<NewJournalEntry | null>,
): Promise<number[]> {
  const lost = await insertAt(c, userId, first, entries);
  return lost.filter((index) => entries[index] !== null);
}

/**
 * Gives positions back as no-ops so readers need not wait for them (best effort). True when a
 * reader had filled some of them first: the writer was taken for dead (see fillGap).
 */
export async function releasePositions(
  c: Collections,
  userId: number,
  first: number,
  count: number,
): Promise<boolean> {
  if (count <= 0) return false;
  try {
    return (await insertAt(c, userId, first, new Array<null>(count).fill(null))).length > 0;
  } catch {
    // The database is gone: readers fill the positions themselves once they time out.
    return false;
  }
}

/**
 * Writes entries of one user that no mailbox allocation orders (mailbox create/rename/delete,
 * user removal) at fresh positions, again at newer ones for any position a reader filled first.
 */
export async function writeJournal(
  c: Collections,
  userId: number,
  entries: readonly NewJournalEntry[],
): Promise<void> {
  let pending = [...entries];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= 10) throw new StoreError('UNAVAILABLE', 'could not write the journal');
    const first = await nextPositions(c, userId, pending.length);
    const lost = await insertJournalAt(c, userId, first, pending);
    pending = lost.map((index) => pending[index]!);
  }
}

function toJournalEntry(doc: JournalDoc): JournalEntry {
  return {
    id: doc.pos,
    userId: String(doc.user),
    mailboxId: String(doc.mailbox),
    kind: doc.kind,
    uid: doc.uid,
    modseq: doc.modseq,
    flags: doc.flags,
    path: doc.path,
    oldPath: doc.oldPath,
    at: doc.at,
  };
}

/** Remembers, per process, when each gap (a user's first missing position) was first seen. */
export class GapTracker {
  private readonly firstSeen = new Map<string, number>();
  /** Open positions at the top of a journal: when first seen, and the counter then. */
  private readonly headsSeen = new Map<string, { at: number; last: number }>();
  private lastHeadCheck = 0;

  /** True at most once per HEAD_CHECK_MS: time to look for open positions at the top. */
  headCheckDue(): boolean {
    const now = Date.now();
    if (now - this.lastHeadCheck < HEAD_CHECK_MS) return false;
    this.lastHeadCheck = now;
    return true;
  }

  /**
   * The user's positions from `first` up to `last` (its journal counter) are taken but unwritten:
   * returns the last position to fill when they were already open GAP_WAIT_MS ago (only those
   * taken by then: younger ones may belong to live writers), else null.
   */
  abandonedHead(userId: number, first: number, last: number): number | null {
    const now = Date.now();
    const key = `${userId}:${first}`;
    const seen = this.headsSeen.get(key);
    if (seen === undefined) {
      if (this.headsSeen.size > 10_000) this.headsSeen.clear();
      this.headsSeen.set(key, { at: now, last });
      return null;
    }
    return now - seen.at >= GAP_WAIT_MS ? Math.min(seen.last, last) : null;
  }

  /** True when the user's positions below `above` (down to `gapStart`) waited long enough to fill. */
  abandoned(userId: number, gapStart: number, above: Pick<JournalDoc, 'at'>): boolean {
    const now = Date.now();
    if (now - above.at.getTime() >= GAP_STALE_MS) return true;
    const key = `${userId}:${gapStart}`;
    const seen = this.firstSeen.get(key);
    if (seen === undefined) {
      if (this.firstSeen.size > 10_000) this.firstSeen.clear();
      this.firstSeen.set(key, now);
      return false;
    }
    return now - seen >= GAP_WAIT_MS;
  }
}

/**
 * Fills positions from..to (inclusive) with no-ops; a writer that got there first keeps its own.
 * The writer of a position filled here died or stalled, maybe half-way through changing a
 * mailbox's messages and its STATUS counters: the user's mailboxes that may be concerned are marked
 * for a recount first (recount.ts), so that the mark is there even if this process dies right
 * after filling.
 */
export async function fillGap(c: Collections, userId: number, from: number, to: number): Promise<void> {
  await markUserForRecount(c, userId, from);
  const last = Math.min(to, from + MAX_FILL - 1);
  await insertAt(
    c,
    userId,
    from,
    Array.from({ length: last - from + 1 }, () => null),
  );
}

/** The numeric user ids of `cursors` with their positions (ids that are no user id are left out). */
function numericCursors(cursors: ReadonlyMap<Id, number>): Map<number, number> {
  const result = new Map<number, number>();
  for (const [userId, position] of cursors) {
    const id = Number(userId);
    if (Number.isSafeInteger(id) && id > 0 && String(id) === userId) {
      result.set(id, Math.max(0, Math.floor(position) || 0));
    }
  }
  return result;
}

/**
 * The entries of the users in `cursors` after each one's position, each user's in position order
 * and without skipping one (a user's run stops at a gap still being written), at most `limit` in
 * all: one query per round for up to USERS_PER_QUERY users.
 */
export async function readJournal(
  c: Collections,
  gaps: GapTracker,
  cursors: ReadonlyMap<Id, number>,
  limit = DEFAULT_JOURNAL_LIMIT,
): Promise<JournalEntry[]> {
  const boundedLimit = Math.max(1, Math.min(MAX_JOURNAL_LIMIT, Math.floor(limit) || DEFAULT_JOURNAL_LIMIT));
  const users = [...numericCursors(cursors)];
  const entries: JournalEntry[] = [];
  const checkHeads = gaps.headCheckDue();
  for (let start = 0; start < users.length && entries.length < boundedLimit; start += USERS_PER_QUERY) {
    const positions = new Map(users.slice(start, start + USERS_PER_QUERY));
    entries.push(...(await readUsers(c, gaps, positions, boundedLimit - entries.length, checkHeads)));
  }
  return entries;
}

/** readJournal for a few users: `positions` (user → last position read) moves on as it reads. */
async function readUsers(
  c: Collections,
  gaps: GapTracker,
  positions: Map<number, number>,
  limit: number,
  checkHeads = false,
): Promise<JournalEntry[]> {
  /** Users whose run stopped at a gap still open: nothing more of theirs this call. */
  const waiting = new Set<number>();
  const entries: JournalEntry[] = [];
  for (let round = 0; round < READ_ROUNDS && entries.length < limit; round++) {
    const users = [...positions.keys()].filter((user) => !waiting.has(user));
    if (users.length === 0) break;
    const wanted = limit - entries.length;
    const docs = await c.journal
      .find(
        users.length === 1
          ? { user: users[0]!, pos: { $gt: positions.get(users[0]!)! } }
          : { $or: users.map((user) => ({ user, pos: { $gt: positions.get(user)! } })) },
        { projection: { _id: 0 } },
      )
      .sort({ user: 1, pos: 1 })
      .limit(wanted)
      .toArray();
    let readAgain = docs.length === wanted;
    const stopped = new Set<number>();
    for (const doc of docs) {
      if (stopped.has(doc.user) || waiting.has(doc.user)) continue;
      const expected = positions.get(doc.user)! + 1;
      if (doc.pos !== expected) {
        stopped.add(doc.user);
        if (gaps.abandoned(doc.user, expected, doc)) {
          await fillGap(c, doc.user, expected, doc.pos - 1);
          readAgain = true; // a writer may have won some of the positions: read them
        } else {
          waiting.add(doc.user);
        }
        continue;
      }
      entries.push(toJournalEntry(doc));
      positions.set(doc.user, doc.pos);
    }
    if (!readAgain) break;
  }
  if (checkHeads && entries.length < limit) {
    await fillAbandonedHeads(c, gaps, new Map([...positions].filter(([user]) => !waiting.has(user))));
  }
  return entries;
}

/**
 * Positions at the top of a user's journal that a writer took and never wrote (it died after
 * taking them, and nothing of that user was written since): no reader sees them as a gap, yet the
 * dead writer may have changed a mailbox's counters. One query for the journal counters of
 * `positions`' users (each read up to its position); positions open GAP_WAIT_MS are filled.
 */
async function fillAbandonedHeads(
  c: Collections,
  gaps: GapTracker,
  positions: ReadonlyMap<number, number>,
): Promise<void> {
  if (positions.size === 0) return;
  const userOf = new Map([...positions.keys()].map((user) => [journalCounterId(user), user]));
  const counters = await c.counters.find({ _id: { $in: [...userOf.keys()] } }).toArray();
  for (const counter of counters) {
    const user = userOf.get(counter._id);
    const read = user === undefined ? undefined : positions.get(user);
    if (user === undefined || read === undefined || counter.seq <= read) continue;
    const last = gaps.abandonedHead(user, read + 1, counter.seq);
    if (last !== null) await fillGap(c, user, read + 1, last);
  }
}

/**
 * The position to follow a user from: their newest entry, or, when a recent gap is still open
 * below it, the position just under the lowest such gap (so a follower starting here does not skip
 * the pending entry). 0 when the user has no entries yet.
 */
export async function journalHead(c: Collections, gaps: GapTracker, userId: number): Promise<number> {
  const newest = await c.journal
    .find({ user: userId }, { projection: { _id: 0, pos: 1, at: 1 } })
    .sort({ user: 1, pos: -1 })
    .limit(HEAD_WINDOW)
    .toArray();
  if (newest.length === 0) return 0;
  let head = newest[0]!.pos;
  for (let i = 0; i + 1 < newest.length; i++) {
    const above = newest[i]!;
    const below = newest[i + 1]!;
    if (above.pos - below.pos > 1 && !gaps.abandoned(userId, below.pos + 1, above)) head = below.pos;
  }
  // The whole journal is in the window and starts above 1 with a recent entry: its first positions
  // are still being written (pruning always keeps an old entry at the bottom; see pruneJournal).
  const oldest = newest[newest.length - 1]!;
  if (newest.length < HEAD_WINDOW && oldest.pos > 1 && !gaps.abandoned(userId, 1, oldest)) head = 0;
  return head;
}

/**
 * Deletes entries older than `before`, keeping each user's newest old one (so a user's journal
 * never starts with a gap that looks like pending writes); returns how many. Two commands: an
 * aggregation finds, per user, the newest old position; one bulk write deletes below it.
 */
export async function pruneJournal(c: Collections, before: Date): Promise<number> {
  const kept = await c.journal
    .aggregate<{ _id: number; pos: number }>([
      { $match: { at: { $lt: before } } },
      { $group: { _id: '$user', pos: { $max: '$pos' } } },
    ])
    .toArray();
  const deletions = kept.map(({ _id: user, pos }) => ({
    deleteMany: { filter: { user, pos: { $lt: pos }, at: { $lt: before } } },
  }));
  if (deletions.length === 0) return 0;
  const result = await c.journal.bulkWrite(deletions, { ordered: false });
  return result.deletedCount;
}
