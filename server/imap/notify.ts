/**
 * A session's NOTIFY settings (RFC 5465) and the notifications waiting for it.
 *
 * Every change reaches a session through its user's journal (store/follower.ts), whichever server
 * process made it; `observe` sorts each entry:
 * - the selected mailbox's message changes stay with the MailboxView (EXISTS, FETCH, EXPUNGE as
 *   always); NOTIFY only decides whether they are pushed during IDLE (`pushesSelected`) and which
 *   FETCH items follow a new message (`newMessageItems`);
 * - another mailbox's message changes mark it for one STATUS at the next flush (several changes
 *   to one mailbox make one STATUS);
 * - mailbox names, subscriptions and METADATA become LIST and METADATA lines, in journal order.
 *
 * Cost per journal entry, per session with NOTIFY: one Map look-up (mailbox id → name) and a test
 * per event group (a string comparison per name of a subtree/mailboxes filter); nothing grows with
 * the number of mailboxes. The session holds the user's mailbox names (id → path) and
 * subscriptions, kept current from the same journal; STATUS costs one store call per changed
 * mailbox per flush, not per change.
 *
 * A client that lets more than MAX_PENDING notifications pile up (it neither reads nor IDLEs) gets
 * `* OK [NOTIFICATIONOVERFLOW]` and NOTIFY NONE (RFC 5465 5.8) instead of unbounded memory.
 */
import type { Id, JournalEntry, Mailbox } from '../store/types.ts';
import type { FetchItem } from './parser/index.ts';
import { OwnChanges, type Cause, type OwnChange } from './notify-own.ts';

/** Notifications (distinct mailboxes to STATUS, LIST and METADATA lines) held for one session. */
export const MAX_PENDING = 1000;

export type MessageEvent = 'MessageNew' | 'MessageExpunge' | 'FlagChange';
export type MailboxEvent = 'MailboxName' | 'SubscriptionChange' | 'MailboxMetadataChange';
export type NotifyEventName = MessageEvent | MailboxEvent | 'ServerMetadataChange';

/** What Mallard can notify, for BADEVENT (AnnotationChange needs ANNOTATE, which it lacks). */
export const SUPPORTED_EVENTS: readonly NotifyEventName[] = [
  'MessageNew',
  'MessageExpunge',
  'FlagChange',
  'MailboxName',
  'SubscriptionChange',
  'MailboxMetadataChange',
  'ServerMetadataChange',
];

/** Which mailboxes a group watches (stored names; the selected filter is kept apart). */
export type Watch =
  | { kind: 'personal' }
  | { kind: 'inboxes' }
  | { kind: 'subscribed' }
  | { kind: 'subtree'; paths: string[] }
  | { kind: 'mailboxes'; paths: string[] };

export interface WatchGroup {
  watch: Watch;
  events: ReadonlySet<NotifyEventName>;
}

/** A NOTIFY SET as the command checked it; NOTIFY NONE is no groups and no selected events. */
export interface NotifySettings {
  /** Events for the selected mailbox (empty: none, also when no selected filter was given). */
  selected: ReadonlySet<MessageEvent>;
  /** MessageNew's FETCH items for the selected mailbox (null: EXISTS only). */
  newMessageItems: FetchItem[] | null;
  groups: readonly WatchGroup[];
}

export type Notification =
  | { kind: 'status'; mailboxId: Id; path: string }
  /** A LIST line: attributes, the name, and OLDNAME for a rename. */
  | { kind: 'list'; path: string; attributes: string[]; oldPath: string | null }
  /** METADATA changed: `path` "" for the server's entries. */
  | { kind: 'metadata'; path: string; names: string[] };

interface KnownMailbox {
  path: string;
  /** The mailbox mail is delivered to besides INBOX (spam): part of `inboxes`. */
  junk: boolean;
}

const MESSAGE_EVENTS: Readonly<Record<string, MessageEvent | undefined>> = {
  'message-new': 'MessageNew',
  'message-expunge': 'MessageExpunge',
  'message-flags': 'FlagChange',
};

