/**
 * Runs a compiled search over every message of a view. Data is read in stages, each only when the
 * cheaper ones leave the verdict open: the view (free), the summary rows (one listing for the whole
 * mailbox, only if a key needs more than the view), then per message the MIME index (SENT* keys),
 * the raw bytes (quick negative filter), and the MIME index to decode the text.
 * The loop yields to the event loop every few milliseconds so that a long search does not stall
 * the other connections of this process.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isStoreError } from '../../store/errors.ts';
import type { MessageSummary, Store } from '../../store/types.ts';
import type { MailboxView } from '../mailbox-view.ts';
import { Cost, type CompiledSearch } from './compile.ts';
import { MessageText } from './content.ts';
import { evaluate, type SearchSubject, type Verdict } from './evaluate.ts';
import { RawText } from './raw-filter.ts';

/** Longest stretch of work, in ms, before giving other connections a turn. */
const SLICE_MS = 10;

export interface SearchResult {
  seqs: number[];
  uids: number[];
  /** MODSEQ of each match, in the same order. */
  modseqs: number[];
  /** Some messages could not be read any more (expunged by another session): they did not match. */
  lost: boolean;
}

async function loadSummaries(store: Store, view: MailboxView): Promise<Map<number, MessageSummary>> {
  const summaries = await store.listMessages(view.mailbox.id);
  return new Map(summaries.map((summary) => [summary.uid, summary]));
}

/** Loads the message's MIME index unless it is there; false when its data is gone. */
async function loadIndex(store: Store, subject: SearchSubject): Promise<boolean> {
  if (subject.index !== null) return true;
  if (subject.summary === null) return false;
  try {
    subject.index = await store.readMimeIndex(subject.summary.blobId);
    return true;
  } catch (error) {
    if (isStoreError(error, 'NONEXISTENT')) return false;
    throw error;
  }
}

async function loadRaw(store: Store, subject: SearchSubject): Promise<Buffer | null> {
  if (subject.summary === null) return null;
  try {
    return await store.readBlob(subject.summary.blobId);
  } catch (error) {
    if (isStoreError(error, 'NONEXISTENT')) return null;
    throw error;
  }
}

/**
 * The verdict on one message, reading as little as possible: the index when an index-level key is
 * open, then the raw bytes (which rule most messages out of a text search by themselves), then the
 * index to decode the text.
 */
async function decide(store: Store, search: CompiledSearch, subject: SearchSubject): Promise<Verdict> {
  let verdict = evaluate(search.root, subject);
  if (verdict !== null) return verdict;
  if (search.usesIndex) {
    if (!(await loadIndex(store, subject))) return null;
    verdict = evaluate(search.root, subject);
    if (verdict !== null) return verdict;
  }
  if (search.cost < Cost.content) return null;
  const raw = await loadRaw(store, subject);
  if (raw === null) return null;
  subject.raw = new RawText(raw);
  verdict = evaluate(search.root, subject);
  if (verdict !== null) return verdict;
  if (!(await loadIndex(store, subject))) return null;
  subject.text = new MessageText(raw, subject.index!);
  return evaluate(search.root, subject);
}

export async function runSearch(
  store: Store,
  view: MailboxView,
  search: CompiledSearch,
): Promise<SearchResult> {
  const result: SearchResult = { seqs: [], uids: [], modseqs: [], lost: false };
  const uids = view.allUids();
  const summaries = search.cost >= Cost.summary && uids.length > 0 ? await loadSummaries(store, view) : null;
  let sliceStart = Date.now();
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i]!;
    const subject: SearchSubject = {
      seq: i + 1,
      uid,
      flags: view.flagsOf(uid),
      recent: view.isRecent(uid),
      modseq: view.modseqOf(uid),
      summary: summaries?.get(uid) ?? null,
      index: null,
      raw: null,
      text: null,
    };
    const verdict = await decide(store, search, subject);
    if (verdict === null) result.lost = true;
    else if (verdict) {
      result.seqs.push(subject.seq);
      result.uids.push(uid);
      result.modseqs.push(subject.modseq);
    }
    if ((i & 63) === 63 && Date.now() - sliceStart >= SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = Date.now();
    }
  }
  return result;
}
