/**
 * The messages a FETCH names, as parallel lists of sequence numbers and UIDs in mailbox order.
 * - By sequence number: an empty mailbox, or a number beyond EXISTS, is BAD "Invalid messageset"
 *   (RFC 3501 6.4.8 / Dovecot); `*` is the last message.
 * - By UID: UIDs not in the mailbox are silently left out; `*` is the highest UID in use, so `n:*`
 *   always includes the last message (RFC 3501 6.4.8), and an empty mailbox gives nothing.
 * - `$` (SEARCHRES, RFC 5182): the saved result still in view, by UID or sequence number alike.
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
