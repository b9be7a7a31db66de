/**
 * The messages a FETCH names, as parallel lists of sequence numbers and UIDs in mailbox order.
 * - By sequence number: an empty mailbox, or a number beyond EXISTS, is BAD "Invalid messageset"
 *   (RFC 3501 6.4.8 / Dovecot); `*` is the last message.
 * - By UID: UIDs not in the mailbox are silently left out; `*` is the highest UID in use, so `n:*`
 *   always includes the last message (RFC 3501 6.4.8), and an empty mailbox gives nothing.
 * - `$` (SEARCHRES, RFC 5182): the saved result still in view, by UID or sequence number alike.
 * `namesWholeView` tells when no list is needed at all: `1:*` over a view that shows the shared
 * state as it is, which FETCH of FLAGS/UID/MODSEQ then walks in place (view-only.ts).
 */
import { bad } from '../errors.ts';
import type { MailboxView } from '../mailbox-view.ts';
import { resolveRanges, resolveSequenceSet, sequenceSetExceeds, type SequenceSet } from '../parser/index.ts';

export interface Targets {
  seqs: number[];
  uids: number[];
}

export function resolveTargets(view: MailboxView, set: SequenceSet, byUid: boolean): Targets {
  if (set.saved) return view.searchResult();
  return byUid ? byUids(view, set) : bySequence(view, set);
}

/**
 * Whether the set names every message of a view that shows the shared state as it is (nothing
 * pending to report), and nothing else: then the state's indexes are the sequence numbers, and a
 * FETCH may walk the state instead of listing 100,000 numbers twice. False whenever the set could
 * be BAD (an empty mailbox, a number beyond EXISTS): the general path says so.
 */
export function namesWholeView(view: MailboxView, set: SequenceSet, byUid: boolean): boolean {
  if (set.saved || !view.unchanged) return false;
  const state = view.state;
  if (state.length === 0) return false;
  if (!byUid && sequenceSetExceeds(set, state.length)) return false;
  const ranges = resolveRanges(set, byUid ? state.lastUid : state.length);
  if (ranges.length !== 1) return false;
  const [low, high] = ranges[0]!;
  return byUid ? low <= state.uidAt(0) && high >= state.lastUid : low === 1 && high >= state.length;
}

function bySequence(view: MailboxView, set: SequenceSet): Targets {
  const exists = view.exists;
  if (exists === 0) throw bad('Invalid messageset: the mailbox is empty');
  if (sequenceSetExceeds(set, exists)) throw bad(`Invalid messageset: the mailbox has ${exists} messages`);
  const seqs = resolveSequenceSet(set, exists);
  const uids = seqs.map((seq) => view.uidAt(seq)!);
  return { seqs, uids };
}

function byUids(view: MailboxView, set: SequenceSet): Targets {
  const all = view.allUids();
  const seqs: number[] = [];
  const uids: number[] = [];
  if (all.length === 0) return { seqs, uids };
  // Both lists are ascending: one merge pass, whatever the size of the ranges.
  const ranges = resolveRanges(set, all[all.length - 1]!);
  let r = 0;
  for (let i = 0; i < all.length && r < ranges.length; i++) {
    const uid = all[i]!;
    while (r < ranges.length && ranges[r]![1] < uid) r++;
    if (r < ranges.length && uid >= ranges[r]![0]) {
      seqs.push(i + 1);
      uids.push(uid);
    }
  }
  return { seqs, uids };
}
