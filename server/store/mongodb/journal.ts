/**
 * The change journal on MongoDB. Entry ids come from an atomic counter, taken *before* the entry is
 * inserted, so ids are unique and increasing, but two writers that take N and N+1 may insert N+1
 * first. A reader that moved its cursor past N at that moment would never see N. So readers only
 * take the contiguous run of ids after their cursor and stop at a gap, until the gap fills (the
 * normal case, within milliseconds) or has stayed open long enough that its writer must have died
 * between taking the id and inserting (then the gap is skipped for good).
 *
 * How long a gap is waited for is measured on the reader's own clock from when it first saw the
 * gap, so clock skew between server processes does not matter; an entry above the gap that is much
 * older than that (a process reading old history) lets the gap go at once.
 */
import type { Flag, JournalEntry, JournalKind } from '../types.ts';
import { nextIds } from './counters.ts';
import type { Collections, JournalDoc } from './schema.ts';

export const DEFAULT_JOURNAL_LIMIT = 1000;
const MAX_JOURNAL_LIMIT = 10_000;
/** Journal entries older than this are pruned when a store opens (sessions follow within seconds). */
export const JOURNAL_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** A gap still open this long after a reader first saw it is taken as abandoned. */
export const GAP_WAIT_MS = 3000;
/** A gap below an entry written this long ago is abandoned whatever the reader saw (old history). */
const GAP_STALE_MS = 60_000;
/** How many of the newest entries journalHead inspects for gaps still open. */
const HEAD_WINDOW = 64;

export interface NewJournalEntry {
  userId: number;
  mailboxId: number;
  kind: JournalKind;
  uid?: number;
  modseq?: number;
  flags?: readonly Flag[];
  path?: string;
  oldPath?: string;
}

/** Writes entries, in order, with consecutive ids. */
export async function writeJournal(
  collections: Collections,
  entries: readonly NewJournalEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const first = await nextIds(collections, 'journal', entries.length);
  const at = new Date();
  const docs: JournalDoc[] = entries.map((entry, index) => ({
    _id: first + index,
    user: entry.userId,
    mailbox: entry.mailboxId,
    kind: entry.kind,
    uid: entry.uid ?? null,
    modseq: entry.modseq ?? null,
    flags: entry.flags ? [...entry.flags] : null,
    path: entry.path ?? null,
    oldPath: entry.oldPath ?? null,
    at,
  }));
  await collections.journal.insertMany(docs, { ordered: true });
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

  /** True when the ids below `above` (down to `gapStart`) may be skipped. */
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

export async function readJournal(
  collections: Collections,
  gaps: GapTracker,
  afterId: number,
  limit = DEFAULT_JOURNAL_LIMIT,
): Promise<JournalEntry[]> {
  const boundedLimit = Math.max(1, Math.min(MAX_JOURNAL_LIMIT, Math.floor(limit) || DEFAULT_JOURNAL_LIMIT));
  const after = Math.max(0, Math.floor(afterId) || 0);
  const docs = await collections.journal
    .find({ _id: { $gt: after } })
    .sort({ _id: 1 })
    .limit(boundedLimit)
    .toArray();
  const entries: JournalEntry[] = [];
  let expected = after + 1;
  for (const doc of docs) {
    // A gap before the very first entry of a cursor at 0 is pruned history, not a pending write.
    if (doc._id !== expected && !(after === 0 && entries.length === 0)) {
      if (!gaps.abandoned(expected, doc)) break;
    }
    entries.push(toJournalEntry(doc));
    expected = doc._id + 1;
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
