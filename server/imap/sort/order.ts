/**
 * Orders messages by a SORT program (RFC 5256 3): each criterion in turn, REVERSE flipping only
 * the criterion it precedes, and messages equal on every criterion in sequence number order
 * (ascending, REVERSE or not, as RFC 5256 and Dovecot do).
 *
 * Each message's value of each key is ranked in its mailbox (ranks.ts: computed once per message,
 * kept), so ordering needs no comparison of values at all: a radix sort on the ranks, one stable
 * counting sort per criterion from the last criterion to the first, starting from sequence order.
 * Each pass is linear in the messages plus the distinct values of its key.
 */
import type { SortCriterion, SortEntry, SortMessage } from './keys.ts';
import { SortRanks, type Atom } from './ranks.ts';

/** Positions 0..n-1 in ascending sequence number order (already so for what a search returns). */
function sequenceOrder(seqs: readonly number[]): Uint32Array {
  const order = new Uint32Array(seqs.length);
  let ascending = true;
  for (let i = 0; i < seqs.length; i++) {
    order[i] = i;
    if (i > 0 && seqs[i]! < seqs[i - 1]!) ascending = false;
  }
  if (!ascending) order.sort((x, y) => seqs[x]! - seqs[y]!);
  return order;
}

/** The rank of each message (by position) for one criterion, REVERSE flipping it, and the count. */
function criterionRanks(
  entries: readonly SortEntry[],
  criterion: SortCriterion,
  ranks: SortRanks,
  mailboxSize: number,
): { ranks: Uint32Array; buckets: number } {
  const ranking = ranks.ranking(criterion.key, mailboxSize);
  const atoms = new Array<Atom>(entries.length);
  for (let i = 0; i < entries.length; i++) atoms[i] = ranking.atomOf(entries[i]!);
  const buckets = ranking.settle();
  const values = new Uint32Array(entries.length);
  const top = buckets - 1;
  if (criterion.reverse) for (let i = 0; i < atoms.length; i++) values[i] = top - atoms[i]!.rank;
  else for (let i = 0; i < atoms.length; i++) values[i] = atoms[i]!.rank;
  return { ranks: values, buckets };
}

/** A stable counting sort of `order` by the ranks of its positions. */
function countingPass(order: Uint32Array, ranks: Uint32Array, buckets: number): Uint32Array {
  const starts = new Uint32Array(buckets + 1);
  for (let i = 0; i < order.length; i++) starts[ranks[order[i]!]! + 1]!++;
  for (let b = 1; b <= buckets; b++) starts[b]! += starts[b - 1]!;
  const sorted = new Uint32Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const position = order[i]!;
    sorted[starts[ranks[position]!]!++] = position;
  }
  return sorted;
}

/**
 * The positions of the messages (entries, with their sequence numbers) in sort order. `ranks` are
 * the mailbox's rankings, `mailboxSize` its message count (to know when they hold mostly expunged
 * values).
 */
export function sortOrder(
  entries: readonly SortEntry[],
  seqs: readonly number[],
  criteria: readonly SortCriterion[],
  ranks: SortRanks,
  mailboxSize: number,
): Uint32Array {
  let order = sequenceOrder(seqs);
  if (entries.length < 2) return order;
  for (let c = criteria.length - 1; c >= 0; c--) {
    const column = criterionRanks(entries, criteria[c]!, ranks, mailboxSize);
    order = countingPass(order, column.ranks, column.buckets);
  }
  return order;
}

/** The messages in sort order (rankings of their own when none are given). */
export function sortMessages(
  messages: readonly SortMessage[],
  criteria: readonly SortCriterion[],
  ranks = new SortRanks(),
): SortMessage[] {
  const order = sortOrder(
    messages,
    messages.map((message) => message.seq),
    criteria,
    ranks,
    messages.length,
  );
  const sorted = new Array<SortMessage>(order.length);
  for (let i = 0; i < order.length; i++) sorted[i] = messages[order[i]!]!;
  return sorted;
}
