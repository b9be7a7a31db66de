/**
 * Reads what SORT and THREAD need of the messages a search matched: one listing of the mailbox's
 * summaries, the MIME indexes in batches (one store call each), and for THREAD=REFERENCES/REFS the
 * References header, which the index does not keep: it is read from the header of the stored body,
 * again in batches bounded in bytes. The loops give the event loop a turn between batches.
 */
import { isStoreError } from '../../store/errors.ts';
import type { Store } from '../../store/types.ts';
import type { MimeIndex } from '../../mime/types.ts';
import { lastValue, parseHeaderFields } from '../../mime/header.ts';
import { TimeSlice } from '../time-slice.ts';
import type { MailboxView } from '../mailbox-view.ts';
import { sortMessage, type SortMessage } from './keys.ts';

const INDEX_BATCH = 1000;
const BODY_BATCH = 256;
const BODY_BATCH_BYTES = 16 * 1024 * 1024;

async function readIndexes(store: Store, blobIds: readonly string[]): Promise<Map<string, MimeIndex>> {
  if (store.readMimeIndexes) return store.readMimeIndexes(blobIds);
  // One call per body, all of the batch in flight at once: waiting for each in turn would make
  // the store's round trip (a thread hop for sqlite) the cost of every message.
  const found = new Map<string, MimeIndex>();
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

/** The sort data of the messages with these sequence numbers and UIDs (parallel arrays). */
export async function loadSortMessages(
  store: Store,
  view: MailboxView,
  seqs: readonly number[],
  uids: readonly number[],
  /** False when only ARRIVAL and SIZE are wanted: the summaries have them, no index is read. */
  withIndex = true,
): Promise<SortMessage[]> {
  const listing = await store.listMessages(view.mailbox.id);
  const summaries = new Map(listing.map((summary) => [summary.uid, summary]));
  const slice = new TimeSlice();
  const messages: SortMessage[] = [];
  for (let start = 0; start < uids.length; start += INDEX_BATCH) {
    const batch = uids.slice(start, start + INDEX_BATCH);
    const blobIds = batch.flatMap((uid) => summaries.get(uid)?.blobId ?? []);
    const indexes = withIndex ? await readIndexes(store, blobIds) : new Map<string, MimeIndex>();
    batch.forEach((uid, i) => {
      const summary = summaries.get(uid);
      const index = summary ? (indexes.get(summary.blobId) ?? null) : null;
      messages.push(sortMessage(seqs[start + i]!, uid, summary ?? null, index));
    });
    await slice.yield();
  }
  return messages;
}

/**
 * The References header of each message (raw, unfolded), by UID; absent when the message has none
 * or its body is gone. Only the header bytes are looked at.
 */
export async function loadReferences(
  store: Store,
  messages: readonly SortMessage[],
): Promise<Map<number, string>> {
  const sources = messages.filter((message) => message.blobId !== null && message.headerEnd > 0);
  const found = new Map<number, string>();
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
      bytes += source.size;
    }
    const bodies = await store.readBlobs(batch.map((source) => source.blobId!));
    for (const source of batch) {
      const raw = bodies.get(source.blobId!);
      if (!raw) continue;
      const end = Math.min(source.headerEnd, raw.length);
      const value = lastValue(raw, parseHeaderFields(raw, 0, end), 'references');
      if (value !== null) found.set(source.uid, value);
    }
    await slice.yield();
  }
  return found;
}
