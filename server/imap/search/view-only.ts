/**
 * A SEARCH on flags, sequence numbers, UIDs and MODSEQ alone (UNSEEN, FLAGGED, DELETED, KEYWORD,
 * UID ranges...) is decided from the shared mailbox state without any store call and without a
 * subject object per message: one subject is reused, and where the criteria look at stored flags
 * only, the verdict is computed once per distinct flag list (the state interns them: a mailbox has
 * a handful), so 100,000 messages cost one array lookup each.
 */
import type { MailboxView } from '../mailbox-view.ts';
import type { TimeSlice } from '../time-slice.ts';
import { Cost, type CompiledSearch, type MatchNode } from './compile.ts';
import { evaluate, type SearchSubject } from './evaluate.ts';
import type { SearchResult } from './run.ts';

/** Whether the criteria need nothing but the view. */
export function isViewSearch(search: CompiledSearch): boolean {
  return search.cost === Cost.view;
}

/** Whether a node's verdict depends on the stored flags alone (not on numbers or \Recent). */
function flagsOnly(node: MatchNode): boolean {
  if (node.kind === 'const') return true;
  if (node.kind === 'flag') return !node.recent;
  if (node.kind === 'and' || node.kind === 'or') return node.nodes.every(flagsOnly);
  if (node.kind === 'not') return flagsOnly(node.node);
  return false;
}

export async function searchView(
  view: MailboxView,
  search: CompiledSearch,
  slice: TimeSlice,
): Promise<SearchResult> {
  if (view.unchanged && flagsOnly(search.root)) {
    const found = await searchFlagSets(view, search, slice);
    if (found) return found;
  }
  const result: SearchResult = { seqs: [], uids: [], modseqs: [], lost: false };
  const state = view.state;
  const uids = view.allUids();
  const byFlags = flagsOnly(search.root) ? new Map<readonly string[], boolean>() : null;
  const subject = viewOnlySubject();
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i]!;
    // Where the view shows what the state holds, the position is the state's index.
    const index = i < state.length && state.uidAt(i) === uid ? i : state.indexOf(uid);
    const flags = index >= 0 ? state.flagsAt(index) : view.flagsOf(uid);
    let verdict = byFlags?.get(flags);
    if (verdict === undefined) {
      subject.seq = i + 1;
      subject.uid = uid;
      subject.flags = flags;
      subject.recent = view.isRecent(uid);
      subject.modseq = index >= 0 ? state.modseqAt(index) : view.modseqOf(uid);
      verdict = evaluate(search.root, subject) === true;
      byFlags?.set(flags, verdict);
    }
    if (verdict) {
      result.seqs.push(i + 1);
      result.uids.push(uid);
      result.modseqs.push(index >= 0 ? state.modseqAt(index) : view.modseqOf(uid));
    }
    if ((i & 4095) === 4095) await slice.yield();
  }
  return result;
}

/** Messages decided between two looks at the clock (a pass over them takes well under 1 ms). */
const STRETCH = 16384;

/**
 * Criteria on stored flags alone over a view that shows the shared state as it is (the common
 * case: UNSEEN, FLAGGED, DELETED, KEYWORD): decided once per interned flag list (a mailbox has a
 * handful), then one pass over the state's typed arrays (MailboxState.collectMarked), in state
 * order (which is the view's), without listing the UIDs first. The lists are made at their size
 * once the matches are counted (growing them by push costs more than the pass). Null when the
 * view changed while it yielded.
 */
async function searchFlagSets(
  view: MailboxView,
  search: CompiledSearch,
  slice: TimeSlice,
): Promise<SearchResult | null> {
  const state = view.state;
  const count = state.length;
  const subject = viewOnlySubject();
  /** Per flag list id: 1 matches, 0 does not. */
  let marks: Uint8Array = new Uint8Array(0);
  const found = new Uint32Array(count);
  let matches = 0;
  for (let from = 0; from < count; from += STRETCH) {
    // Lists interned meanwhile (flags changed while this search yielded) are decided too.
    if (marks.length < state.flagSetCount) marks = decided(marks, state, search, subject);
    matches = state.collectMarked(marks, from, from + STRETCH, found, matches);
    if (from + STRETCH < count && slice.due) {
      await slice.yield();
      // Messages came or went while yielding, moving the state's indexes: null, and the caller
      // searches again the general way.
      if (!view.unchanged || state.length !== count) return null;
    }
  }
  const seqs: number[] = new Array<number>(matches);
  const uids: number[] = new Array<number>(matches);
  for (let i = 0; i < matches; i++) {
    const index = found[i]!;
    seqs[i] = index + 1;
    uids[i] = state.uidAt(index);
  }
  // Only a MODSEQ search reports them (response.ts).
  const modseqs = search.hasModseq
    ? Array.from(found.subarray(0, matches), (index) => state.modseqAt(index))
    : [];
  return { seqs, uids, modseqs, lost: false };
}

/** `marks` grown to every flag list of the state, the new ones decided. */
function decided(
  marks: Uint8Array,
  state: MailboxView['state'],
  search: CompiledSearch,
  subject: SearchSubject,
): Uint8Array {
  const grown = new Uint8Array(state.flagSetCount);
  grown.set(marks);
  for (let id = marks.length; id < grown.length; id++) {
    subject.flags = state.flagSetById(id);
    grown[id] = evaluate(search.root, subject) === true ? 1 : 0;
  }
  return grown;
}

/** A subject with nothing read from the store: these searches fill in only what the view knows. */
function viewOnlySubject(): SearchSubject {
  return {
    seq: 0,
    uid: 0,
    flags: [],
    recent: false,
    modseq: 0,
    summary: null,
    index: null,
    raw: null,
    text: null,
    content: null,
  };
}
