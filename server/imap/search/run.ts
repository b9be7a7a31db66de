/**
 * Runs a compiled search over every message of a view. Data is read in stages, each only when the
 * cheaper ones leave the verdict open: the view (free), the summary rows (one listing for the whole
 * mailbox, only if a key needs more than the view), the bodies a store's text index leaves for
 * BODY/TEXT keys (Store.textCandidates, where it has one), then per batch of messages the MIME indexes
 * (SENT* keys), the raw bytes (quick negative filter), and the MIME indexes to decode the text,
 * each with one store call per batch (not one database round trip per message). The content keys
 * of a big message are decided on a parse worker (offload/), not here: scanning and decoding 50 MB
 * takes the better part of a second, which every other session of the process would wait for.
 * The loop yields to the event loop every few milliseconds so that a long search does not stall
 * the other connections of this process.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isStoreError } from '../../store/errors.ts';
import type { MessageSummary, Store } from '../../store/types.ts';
import type { MailboxView } from '../mailbox-view.ts';
import { OFFLOAD_BYTES, type ParsePool } from '../offload/pool.ts';
import { Cost, type CompiledSearch, type MatchNode } from './compile.ts';
import { MessageText } from './content.ts';
import { evaluate, type ContentNode, type SearchSubject, type Verdict } from './evaluate.ts';
import { RawText } from './raw-filter.ts';
import { TimeSlice } from '../time-slice.ts';
import { isViewSearch, searchView } from './view-only.ts';

/** Longest stretch of work, in ms, before giving other connections a turn. */
const SLICE_MS = 10;

export interface SearchResult {
  seqs: number[];
  uids: number[];
  /** MODSEQ of each match, in the same order (may be left empty when the criteria hold no MODSEQ). */
  modseqs: number[];
  /** Some messages could not be read any more (expunged by another session): they did not match. */
  lost: boolean;
}

async function loadSummaries(store: Store, view: MailboxView): Promise<Map<number, MessageSummary>> {
  const summaries = await store.listMessages(view.mailbox.id);
  return new Map(summaries.map((summary) => [summary.uid, summary]));
}

/** Messages decided per batch: their bodies and indexes are read with one store call each. */
const BATCH_MESSAGES = 256;
/** Bytes of bodies read per batch, at most (a batch is cut earlier when its messages are big). */
const BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Loads the MIME indexes the subjects lack, in one store call where the engine offers it (a
 * database round trip per message would make SEARCH cost grow with the mailbox).
 */
async function loadIndexes(store: Store, subjects: readonly SearchSubject[]): Promise<void> {
  const wanted = subjects.filter((subject) => subject.index === null && subject.summary !== null);
  if (wanted.length === 0) return;
  const blobIds = wanted.map((subject) => subject.summary!.blobId);
  if (store.readMimeIndexes) {
    const indexes = await store.readMimeIndexes(blobIds);
    for (const subject of wanted) subject.index = indexes.get(subject.summary!.blobId) ?? null;
    return;
  }
  await Promise.all(
    wanted.map(async (subject) => {
      try {
        subject.index = await store.readMimeIndex(subject.summary!.blobId);
      } catch (error) {
        if (!isStoreError(error, 'NONEXISTENT')) throw error;
      }
    }),
  );
}

/**
 * Per BODY/TEXT key, the bodies that may match it, where the store can narrow that down (an index:
 * Store.textCandidates); a key the store cannot narrow is left out (every body may match it).
 */
async function textCandidates(
  store: Store,
  search: CompiledSearch,
): Promise<Map<ContentNode, ReadonlySet<string>>> {
  const candidates = new Map<ContentNode, ReadonlySet<string>>();
  if (!store.textCandidates || search.cost < Cost.content) return candidates;
  for (const node of contentNodes(search.root)) {
    if (node.kind === 'header') continue;
    const found = await store.textCandidates(node.needle);
    if (found) candidates.set(node, found);
  }
  return candidates;
}

/** The keys a body is ruled out for by the candidate sets (false for each), or null: none. */
function ruledOut(
  candidates: ReadonlyMap<ContentNode, ReadonlySet<string>>,
  blobId: string,
): Map<MatchNode, Verdict> | null {
  let verdicts: Map<MatchNode, Verdict> | null = null;
  for (const [node, bodies] of candidates) {
    if (!bodies.has(blobId)) (verdicts ??= new Map()).set(node, false);
  }
  return verdicts;
}

/** The HEADER, BODY and TEXT nodes of a tree, each once. */
function contentNodes(root: MatchNode): ContentNode[] {
  const found: ContentNode[] = [];
  const visit = (node: MatchNode): void => {
    if (node.kind === 'and' || node.kind === 'or') node.nodes.forEach(visit);
    else if (node.kind === 'not') visit(node.node);
    else if (node.kind === 'header' || node.kind === 'body' || node.kind === 'text') found.push(node);
  };
  visit(root);
  return found;
}

/**
 * Decides the content keys of big messages on the pool, several messages at once (one per
 * worker). Their bytes are handed to the workers: the caller must not read them again.
 */
