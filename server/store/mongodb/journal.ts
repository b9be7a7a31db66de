/**
 * The change journal on MongoDB, and the visibility rule it keeps (server/store/types.ts).
 *
 * Every journal position (`_id`, from an atomic counter) ends up holding exactly one document: the
 * change it was taken for, or a no-op. Nothing is ever skipped, so a reader that read up to id N
 * has seen every change whose position is at most N.
 *
 * Positions are taken *before* the change is made, so two writers that take N and N+1 may write
 * N+1 first. Readers only take the contiguous run of positions after their cursor and stop at a
 * gap. A gap normally fills within milliseconds; one still open GAP_WAIT_MS after a reader first
 * saw it (its writer died, or stalls in an outage) is filled by the reader with no-op documents.
 * The unique `_id` decides the race: a writer whose insert then fails with a duplicate key has
 * lost its position and makes its change again under new positions (messages.ts, `compensate`),
 * so the change is announced late but in order, never lost and never twice.
 *
 * How long a gap is waited for is measured on the reader's own clock from when it first saw the
 * gap, so clock skew between server processes does not matter; an entry above the gap that is much
 * older than that (a process reading old history) lets the gap be filled at once.
 *
 * Per mailbox, positions and MODSEQs/UIDs are allocated in the same order (messages.ts,
 * `allocate`: the mailbox document records the last position it was allocated with, and refuses
 * an allocation with a lower one), so the journal gives each mailbox's changes in UID and MODSEQ
 * order.
 */
import { StoreError } from '../errors.ts';
import type { Flag, JournalEntry, JournalKind } from '../types.ts';
import { nextIds } from './counters.ts';
import { isDuplicateKey, type Collections, type JournalDoc } from './schema.ts';

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
/** How many of the newest entries journalHead inspects for gaps still open. */
const HEAD_WINDOW = 64;

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

function journalDoc(id: number, entry: NewJournalEntry | null, at: Date): JournalDoc {
  return {
    _id: id,
    user: entry?.userId ?? 0,
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
 * Writes `entries` (null: a no-op) at positions first, first+1, ...; returns the indexes of the
 * entries whose position a reader had filled first (their writer must make them again).
 */
export async function insertJournalAt(
  collections: Collections,
  first: number,
  entries: ReadonlyArray<NewJournalEntry | null>,
): Promise<number[]> {
  if (entries.length === 0) return [];
  const at = new Date();
  const docs = entries.map((entry, index) => journalDoc(first + index, entry, at));
  try {
    await collections.journal.insertMany(docs, { ordered: false });
    return [];
  } catch (error) {
    if (isDuplicateKey(error) && entries.length === 1) return [0];
    return duplicateIndexes(error).filter((index) => entries[index] !== null);
  }
}

/** Gives positions back as no-ops so readers need not wait for them (best effort). */
export async function releasePositions(
  collections: Collections,
  first: number,
  count: number,
): Promise<void> {
  if (count <= 0) return;
  try {
    await insertJournalAt(collections, first, new Array<null>(count).fill(null));
  } catch {
    // The database is gone: readers fill the positions themselves once they time out.
  }
}

/**
 * Writes entries that no mailbox allocation orders (mailbox create/rename/delete, user removal)
 * at fresh positions, again at newer ones for any position a reader filled first.
 */
export async function writeJournal(
  collections: Collections,
  entries: readonly NewJournalEntry[],
): Promise<void> {
  let pending = [...entries];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= 10) throw new StoreError('UNAVAILABLE', 'could not write the journal');
    const first = await nextIds(collections, 'journal', pending.length);
    const lost = await insertJournalAt(collections, first, pending);
    pending = lost.map((index) => pending[index]!);
  }
}

function toJournalEntry(doc: JournalDoc): JournalEntry {
  return {
    id: doc._id,
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

/** Remembers, per process, when each gap was first seen. */
export class GapTracker {
  private readonly firstSeen = new Map<number, number>();

  /** True when the ids below `above` (down to `gapStart`) have waited long enough to be filled. */
  abandoned(gapStart: number, above: JournalDoc): boolean {
    const now = Date.now();
    if (now - above.at.getTime() >= GAP_STALE_MS) return true;
    const seen = this.firstSeen.get(gapStart);
    if (seen === undefined) {
      if (this.firstSeen.size > 10_000) this.firstSeen.clear();
      this.firstSeen.set(gapStart, now);
      return false;
    }
    return now - seen >= GAP_WAIT_MS;
  }
}

/** Fills positions from..to (inclusive) with no-ops; a writer that got there first keeps its own. */
async function fillGap(collections: Collections, from: number, to: number): Promise<void> {
  const last = Math.min(to, from + MAX_FILL - 1);
  await insertJournalAt(
    collections,
    from,
    Array.from({ length: last - from + 1 }, () => null),
  );
}

export async function readJournal(
  collections: Collections,
  gaps: GapTracker,
  afterId: number,
  limit = DEFAULT_JOURNAL_LIMIT,
): Promise<JournalEntry[]> {
  const boundedLimit = Math.max(1, Math.min(MAX_JOURNAL_LIMIT, Math.floor(limit) || DEFAULT_JOURNAL_LIMIT));
  const after = Math.max(0, Math.floor(afterId) || 0);
  const entries: JournalEntry[] = [];
  // A filled gap is read again (a writer may have won some of its positions); a few rounds at most.
  for (let round = 0; round < 4 && entries.length < boundedLimit; round++) {
    const from = entries.length > 0 ? entries[entries.length - 1]!.id : after;
    const docs = await collections.journal
      .find({ _id: { $gt: from } })
      .sort({ _id: 1 })
      .limit(boundedLimit - entries.length)
      .toArray();
    let expected = from + 1;
    let filled = false;
    for (const doc of docs) {
      // A gap before the very first entry of a cursor at 0 is pruned history, not a pending write.
      if (doc._id !== expected && !(after === 0 && entries.length === 0)) {
        if (gaps.abandoned(expected, doc)) {
          await fillGap(collections, expected, doc._id - 1);
          filled = true;
        }
        break;
      }
      entries.push(toJournalEntry(doc));
      expected = doc._id + 1;
    }
    if (!filled) break;
  }
  return entries;
}

/**
 * The id to follow from: the newest entry, or, when a recent gap is still open below it, the entry
 * just under the lowest such gap (so a follower starting here does not skip the pending entry).
 */
export async function journalHead(collections: Collections, gaps: GapTracker): Promise<number> {
  const newest = await collections.journal
    .find({}, { projection: { _id: 1, at: 1 } })
    .sort({ _id: -1 })
    .limit(HEAD_WINDOW)
    .toArray();
  if (newest.length === 0) return 0;
  let head = newest[0]!._id;
  for (let i = 0; i + 1 < newest.length; i++) {
    const above = newest[i]!;
    const below = newest[i + 1]!;
    if (above._id - below._id > 1 && !gaps.abandoned(below._id + 1, above as JournalDoc)) head = below._id;
  }
  return head;
}

/** Deletes entries older than `before`, always keeping the newest; returns how many. */
export async function pruneJournal(collections: Collections, before: Date): Promise<number> {
  const newest = await collections.journal
    .find({}, { projection: { _id: 1 } })
    .sort({ _id: -1 })
    .limit(1)
    .next();
  if (!newest) return 0;
  const result = await collections.journal.deleteMany({ at: { $lt: before }, _id: { $lt: newest._id } });
  return result.deletedCount;
}
