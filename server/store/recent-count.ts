/**
 * \Recent of a mailbox is the messages above its recent mark (the UIDs no session has claimed).
 * Usually a few, the mail since the last SELECT; but a mailbox filled without being selected (an
 * import, a restore, a bulk delivery) has every message above the mark, and counting 100,000 index
 * entries cost a STATUS tens of milliseconds. The UIDs ever given out on each side of the mark bound
 * how many messages each side can hold, so the side with fewer is counted and the other follows from
 * the mailbox's message counter.
 */
/** Which side to count, and how to turn its count into \Recent. */
export interface RecentPlan {
  /** Count the messages with a UID above the mark, or those at or below it. */
  countAbove: boolean;
  recentOf(count: number): number;
}

export function recentPlan(mark: number, uidNext: number, messages: number): RecentPlan {
  const uidsAbove = uidNext - 1 - mark;
  if (mark < uidsAbove) return { countAbove: false, recentOf: (count) => Math.max(0, messages - count) };
  return { countAbove: true, recentOf: (count) => count };
}