async function decideOnPool(
  store: Store,
  pool: ParsePool,
  search: CompiledSearch,
  subjects: readonly SearchSubject[],
  bodies: ReadonlyMap<string, Buffer>,
): Promise<void> {
  // The index first, so that one trip to the worker settles every key.
  await loadIndexes(store, subjects);
  const nodes = contentNodes(search.root);
  // Copies of one message share a body, which can be sent (handed over) only once.
  const byBlob = new Map<string, SearchSubject[]>();
  for (const subject of subjects) {
    const blobId = subject.summary!.blobId;
    byBlob.set(blobId, [...(byBlob.get(blobId) ?? []), subject]);
  }
  await Promise.all(
    [...byBlob].map(async ([blobId, sharing]) => {
      const verdicts = await pool.run({
        kind: 'search',
        raw: bodies.get(blobId)!,
        index: sharing[0]!.index,
        nodes,
      });
      const content = new Map(nodes.map((node, i): [MatchNode, Verdict] => [node, verdicts[i] ?? null]));
      for (const subject of sharing) subject.content = content;
    }),
  );
}

/**
 * The verdicts on a batch of messages, reading as little as possible and each kind of data with
 * one call for the batch: the index where an index-level key is open, then the raw bytes (which
 * rule most messages out of a text search by themselves), then the index to decode the text.
 * Null: the message's data is gone (expunged meanwhile).
 */
async function decideBatch(
  store: Store,
  pool: ParsePool | null,
  search: CompiledSearch,
  subjects: readonly SearchSubject[],
): Promise<Verdict[]> {
  const verdicts = subjects.map((subject) => evaluate(search.root, subject));
  const open = () => subjects.filter((_, i) => verdicts[i] === null);
  const decideAgain = () => {
    subjects.forEach((subject, i) => {
      if (verdicts[i] === null) verdicts[i] = evaluate(search.root, subject);
    });
  };
  if (search.usesIndex && open().length > 0) {
    await loadIndexes(store, open());
    decideAgain();
  }
  if (search.cost < Cost.content) return verdicts;
  const needRaw = open().filter((subject) => subject.summary !== null);
  if (needRaw.length === 0) return verdicts;
  const bodies = await store.readBlobs(needRaw.map((subject) => subject.summary!.blobId));
  const big: SearchSubject[] = [];
  for (const subject of needRaw) {
    const raw = bodies.get(subject.summary!.blobId);
    if (!raw) continue;
    if (pool !== null && raw.length >= OFFLOAD_BYTES) big.push(subject);
    else subject.raw = new RawText(raw);
  }
  if (big.length > 0) await decideOnPool(store, pool!, search, big, bodies);
  decideAgain();
  const needText = open().filter((subject) => subject.raw !== null);
  await loadIndexes(store, needText);
  for (const subject of needText) {
    if (subject.index === null) continue;
    subject.text = new MessageText(bodies.get(subject.summary!.blobId)!, subject.index);
  }
  decideAgain();
  // Still open: the data is gone (no body, or no index for it).
  return verdicts;
}

export async function runSearch(
  store: Store,
  view: MailboxView,
  search: CompiledSearch,
  /** Where big messages are scanned; null: everything inline (tests, tools). */
  pool: ParsePool | null = null,
): Promise<SearchResult> {
  // Flags, numbers, MODSEQ: decided from the shared state alone.
  if (isViewSearch(search)) return searchView(view, search, new TimeSlice(SLICE_MS));
  const result: SearchResult = { seqs: [], uids: [], modseqs: [], lost: false };
  const uids = view.allUids();
  const summaries = search.cost >= Cost.summary && uids.length > 0 ? await loadSummaries(store, view) : null;
  const candidates = summaries ? await textCandidates(store, search) : new Map();
  let sliceStart = Date.now();
  for (let start = 0; start < uids.length;) {
    const batch: SearchSubject[] = [];
    let bytes = 0;
    while (
      start < uids.length &&
      batch.length < BATCH_MESSAGES &&
      (batch.length === 0 || bytes < BATCH_BYTES)
    ) {
      const uid = uids[start]!;
      const summary = summaries?.get(uid) ?? null;
      bytes += summary?.size ?? 0;
      batch.push({
        seq: start + 1,
        uid,
        flags: view.flagsOf(uid),
        recent: view.isRecent(uid),
        modseq: view.modseqOf(uid),
        summary,
        index: null,
        raw: null,
        text: null,
        // Bodies a store index rules out for a BODY/TEXT key are not read for it.
        content: summary && candidates.size > 0 ? ruledOut(candidates, summary.blobId) : null,
      });
      start++;
    }
    const verdicts = await decideBatch(store, pool, search, batch);
    batch.forEach((subject, i) => {
      if (verdicts[i] === null) result.lost = true;
      else if (verdicts[i]) {
        result.seqs.push(subject.seq);
        result.uids.push(subject.uid);
        result.modseqs.push(subject.modseq);
      }
    });
    if (Date.now() - sliceStart >= SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = Date.now();
    }
  }
  return result;
}
