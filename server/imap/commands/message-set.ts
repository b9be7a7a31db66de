/**
 * The messages a STORE, COPY, MOVE or UID EXPUNGE names, as UIDs of the session's view.
 *
 * Sequence numbers must exist (RFC 3501: a number beyond the mailbox is an error, as Dovecot's
 * "Invalid messageset" BAD); UIDs that do not exist are silently left out (RFC 3501 6.4.8). Only
 * messages the session has been told about count: a message another session added is not in the
 * view until its EXISTS is sent.
 */
import { bad } from '../errors.ts';
import type { MailboxView } from '../mailbox-view.ts';
import { resolveRanges, resolveSequenceSet, sequenceSetExceeds, type SequenceSet } from '../parser/index.ts';

/** UIDs of the view in the UID set (`*` = the highest UID in view), ascending. */
function uidsInUidSet(view: MailboxView, set: SequenceSet): number[] {
  const uids = view.allUids();
  const highest = uids[uids.length - 1] ?? 0;
  const ranges = resolveRanges(set, highest);
  const matched: number[] = [];
  // Both lists are ascending: one pass over the view, whatever the size of the ranges.
  let range = 0;
  for (const uid of uids) {
    while (range < ranges.length && ranges[range]![1] < uid) range++;
    if (range === ranges.length) break;
    if (uid >= ranges[range]![0]) matched.push(uid);
  }
  return matched;
}

/** UIDs of the sequence numbers in the set, ascending; BAD when a number is not in the mailbox. */
function uidsInSequenceSet(view: MailboxView, set: SequenceSet): number[] {
  if (view.exists === 0 || sequenceSetExceeds(set, view.exists)) {
    throw bad('Invalid messageset: no such message sequence number');
  }
  return resolveSequenceSet(set, view.exists).map((seq) => view.uidAt(seq)!);
}

/** The UIDs a command's sequence set (or UID set, for UID commands) names, ascending. */
export function selectedUids(view: MailboxView, set: SequenceSet, uid: boolean): number[] {
  // `$` (SEARCHRES, RFC 5182): the saved UIDs still in view, whether the command is UID or not.
  if (set.saved) return view.searchResult().uids;
  return uid ? uidsInUidSet(view, set) : uidsInSequenceSet(view, set);
}
