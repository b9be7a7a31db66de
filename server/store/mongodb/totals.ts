/**
 * The STATUS totals of a mailbox counted from its messages, and the marks on mailboxes whose
 * counters must be recounted (recount.ts says why and when). A module of its own so that the
 * journal and the schema, which use these, and the janitor, which uses them, do not import each
 * other.
 */
import { randomUUID } from 'node:crypto';
import type { Collections, MailboxDoc } from './schema.ts';

/** The STATUS counters of a mailbox as its messages say. */
export interface MailboxTotals {
  messages: number;
  unseen: number;
  bytes: number;
  deleted: number;
}

/** Counts a mailbox's messages, unseen messages and bytes with one aggregation. */
export async function aggregateTotals(c: Collections, mailboxId: number): Promise<MailboxTotals> {
  const [totals] = await c.messages
    .aggregate<MailboxTotals>([
      { $match: { mailbox: mailboxId } },
      {
        $group: {
          _id: null,
          messages: { $sum: 1 },
          unseen: { $sum: { $cond: ['$seen', 0, 1] } },
          bytes: { $sum: '$size' },
          deleted: { $sum: { $cond: ['$deleted', 1, 0] } },
        },
      },
    ])
    .toArray();
  return {
    messages: totals?.messages ?? 0,
    unseen: totals?.unseen ?? 0,
    bytes: totals?.bytes ?? 0,
    deleted: totals?.deleted ?? 0,
  };
}

/** Marks mailboxes as needing a recount (a new mark replaces an older one, see `runRecounts`). */
export async function markForRecount(
  c: Collections,
  mailboxes: ReadonlyArray<Pick<MailboxDoc, '_id' | 'user'>>,
): Promise<void> {
  if (mailboxes.length === 0) return;
  const at = new Date();
  await c.recounts.bulkWrite(
    mailboxes.map(({ _id, user }) => ({
      updateOne: {
        filter: { _id },
        update: { $set: { user, gen: randomUUID(), at } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
}

/**
 * Marks the user's mailboxes that a writer holding positions from `fromPosition` on may have
 * changed: those that handed out UIDs/MODSEQs at or after that position (a mailbox records the
 * last position it allocated with, and allocates with growing positions).
 */
export async function markUserForRecount(
  c: Collections,
  userId: number,
  fromPosition: number,
): Promise<void> {
  const mailboxes = await c.mailboxes
    .find({ user: userId, userJournalMark: { $gte: fromPosition } }, { projection: { _id: 1, user: 1 } })
    .toArray();
  await markForRecount(c, mailboxes);
}

/** Best effort: a mark that cannot be written now is left to a reader's gap filling. */
export async function tryMarkForRecount(
  c: Collections,
  mailbox: Pick<MailboxDoc, '_id' | 'user'>,
): Promise<void> {
  try {
    await markForRecount(c, [mailbox]);
  } catch {
    // The database is gone: the positions of this write stay open and a reader marks the user.
  }
}
