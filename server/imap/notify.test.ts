/**
 * The Notifier's sorting of journal entries (server/imap/notify.ts): which filter sees which
 * mailbox, STATUS once per mailbox, renames seen by either name, the subscribed filter following
 * the list, and the overflow. Protocol transcripts are in test/imap/notify-extension.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { JournalEntry, JournalKind, Mailbox } from '../store/types.ts';
import { Notifier, type NotifyEventName, type Watch } from './notify.ts';

let nextId = 0;
function entry(kind: JournalKind, mailboxId: string, fields: Partial<JournalEntry> = {}): JournalEntry {
  return {
    id: ++nextId,
    userId: '1',
    mailboxId,
    kind,
    uid: kind.startsWith('message') ? 1 : null,
    modseq: null,
    flags: null,
    path: null,
    oldPath: null,
    at: new Date(),
    ...fields,
  };
}

function mailbox(id: string, path: string, specialUse: Mailbox['specialUse'] = null): Mailbox {
  return { id, path, specialUse } as Mailbox;
}

const MAILBOXES = [
  mailbox('1', 'INBOX'),
  mailbox('2', 'Lists'),
  mailbox('3', 'Lists/Rust'),
  mailbox('4', 'Listsy'),
  mailbox('5', 'Spam', '\\Junk'),
];
const MESSAGES: NotifyEventName[] = ['MessageNew', 'MessageExpunge', 'FlagChange'];

function notifier(
  watch: Watch,
  events: NotifyEventName[] = MESSAGES,
  subscriptions: string[] = [],
  max?: number,
) {
  return new Notifier(
    { selected: new Set(), newMessageItems: null, groups: [{ watch, events: new Set(events) }] },
    MAILBOXES,
    subscriptions,
    max,
  );
}

/** The mailboxes a new message in each of MAILBOXES makes a STATUS for. */
function statusFor(target: Notifier, selectedId: string | null = null): string[] {
  for (const { id } of MAILBOXES) target.observe(entry('message-new', id), selectedId);
  return target.take().notifications.map((n) => (n.kind === 'status' ? n.path : n.kind));
}

