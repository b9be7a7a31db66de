/**
 * Repairs the per-mailbox STATUS counters (messageCount, unseenCount, byteCount, deletedCount) after a writer
 * died or stalled half-way, without transactions and without a cost on the normal write path.
 *
 * Why they can go wrong: an append counts its message in the same write that allocates its UID
 * (messages.ts `allocate`), before the message document is inserted; a process killed in between
 * leaves the counters one message too high. The same holds for any write that changes documents
 * and counters in separate steps (flags, expunge, move).
 *
 * How it is noticed: every such write takes journal positions before it starts and writes them last
 * (journal.ts). A position nobody writes is a gap; a reader that gives up on a gap fills it with a
 * no-op, and first marks the user's mailboxes that allocated at or after the gap (the gap does not
 * say which mailbox the dead writer held; one whose last allocation is older cannot be it). A writer that finds its own positions filled by a reader (it stalled, and may
 * have raced a recount) marks its mailbox again once its change is complete, and so does a write that
 * failed after changing some documents.
 *
 * How it is repaired: a janitor in every process (MongoStore) looks at the marks once a second (one
 * query on a collection that is empty when nothing happened) and recounts a marked mailbox with
 * one aggregation. The result is written only when it cannot be stale:
 * - no allocation of the mailbox is still in flight: every journal position of its user up to the
 *   mailbox's journal mark is written (writers change counters and documents before writing their
 *   positions, so then every change the counters hold is in the documents too, and vice versa);
 * - nothing was allocated or counted meanwhile: the write is a conditional $set that matches only
 *   while UIDNEXT, HIGHESTMODSEQ, the journal mark and the counters are as read before the
 *   aggregation.
 * Otherwise the mark stays and the janitor tries again on its next round. A writer that stalled
 * past a reader's patience and changes documents after a recount has marked again by the time it
 * is done (above), so the next recount sees its change.
 */
import { fillGap, type GapTracker } from './journal.ts';
import type { Collections, MailboxDoc } from './schema.ts';
import { aggregateTotals } from './totals.ts';

/** Marks looked at per janitor round, at most. */
const MARKS_PER_ROUND = 100;
/** Journal positions below a mailbox's mark checked for writes still in flight. */
const IN_FLIGHT_WINDOW = 256;

/**
 * True when every journal position of the mailbox's user up to the mailbox's mark is written
 * (within IN_FLIGHT_WINDOW below it; older positions were filled long ago or pruned). A position
 * still open GAP_WAIT_MS after the janitor first saw it belongs to a dead writer and is filled as a
 * reader would (journal.ts): that also covers the newest positions, which no reader sees as a gap.
 */
async function nothingInFlight(c: Collections, gaps: GapTracker, mailbox: MailboxDoc): Promise<boolean> {
  const mark = mailbox.userJournalMark ?? 0;
  if (mark === 0) return true;
  const bottom = Math.max(1, mark - IN_FLIGHT_WINDOW + 1);
  const written = await c.journal
    .find({ user: mailbox.user, pos: { $gte: bottom, $lte: mark } }, { projection: { _id: 0, pos: 1 } })
    .sort({ user: 1, pos: 1 })
    .toArray();
  // Missing at the bottom, below the lowest one present: pruned, or written before the window.
  let open = false;
  let expected = written[0]?.pos ?? bottom;
  for (const pos of [...written.map((doc) => doc.pos), mark + 1]) {
    if (pos > expected) {
      open = true;
      if (gaps.abandoned(mailbox.user, expected, { at: new Date() })) {
        await fillGap(c, mailbox.user, expected, pos - 1);
      }
    }
    expected = pos + 1;
  }
  return !open;
}

export type RecountOutcome = 'done' | 'busy' | 'gone';

/** Recounts one mailbox; 'busy' when it could not be done safely now (try again later). */
export async function recountMailbox(
  c: Collections,
  gaps: GapTracker,
  mailboxId: number,
): Promise<RecountOutcome> {
  const mailbox = await c.mailboxes.findOne({ _id: mailboxId });
  // A \Noselect placeholder is being emptied (or stays empty): its sweep uncounts what it removes.
  if (!mailbox || !mailbox.selectable || mailbox.messageCount === undefined) return 'gone';
  if (!(await nothingInFlight(c, gaps, mailbox))) return 'busy';
  const totals = await aggregateTotals(c, mailboxId);
  const result = await c.mailboxes.updateOne(
    {
      _id: mailboxId,
      selectable: true,
      uidNext: mailbox.uidNext,
      highestModseq: mailbox.highestModseq,
      userJournalMark: mailbox.userJournalMark ?? { $exists: false },
      messageCount: mailbox.messageCount,
      unseenCount: mailbox.unseenCount ?? { $exists: false },
      byteCount: mailbox.byteCount ?? { $exists: false },
      deletedCount: mailbox.deletedCount ?? { $exists: false },
    },
    {
      $set: {
        messageCount: totals.messages,
        unseenCount: totals.unseen,
        byteCount: totals.bytes,
        deletedCount: totals.deleted,
      },
    },
  );
  return result.matchedCount === 1 ? 'done' : 'busy';
}

/**
 * One janitor round: recounts the marked mailboxes and removes the marks of those done (unless
 * marked again meanwhile). Returns how many marks are left. Cheap when nothing is marked: one
 * query on an empty collection.
 */
export async function runRecounts(c: Collections, gaps: GapTracker): Promise<number> {
  const marks = await c.recounts.find({}).limit(MARKS_PER_ROUND).toArray();
  let left = 0;
  for (const mark of marks) {
    const outcome = await recountMailbox(c, gaps, mark._id);
    if (outcome === 'busy') left++;
    else await c.recounts.deleteOne({ _id: mark._id, gen: mark.gen });
  }
  return left;
}
