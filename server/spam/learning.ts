/**
 * Learning from the user, as Gmail does: a message moved or copied into Junk is taught to rspamd
 * as spam, one moved or copied out of Junk (anywhere but Trash: deleting spam says nothing about
 * it) as ham. Learning runs after the IMAP command has answered, one message at a time in the
 * background, and never fails the command: rspamd being down or refusing a message (too short to
 * learn) is logged and reported as an event, nothing more.
 */
import type { Logger } from '../log.ts';
import type { Mailbox, Store } from '../store/types.ts';
import type { RspamdClient } from './rspamd.ts';

export type LearnKind = 'spam' | 'ham';

export interface JunkMove {
  /** The user's login (rspamd's per-user statistics, where enabled, are by this name). */
  user: string;
  source: Mailbox;
  target: Mailbox;
  /** The UIDs the copies got in the target mailbox. */
  targetUids: number[];
}

/** What the admin API's 'spam.learned' event says. */
export interface LearnReport {
  user: string;
  kind: LearnKind;
  learned: number;
  failed: number;
}

/** What a move teaches: spam into Junk, ham out of Junk (not into Trash), nothing otherwise. */
export function lessonOf(source: Mailbox, target: Mailbox): LearnKind | null {
  const fromJunk = source.specialUse === '\\Junk';
  const toJunk = target.specialUse === '\\Junk';
  if (toJunk && !fromJunk) return 'spam';
  if (fromJunk && !toJunk && target.specialUse !== '\\Trash') return 'ham';
  return null;
}

export class SpamLearner {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly rspamd: RspamdClient,
    private readonly log: Logger,
    private readonly report: (report: LearnReport) => void = () => undefined,
  ) {}

  /** Notes a COPY or MOVE; returns at once (the learning is queued). */
  observe(move: JunkMove): void {
    const kind = lessonOf(move.source, move.target);
    if (!kind || move.targetUids.length === 0) return;
    this.queue = this.queue.then(() => this.learn(kind, move));
  }

  /** Resolves once everything observed so far has been learned (or failed): for shutdown. */
  settled(): Promise<void> {
    return this.queue;
  }

  private async learn(kind: LearnKind, move: JunkMove): Promise<void> {
    let learned = 0;
    let failed = 0;
    for (const uid of move.targetUids) {
      try {
        const message = await this.store.getMessage(move.target.id, uid);
        // Expunged meanwhile: nothing to learn from.
        if (!message) continue;
        await this.rspamd.learn(kind, await this.store.readBlob(message.blobId), move.user);
        learned++;
      } catch (error) {
        failed++;
        this.log.warn({ err: error, user: move.user, uid, kind }, 'spam learning failed');
      }
    }
    this.log.info({ user: move.user, kind, learned, failed }, 'spam learned from a Junk move');
    this.report({ user: move.user, kind, learned, failed });
  }
}