export class Notifier {
  private readonly mailboxes = new Map<Id, KnownMailbox>();
  private readonly subscriptions: Set<string>;
  private pending: Array<{ notification: Notification; cause: Cause }> = [];
  /** Mailboxes with a STATUS waiting in `pending` (one per mailbox), with what caused it. */
  private readonly statusPending = new Map<Id, Cause & { kind: 'messages' }>();
  /** What this session's commands changed since the last flush: not echoed (notify-own.ts). */
  private readonly own = new OwnChanges();
  private overflowed = false;

  constructor(
    private settings: NotifySettings,
    mailboxes: readonly Mailbox[],
    subscriptions: readonly string[],
    private readonly maxPending = MAX_PENDING,
  ) {
    for (const mailbox of mailboxes)
      this.mailboxes.set(mailbox.id, { path: mailbox.path, junk: mailbox.specialUse === '\\Junk' });
    this.subscriptions = new Set(subscriptions);
  }

  /** Whether the selected mailbox's changes are pushed while the client IDLEs. */
  get pushesSelected(): boolean {
    return this.settings.selected.size > 0;
  }

  get newMessageItems(): FetchItem[] | null {
    return this.settings.selected.has('MessageNew') ? this.settings.newMessageItems : null;
  }

  hasPending(): boolean {
    return this.pending.length > 0 || this.overflowed;
  }

  /** The notifications waiting, oldest first, and whether they overflowed since the last take. */
  take(): { notifications: Notification[]; overflowed: boolean } {
    const notifications = this.pending
      .filter(({ cause }) => !this.own.covers(cause))
      .map(({ notification }) => notification);
    const taken = { notifications, overflowed: this.overflowed };
    this.pending = [];
    this.statusPending.clear();
    this.overflowed = false;
    return taken;
  }

  /** A change the session's current command made: its notification is dropped (notify-own.ts). */
  noteOwnChange(change: OwnChange): void {
    this.own.note(change);
  }

  /**
   * After a flush (the journal read up to its head, so every own change has been observed): the
   * notes are forgotten, so that a later change by another session is notified.
   */
  forgetOwnChanges(): void {
    if (!this.own.empty) this.own.clear();
  }

