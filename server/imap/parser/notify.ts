/**
 * NOTIFY (RFC 5465 section 8):
 *
 *   notify           = "NOTIFY" SP (notify-set / notify-none)
 *   notify-set       = "SET" [status-indicator] SP event-groups
 *   status-indicator = SP "STATUS"
 *   event-groups     = event-group *(SP event-group)
 *   event-group      = "(" filter-mailboxes SP events ")"
 *   filter-mailboxes = "selected" / "selected-delayed" / "inboxes" / "personal" / "subscribed" /
 *                      ("subtree" SP one-or-more-mailbox) / ("mailboxes" SP one-or-more-mailbox)
 *   one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
 *   events           = ("(" event *(SP event) ")") / "NONE"
 *   event            = ("MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"]) / event-name
 *
 * The grammar alone is checked here (BAD when it fails). Which events go together, and which are
 * supported (NO [BADEVENT]), is the command's business: it names the event that is wrong. Event
 * names are case-insensitive: known ones come back in the RFC's spelling, others as sent.
 */
import { fail } from './errors.ts';
import { readFetchItems } from './fetch.ts';
import { LPAREN, RPAREN, type Reader } from './reader.ts';
import type { NotifyCommand, NotifyEvent, NotifyFilter, NotifyGroup } from './types.ts';

const EVENT_NAMES = [
  'MessageNew',
  'MessageExpunge',
  'FlagChange',
  'AnnotationChange',
  'MailboxName',
  'SubscriptionChange',
  'MailboxMetadataChange',
  'ServerMetadataChange',
];
const BY_UPPER = new Map(EVENT_NAMES.map((name) => [name.toUpperCase(), name]));

function readMailboxes(r: Reader): string[] {
  r.sp('mailbox name');
  if (r.peek() === LPAREN) return r.readList('mailbox list', () => r.readMailbox());
  return [r.readMailbox()];
}

function readFilter(r: Reader): NotifyFilter {
  const word = r.readAtom('mailbox filter').toUpperCase();
  switch (word) {
    case 'SELECTED':
      return { kind: 'selected', delayed: false };
    case 'SELECTED-DELAYED':
      return { kind: 'selected', delayed: true };
    case 'INBOXES':
      return { kind: 'inboxes' };
    case 'PERSONAL':
      return { kind: 'personal' };
    case 'SUBSCRIBED':
      return { kind: 'subscribed' };
    case 'SUBTREE':
      return { kind: 'subtree', mailboxes: readMailboxes(r) };
    case 'MAILBOXES':
      return { kind: 'mailboxes', mailboxes: readMailboxes(r) };
    default:
      return fail(`Unknown mailbox filter ${word}`);
  }
}

function readEvent(r: Reader): NotifyEvent {
  const sent = r.readAtom('event name');
  const name = BY_UPPER.get(sent.toUpperCase()) ?? sent;
  // MessageNew's fetch attributes follow it: "(" can start nothing else inside an event list.
  if (name === 'MessageNew' && r.peek() === 0x20 && r.peekAt(1) === LPAREN) {
    r.sp('fetch attributes');
    return { name, fetch: readFetchItems(r).items };
  }
  return { name, fetch: null };
}

function readGroup(r: Reader): NotifyGroup {
  r.expect(LPAREN, 'event group');
  const filter = readFilter(r);
  r.sp('events');
  const events = r.tryWord('NONE') ? [] : r.readList('event list', () => readEvent(r));
  r.expect(RPAREN, ') after the events');
  return { filter, events };
}

export function parseNotify(r: Reader, tag: string): NotifyCommand {
  r.sp('SET or NONE');
  const verb = r.readAtom('SET or NONE').toUpperCase();
  if (verb === 'NONE') {
    r.end();
    return { tag, name: 'NOTIFY', status: false, groups: null };
  }
  if (verb !== 'SET') fail(`Expected SET or NONE, found ${verb}`);
  r.sp('event groups');
  const status = r.tryWord('STATUS');
  if (status) r.sp('event groups');
  const groups = [readGroup(r)];
  while (r.trySp()) groups.push(readGroup(r));
  r.end();
  return { tag, name: 'NOTIFY', status, groups };
}