describe('Notifier', () => {
  it('matches each filter to its mailboxes, never the selected one', () => {
    expect(statusFor(notifier({ kind: 'personal' }))).toEqual([
      'INBOX',
      'Lists',
      'Lists/Rust',
      'Listsy',
      'Spam',
    ]);
    expect(statusFor(notifier({ kind: 'personal' }), '2')).toEqual(['INBOX', 'Lists/Rust', 'Listsy', 'Spam']);
    expect(statusFor(notifier({ kind: 'inboxes' }))).toEqual(['INBOX', 'Spam']);
    expect(statusFor(notifier({ kind: 'subtree', paths: ['Lists'] }))).toEqual(['Lists', 'Lists/Rust']);
    expect(statusFor(notifier({ kind: 'mailboxes', paths: ['Lists', 'Nope'] }))).toEqual(['Lists']);
    expect(statusFor(notifier({ kind: 'subscribed' }, MESSAGES, ['Listsy']))).toEqual(['Listsy']);
  });

  it('makes one STATUS per mailbox however many changes wait, and only for the events asked', () => {
    const target = notifier({ kind: 'personal' }, ['MailboxName']);
    target.observe(entry('message-new', '2'), null);
    expect(target.hasPending()).toBe(false);
    const messages = notifier({ kind: 'personal' }, ['MessageNew', 'MessageExpunge']);
    for (const kind of ['message-new', 'message-flags', 'message-expunge', 'message-new'] as const)
      messages.observe(entry(kind, '2'), null);
    expect(messages.take().notifications).toEqual([{ kind: 'status', mailboxId: '2', path: 'Lists' }]);
  });

  it('follows renames (seen by a filter of either name) and new mailboxes', () => {
    const target = notifier({ kind: 'subtree', paths: ['Lists'] }, ['MailboxName', ...MESSAGES]);
    target.observe(entry('mailbox-rename', '3', { path: 'Archive/Rust', oldPath: 'Lists/Rust' }), null);
    target.observe(entry('message-new', '3'), null);
    target.observe(entry('mailbox-create', '9', { path: 'Lists/Go' }), null);
    target.observe(entry('message-new', '9'), null);
    target.observe(entry('mailbox-delete', '9', { path: 'Lists/Go' }), null);
    expect(target.take().notifications).toEqual([
      { kind: 'list', path: 'Archive/Rust', attributes: [], oldPath: 'Lists/Rust' },
      { kind: 'list', path: 'Lists/Go', attributes: [], oldPath: null },
      { kind: 'status', mailboxId: '9', path: 'Lists/Go' },
      { kind: 'list', path: 'Lists/Go', attributes: ['\\NonExistent'], oldPath: null },
    ]);
  });

  it('watches a mailbox from its subscription on, and tells of metadata by filter', () => {
    const target = notifier({ kind: 'subscribed' }, [
      ...MESSAGES,
      'SubscriptionChange',
      'MailboxMetadataChange',
    ]);
    target.observe(entry('message-new', '2'), null);
    target.observe(entry('mailbox-subscribe', '0', { path: 'Lists' }), null);
    target.observe(entry('message-new', '2'), null);
    target.observe(entry('metadata-change', '2', { path: 'Lists', flags: ['/private/comment'] }), null);
    target.observe(entry('metadata-change', '0', { path: '', flags: ['/private/x'] }), null);
    target.observe(entry('mailbox-unsubscribe', '0', { path: 'Lists' }), null);
    target.observe(entry('message-new', '2'), null);
    expect(target.take().notifications).toEqual([
      { kind: 'list', path: 'Lists', attributes: ['\\Subscribed'], oldPath: null },
      { kind: 'status', mailboxId: '2', path: 'Lists' },
      { kind: 'metadata', path: 'Lists', names: ['/private/comment'] },
      { kind: 'list', path: 'Lists', attributes: [], oldPath: null },
    ]);
  });

  it('drops what only the session itself changed, before or after it noted the change (RFC 5465 5)', () => {
    const events: NotifyEventName[] = [
      ...MESSAGES,
      'MailboxName',
      'SubscriptionChange',
      'MailboxMetadataChange',
    ];
    const target = notifier({ kind: 'personal' }, events);
    // Own APPEND into Lists (UID 1), journaled before the command noted it; own CREATE of a/b
    // (with its parent a) noted first, then journaled.
    target.observe(entry('message-new', '2', { uid: 1 }), null);
    target.noteOwnChange({ kind: 'messages', mailboxId: '2', uids: [1] });
    target.noteOwnChange({ kind: 'name', path: 'a/b' });
    target.observe(entry('mailbox-create', '10', { path: 'a' }), null);
    target.observe(entry('mailbox-create', '11', { path: 'a/b' }), null);
    target.noteOwnChange({ kind: 'subscription', path: 'a/b' });
    target.observe(entry('mailbox-subscribe', '0', { path: 'a/b' }), null);
    target.noteOwnChange({ kind: 'metadata', path: 'Lists' });
    target.observe(entry('metadata-change', '2', { path: 'Lists', flags: ['/private/comment'] }), null);
    // Another session's: a new message in Lists/Rust, and a flag change beside the own APPEND in Listsy.
    target.observe(entry('message-new', '3', { uid: 7 }), null);
    target.noteOwnChange({ kind: 'messages', mailboxId: '4', uids: [2] });
    target.observe(entry('message-new', '4', { uid: 2 }), null);
    target.observe(entry('message-flags', '4', { uid: 1 }), null);
    // The own RENAME of Lists takes Lists/Rust along: both new names are own.
    target.noteOwnChange({ kind: 'name', path: 'Archive', children: true });
    target.observe(entry('mailbox-rename', '2', { path: 'Archive', oldPath: 'Lists' }), null);
    target.observe(entry('mailbox-rename', '3', { path: 'Archive/Rust', oldPath: 'Lists/Rust' }), null);
    expect(target.take().notifications).toEqual([
      { kind: 'status', mailboxId: '3', path: 'Lists/Rust' },
      { kind: 'status', mailboxId: '4', path: 'Listsy' },
    ]);
    // RENAME INBOX: every message change of both mailboxes is the session's.
    target.noteOwnChange({ kind: 'mailbox', mailboxId: '1' });
    target.observe(entry('message-expunge', '1', { uid: 4 }), null);
    expect(target.take().notifications).toEqual([]);
    // After the flush the notes are forgotten: another session deleting a/b is told.
    target.forgetOwnChanges();
    target.observe(entry('mailbox-delete', '11', { path: 'a/b' }), null);
    target.observe(entry('message-new', '2', { uid: 1 }), null);
    expect(target.take().notifications).toEqual([
      { kind: 'list', path: 'a/b', attributes: ['\\NonExistent', '\\Subscribed'], oldPath: null },
      { kind: 'status', mailboxId: '2', path: 'Archive' },
    ]);
  });

  it('overflows past its limit: says so once, then behaves as NOTIFY NONE', () => {
    const target = notifier({ kind: 'personal' }, ['MailboxName'], [], 3);
    for (let index = 0; index < 5; index++)
      target.observe(entry('mailbox-create', String(100 + index), { path: `N${index}` }), null);
    expect(target.take()).toEqual({ notifications: [], overflowed: true });
    target.observe(entry('mailbox-create', '200', { path: 'Later' }), null);
    expect(target.hasPending()).toBe(false);
    expect(target.pushesSelected).toBe(false);
  });
});