  /** The mailboxes a message event of some group watches, but for the selected one (STATUS at NOTIFY SET STATUS). */
  watchedForMessages(selectedId: Id | null): Array<{ id: Id; path: string }> {
    const watched: Array<{ id: Id; path: string }> = [];
    for (const [id, mailbox] of this.mailboxes) {
      if (id !== selectedId && this.wants(mailbox, MESSAGE_EVENT_LIST))
        watched.push({ id, path: mailbox.path });
    }
    return watched.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Sorts one journal entry of the user (see the top of this file). */
  observe(entry: JournalEntry, selectedId: Id | null): void {
    const messageEvent = MESSAGE_EVENTS[entry.kind];
    if (messageEvent) {
      const mailbox = this.mailboxes.get(entry.mailboxId);
      if (entry.mailboxId !== selectedId && mailbox && this.wants(mailbox, [messageEvent]))
        this.queueStatus(entry, mailbox.path);
      return;
    }
    switch (entry.kind) {
      case 'mailbox-create':
      case 'mailbox-rename':
      case 'mailbox-delete':
        return this.observeName(entry);
      case 'mailbox-subscribe':
      case 'mailbox-unsubscribe':
        return this.observeSubscription(entry);
      case 'metadata-change':
        return this.observeMetadata(entry);
      case 'message-new':
      case 'message-flags':
      case 'message-expunge':
      case 'noop':
        return;
    }
  }

  private observeName(entry: JournalEntry): void {
    const path = entry.path ?? '';
    const before = this.mailboxes.get(entry.mailboxId);
    if (entry.kind === 'mailbox-delete') this.mailboxes.delete(entry.mailboxId);
    else this.mailboxes.set(entry.mailboxId, { path, junk: before?.junk ?? false });
    const after = this.mailboxes.get(entry.mailboxId);
    // A rename is seen by a group watching either name (RFC 5465 5.4).
    const seen = [before, after].some((mailbox) => mailbox && this.wants(mailbox, ['MailboxName']));
    if (!seen) return;
    const attributes = entry.kind === 'mailbox-delete' ? ['\\NonExistent'] : [];
    if (this.subscriptions.has(path)) attributes.push('\\Subscribed');
    const oldPath = entry.kind === 'mailbox-rename' ? entry.oldPath : null;
    this.queue({ kind: 'list', path, attributes, oldPath }, { kind: 'name', path });
  }

  private observeSubscription(entry: JournalEntry): void {
    const path = entry.path ?? '';
    const subscribed = entry.kind === 'mailbox-subscribe';
    // The `subscribed` filter follows the list (RFC 5465 6.4): watched from the change on.
    if (subscribed) this.subscriptions.add(path);
    const mailbox = this.mailboxByPath(path);
    const known = mailbox ?? { path, junk: false };
    if (this.wants(known, ['SubscriptionChange'])) {
      const attributes = mailbox ? [] : ['\\NonExistent'];
      if (subscribed) attributes.push('\\Subscribed');
      this.queue({ kind: 'list', path, attributes, oldPath: null }, { kind: 'subscription', path });
    }
    if (!subscribed) this.subscriptions.delete(path);
  }

  private observeMetadata(entry: JournalEntry): void {
    const path = entry.path ?? '';
    const names = entry.flags ?? [];
    if (path === '') {
      if (this.settings.groups.some((group) => group.events.has('ServerMetadataChange')))
        this.queue({ kind: 'metadata', path, names }, { kind: 'metadata', path });
      return;
    }
    const mailbox = this.mailboxes.get(entry.mailboxId);
    if (mailbox && this.wants(mailbox, ['MailboxMetadataChange']))
      this.queue({ kind: 'metadata', path, names }, { kind: 'metadata', path });
  }

  private mailboxByPath(path: string): KnownMailbox | undefined {
    for (const mailbox of this.mailboxes.values()) if (mailbox.path === path) return mailbox;
    return undefined;
  }

  /** True when a group watching `mailbox` asks for one of `events`. */
  private wants(mailbox: KnownMailbox, events: readonly NotifyEventName[]): boolean {
    return this.settings.groups.some(
      (group) => events.some((event) => group.events.has(event)) && this.watches(group.watch, mailbox),
    );
  }

  private watches(watch: Watch, mailbox: KnownMailbox): boolean {
    switch (watch.kind) {
      case 'personal':
        return true;
      case 'inboxes':
        return mailbox.path === 'INBOX' || mailbox.junk;
      case 'subscribed':
        return this.subscriptions.has(mailbox.path);
      case 'subtree':
        return watch.paths.some((path) => mailbox.path === path || mailbox.path.startsWith(`${path}/`));
      case 'mailboxes':
        return watch.paths.includes(mailbox.path);
    }
  }

  /**
   * One STATUS per mailbox; its cause keeps the UIDs of the new messages behind it, which may all
   * be the session's own (APPEND, COPY), until a change that cannot be (another kind) comes.
   */
  private queueStatus(entry: JournalEntry, path: string): void {
    const own = entry.kind === 'message-new' && entry.uid !== null ? entry.uid : null;
    const waiting = this.statusPending.get(entry.mailboxId);
    if (waiting) {
      if (own === null) waiting.uids = null;
      else waiting.uids?.push(own);
      return;
    }
    const cause = {
      kind: 'messages' as const,
      mailboxId: entry.mailboxId,
      uids: own === null ? null : [own],
    };
    this.statusPending.set(entry.mailboxId, cause);
    this.queue({ kind: 'status', mailboxId: entry.mailboxId, path }, cause);
  }

  private queue(notification: Notification, cause: Cause): void {
    if (this.overflowed) return;
    this.pending.push({ notification, cause });
    if (this.pending.length <= this.maxPending) return;
    // RFC 5465 5.8: say so, and behave as after NOTIFY NONE.
    this.pending = [];
    this.statusPending.clear();
    this.overflowed = true;
    this.settings = { selected: new Set(), newMessageItems: null, groups: [] };
  }
}

const MESSAGE_EVENT_LIST: readonly NotifyEventName[] = ['MessageNew', 'MessageExpunge', 'FlagChange'];
