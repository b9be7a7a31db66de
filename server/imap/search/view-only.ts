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

/**
 * Criteria on stored flags alone over a view that shows the shared state as it is (the common
 * case: UNSEEN, FLAGGED, DELETED, KEYWORD): decided once per interned flag list, then one typed
 * array read per message, in state order (which is the view's), without listing the UIDs first.
 * Null when the view changed while it yielded.
 */
async function searchFlagSets(
  view: MailboxView,
  search: CompiledSearch,
  slice: TimeSlice,
): Promise<SearchResult | null> {
  const result: SearchResult = { seqs: [], uids: [], modseqs: [], lost: false };
  const state = view.state;
  /** Per flag list id: 0 not decided yet, 1 matches, 2 does not. */
  let verdicts: Uint8Array = new Uint8Array(state.flagSetCount);
  const subject = viewOnlySubject();
  for (let i = 0; i < state.length; i++) {
    const id = state.flagSetIdAt(i);
    // A list interned meanwhile (the state changed while this search yielded).
    if (id >= verdicts.length) verdicts = grown(verdicts, state.flagSetCount);
    let verdict = verdicts[id]!;
    if (verdict === 0) {
      subject.flags = state.flagSetById(id);
      verdict = evaluate(search.root, subject) === true ? 1 : 2;
      verdicts[id] = verdict;
    }
    if (verdict === 1) {
      result.seqs.push(i + 1);
      result.uids.push(state.uidAt(i));
      // Only a MODSEQ search reports them (response.ts).
      if (search.hasModseq) result.modseqs.push(state.modseqAt(i));
    }
    if ((i & 4095) === 4095 && slice.due) {
      await slice.yield();
      // Messages came or went while yielding, moving the state's indexes: null, and the caller
      // searches again the general way.
      if (!view.unchanged) return null;
    }
  }
  return result;
}

function grown(verdicts: Uint8Array, size: number): Uint8Array {
  const bigger = new Uint8Array(size);
  bigger.set(verdicts);
  return bigger;
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
