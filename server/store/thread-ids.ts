/**
 * Thread ids (RFC 8474 THREADID), per user and across mailboxes, given once when a message is
 * stored (delivery, APPEND, import, restore) and never changed afterwards, as Gmail does.
 *
 * A message's thread keys are what THREAD=REFERENCES (RFC 5256 3) links messages by: the ids of its
 * Message-ID, References (or, without References, the first id of In-Reply-To), and its base
 * subject. The store keeps, per user, a link from each key ever seen to the thread it went to. A new
 * message:
 * 1. joins the thread of the first of its ids that has a link (References oldest first, then its
 *    own Message-ID);
 * 2. otherwise (it starts a thread in THREAD's terms: none of its parents is known) joins the
 *    thread its base subject is linked to, as THREAD merges roots with one base subject (step 5);
 * 3. otherwise starts a new thread, and links its base subject to it.
 * Its ids without a link are then linked to its thread, so a reply that arrives before its parent
 * makes the parent join the reply's thread later.
 *
 * So the messages that one THREAD=REFERENCES tree of a mailbox groups share one THREADID, except
 * where RFC 8474 lets them differ because ids never change: a late message whose References name
 * messages of two threads already given (a merge) leaves both threads with their ids (the message
 * joins the first); and a mailbox that lacks the top of a thread can make THREAD group a reply by
 * its subject where the user-wide thread of that reply is another.
 *
 * Copies and moves within one user keep the message's thread id; a copy to another user's mailbox
 * gets one from that user's links. Links outlive their messages (ids never change, and a late reply
 * to expunged mail still joins its thread); they go with the user.
 */
import { randomBytes } from 'node:crypto';
import { displayString } from '../mime/bytes.ts';
import { lastValue, parseHeaderFields } from '../mime/header.ts';
import { baseSubject } from '../imap/sort/base-subject.ts';
import { casemapKey } from '../imap/sort/collate.ts';
import { parseMessageIds } from '../imap/sort/message-ids.ts';

export interface ThreadKeys {
  /** Link keys of the message's ids: its parents (oldest first), then its own Message-ID. */
  ids: string[];
  /** Link key of its base subject (i;unicode-casemap), null when the base subject is empty. */
  subject: string | null;
}

/** What a message's thread comes to: its id, and the keys to link to it now. */
export interface ThreadChoice {
  threadId: string;
  newLinks: string[];
}

/** The key of a message id: in angle brackets, so that it can never equal a subject key. */
function idKey(id: string): string {
  return `<${id}>`;
}

function subjectKey(rawSubject: string | null): string | null {
  const base = baseSubject(rawSubject).text;
  return base === '' ? null : `subject:${casemapKey(base)}`;
}

/**
 * The thread keys of a message from its header fields as ENVELOPE and THREAD read them: the last
 * Message-ID, In-Reply-To, References and Subject field (raw binary strings, or null).
 */
export function threadKeysOf(fields: {
  messageId: string | null;
  inReplyTo: string | null;
  references: string | null;
  subject: string | null;
}): ThreadKeys {
  const own = parseMessageIds(fields.messageId === null ? null : displayString(fields.messageId))[0];
  let parents = parseMessageIds(fields.references);
  if (parents.length === 0)
    parents = parseMessageIds(fields.inReplyTo === null ? null : displayString(fields.inReplyTo)).slice(0, 1);
  const ids = [...new Set([...parents, ...(own === undefined ? [] : [own])].map(idKey))];
  return { ids, subject: subjectKey(fields.subject) };
}

/** The thread keys of a stored message, from its header (the bytes up to the blank line suffice). */
export function threadKeysOfMessage(raw: Buffer): ThreadKeys {
  const fields = parseHeaderFields(raw, 0, raw.length);
  const value = (key: string): string | null => lastValue(raw, fields, key);
  return threadKeysOf({
    messageId: value('message-id'),
    inReplyTo: value('in-reply-to'),
    references: value('references'),
    subject: value('subject'),
  });
}

/** Every key whose link decides a message's thread. */
export function lookupKeys(keys: ThreadKeys): string[] {
  return keys.subject === null ? keys.ids : [...keys.ids, keys.subject];
}

/** A thread id nobody has: `T` and 64 random bits in hex (the RFC 8474 objectid grammar). */
export function newThreadId(): string {
  return `T${randomBytes(8).toString('hex')}`;
}

/** Decides a message's thread from the links found for its keys (`linked`: key → thread id). */
export function chooseThread(keys: ThreadKeys, linked: ReadonlyMap<string, string>): ThreadChoice {
  const byId = keys.ids.find((key) => linked.has(key));
  const unlinkedIds = keys.ids.filter((key) => !linked.has(key));
  if (byId !== undefined) return { threadId: linked.get(byId)!, newLinks: unlinkedIds };
  const bySubject = keys.subject === null ? undefined : linked.get(keys.subject);
  if (bySubject !== undefined) return { threadId: bySubject, newLinks: unlinkedIds };
  const newLinks = keys.subject === null ? unlinkedIds : [...unlinkedIds, keys.subject];
  return { threadId: newThreadId(), newLinks };
}

/** Whether a thread id from elsewhere (an import, a backup) can be kept as it is. */
export function isThreadId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,255}$/.test(value);
}
