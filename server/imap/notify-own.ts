/**
 * The changes a session's own commands made, so that NOTIFY does not echo them (RFC 5465 5: "The
 * server SHOULD omit notifying the client if the event is caused by this client"): the command's
 * own reply (APPENDUID, COPYUID, the tagged OK of CREATE...) already told the client.
 *
 * The journal does not say which session wrote an entry (and needs no migration for it): a command
 * names what it changed (`OwnChanges.note`) right after the store call, and the notifications of
 * entries that match are dropped when they are sent. Journal entries reach the session at any
 * time, before or after the command notes its change, but always before the flush that ends the
 * command (it reads the journal up to its head first), so the notes are forgotten after each
 * flush: a later change by another session to the same name is notified again.
 */
import { MAILBOX_DELIMITER, type Id } from '../store/types.ts';
import type { ImapContext } from './context.ts';
import { isSameOrDescendant } from '../store/normalize.ts';

export type OwnChange =
  /** New messages (APPEND, COPY, MOVE, REPLACE) in a mailbox. */
  | { kind: 'messages'; mailboxId: Id; uids: readonly number[] }
  /** Every message change of a mailbox (RENAME INBOX moves all its messages out). */
  | { kind: 'mailbox'; mailboxId: Id }
  /**
   * A mailbox created (with the parents it needed), renamed (its new name, with `children`: they
   * move along) or deleted.
   */
  | { kind: 'name'; path: string; children?: boolean }
  | { kind: 'subscription'; path: string }
  /** METADATA of a mailbox ("": the server's). */
  | { kind: 'metadata'; path: string };

/** Why a notification waits: what has to be the session's own for it to be dropped. */
export type Cause =
  /** Only new messages with these UIDs so far (null: some other change, never own). */
  | { kind: 'messages'; mailboxId: Id; uids: number[] | null }
  | { kind: 'name' | 'subscription' | 'metadata'; path: string };

export class OwnChanges {
  private readonly messages = new Map<Id, Set<number>>();
  private readonly mailboxes = new Set<Id>();
  private readonly names = new Set<string>();
  /** Renamed mailboxes: their children's new names are own changes too. */
  private readonly subtrees: string[] = [];
  private readonly subscriptions = new Set<string>();
  private readonly metadata = new Set<string>();

  note(change: OwnChange): void {
    switch (change.kind) {
      case 'messages': {
        const uids = this.messages.get(change.mailboxId) ?? new Set<number>();
        for (const uid of change.uids) uids.add(uid);
        this.messages.set(change.mailboxId, uids);
        return;
      }
      case 'mailbox':
        this.mailboxes.add(change.mailboxId);
        return;
      case 'name':
        // The parents CREATE or RENAME made on the way are named too (the store journals them).
        for (
          let at = change.path.indexOf(MAILBOX_DELIMITER);
          at > 0;
          at = change.path.indexOf(MAILBOX_DELIMITER, at + 1)
        )
          this.names.add(change.path.slice(0, at));
        this.names.add(change.path);
        if (change.children) this.subtrees.push(change.path);
        return;
      case 'subscription':
        this.subscriptions.add(change.path);
        return;
      case 'metadata':
        this.metadata.add(change.path);
        return;
    }
  }

  /** True when everything behind a notification was done by this session. */
  covers(cause: Cause): boolean {
    switch (cause.kind) {
      case 'messages': {
        if (this.mailboxes.has(cause.mailboxId)) return true;
        const own = this.messages.get(cause.mailboxId);
        return cause.uids !== null && own !== undefined && cause.uids.every((uid) => own.has(uid));
      }
      case 'name':
        return (
          this.names.has(cause.path) || this.subtrees.some((path) => isSameOrDescendant(cause.path, path))
        );
      case 'subscription':
        return this.subscriptions.has(cause.path);
      case 'metadata':
        return this.metadata.has(cause.path);
    }
  }

  get empty(): boolean {
    return (
      this.messages.size === 0 &&
      this.mailboxes.size === 0 &&
      this.names.size === 0 &&
      this.subscriptions.size === 0 &&
      this.metadata.size === 0
    );
  }

  clear(): void {
    this.messages.clear();
    this.mailboxes.clear();
    this.names.clear();
    this.subtrees.length = 0;
    this.subscriptions.clear();
    this.metadata.clear();
  }
}

/** Called by a command right after the store made its change (nothing without NOTIFY). */
export function noteOwnChange(ctx: ImapContext, change: OwnChange): void {
  ctx.session.notifier?.noteOwnChange(change);
}
