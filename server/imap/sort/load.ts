/**
 * Reads what SORT and THREAD need of the messages a search matched, once per message and mailbox
 * (the mailbox state's sort cache keeps it): one listing of the mailbox's summaries, the MIME
 * indexes in batches (one store call each), and for THREAD=REFERENCES/REFS the References header
 * (in the index; for older indexes read from the stored header, in batches bounded in bytes). The
 * loops give the event loop a turn between batches.
 */
import { isStoreError } from '../../store/errors.ts';
import type { SortFields, Store } from '../../store/types.ts';
import { lastValue, parseHeaderFields } from '../../mime/header.ts';
import { TimeSlice } from '../time-slice.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { SortCache } from './cache.ts';
import { sortEntry, summaryPart, type SortEntry, type SortMessage, type SummaryPart } from './keys.ts';

const INDEX_BATCH = 1000;
const BODY_BATCH = 256;
const BODY_BATCH_BYTES = 16 * 1024 * 1024;

/** What the entries need of the bodies' MIME indexes: only those parts where the engine can pick them. */
async function readIndexes(store: Store, blobIds: readonly string[]): Promise<Map<string, SortFields>> {
  if (store.readSortFields) return store.readSortFields(blobIds);
  if (store.readMimeIndexes) return store.readMimeIndexes(blobIds);
  // One call per body, all of the batch in flight at once: waiting for each in turn would make
  // the store's round trip (a thread hop for sqlite) the cost of every message.
  const found = new Map<string, SortFields>();
  await Promise.all(
    [...new Set(blobIds)].map(async (blobId) => {
      try {
        found.set(blobId, await store.readMimeIndex(blobId));
      } catch (error) {
        if (!isStoreError(error, 'NONEXISTENT')) throw error;
      }
    }),
  );
  return found;
}

/**
 * The sort entries of the messages with these UIDs, in the same order: from the mailbox's sort
 * cache, after reading what it lacks. The cache's own objects, not copies: 100,000 copies cost a
 * warm SORT more than ordering them.
 */
export async function loadSortEntries(
  store: Store,
  view: MailboxView,
  uids: readonly number[],
  /** False when only ARRIVAL and SIZE are wanted: the summaries have them, no index is read. */
  withIndex = true,
): Promise<SortEntry[]> {
  const cache = view.state.sortCache;
  const entries = new Array<SortEntry | undefined>(uids.length);
  const missing: number[] = [];
  for (let i = 0; i < uids.length; i++) {
    const entry = cache.get(uids[i]!);
    if (entry === undefined || (withIndex && !entry.indexed)) missing.push(uids[i]!);
    else entries[i] = entry;
  }
  if (missing.length === 0) return entries as SortEntry[];
  const uncached = await fillCache(store, view, cache, missing, withIndex);
  return uids.map((uid, i) => entries[i] ?? uncached.get(uid) ?? cache.get(uid)!);
}

/** As loadSortEntries, each with its sequence number in this session (parallel arrays). */
export async function loadSortMessages(
  store: Store,
  view: MailboxView,
  seqs: readonly number[],
  uids: readonly number[],
  withIndex = true,
): Promise<SortMessage[]> {
  const entries = await loadSortEntries(store, view, uids, withIndex);
  return entries.map((entry, i) => ({ ...entry, seq: seqs[i]! }));
}

/**
 * What the entries of these messages take from their summaries: from their entries when all of
 * them have one made without the index (a SORT by ARRIVAL came first), else from one listing of
 * the mailbox (four columns where the engine offers it, Store.listSortBasics).
 */
async function summaryParts(
  store: Store,
  view: MailboxView,
  cache: SortCache,
  uids: readonly number[],
): Promise<Map<number, SummaryPart>> {
  const parts = new Map<number, SummaryPart>();
  for (const uid of uids) {
    const entry = cache.get(uid);
    if (entry?.blobId == null) break;
    parts.set(uid, { arrival: entry.arrival, size: entry.size, blobId: entry.blobId });
  }
  if (parts.size === uids.length) return parts;
  parts.clear();
  if (store.listSortBasics) {
    const { uids: listed, arrivals, sizes, blobIds } = await store.listSortBasics(view.mailbox.id);
    for (let i = 0; i < listed.length; i++) {
      parts.set(listed[i]!, { arrival: arrivals[i]!, size: sizes[i]!, blobId: blobIds[i]! });
    }
    return parts;
  }
  const listing = await store.listMessages(view.mailbox.id);
  for (const summary of listing) parts.set(summary.uid, summaryPart(summary));
  return parts;
}

/**
 * Reads the summaries and (in batches, one store call each) the MIME indexes of these messages
 * into the cache. A message whose summary or index is gone (expunged meanwhile) is not cached: its
 * entry, as if it had no header, is returned for this command only.
 */
async function fillCache(
  store: Store,
  view: MailboxView,
  cache: SortCache,
  uids: readonly number[],
  withIndex: boolean,
): Promise<Map<number, SortEntry>> {
  const summaries = await summaryParts(store, view, cache, uids);
  const uncached = new Map<number, SortEntry>();
  const slice = new TimeSlice();
  for (let start = 0; start < uids.length; start += INDEX_BATCH) {
    const batch = uids.slice(start, start + INDEX_BATCH);
    const blobIds = batch.flatMap((uid) => summaries.get(uid)?.blobId ?? []);
    const indexes = withIndex ? await readIndexes(store, blobIds) : new Map<string, SortFields>();
    for (const uid of batch) {
      const summary = summaries.get(uid) ?? null;
      const index = summary ? (indexes.get(summary.blobId) ?? null) : null;
      const entry = sortEntry(uid, summary, index, withIndex);
      if (summary !== null && (index !== null || !withIndex)) cache.set(entry);
      else uncached.set(uid, entry);
    }
    await slice.yield();
  }
  return uncached;
}

/**
 * The References header of each message (raw, unfolded), by UID; absent when the message has none
 * or its body is gone. Taken from the MIME index where it has it; otherwise (indexes stored before
 * it was kept) read from the stored header once and kept in the entry.
 */
export async function loadReferences(
  store: Store,
  messages: readonly SortMessage[],
): Promise<Map<number, string>> {
  const sources = messages.filter(
    (message) => message.lazy.references === undefined && message.blobId !== null && message.headerEnd > 0,
  );
  const slice = new TimeSlice();
  for (let start = 0; start < sources.length;) {
    const batch: SortMessage[] = [];
    let bytes = 0;
    while (
      start < sources.length &&
      batch.length < BODY_BATCH &&
      (batch.length === 0 || bytes < BODY_BATCH_BYTES)
    ) {
      const source = sources[start++]!;
      batch.push(source);
      bytes += source.headerEnd;
    }
    const heads = await store.readBlobHeads(
      batch.map((source) => ({ blobId: source.blobId!, bytes: source.headerEnd })),
    );
    for (const source of batch) {
      const raw = heads.get(source.blobId!);
      if (!raw) continue;
      source.lazy.references = lastValue(raw, parseHeaderFields(raw, 0, raw.length), 'references');
    }
    await slice.yield();
  }
  const found = new Map<number, string>();
  for (const message of messages) {
    const references = message.lazy.references;
    if (typeof references === 'string') found.set(message.uid, references);
  }
  return found;
}
