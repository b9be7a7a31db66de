/**
 * NOTIFY SET / NOTIFY NONE (RFC 5465): which changes the server reports without being asked, for
 * the selected mailbox and for others, in IDLE and at the end of every command (server/imap/notify.ts
 * holds the settings and what waits; notify-updates.ts writes it).
 *
 * Checks, in the RFC's terms: an unknown or unsupported event is NO [BADEVENT (supported events)]
 * (AnnotationChange among them: Mallard has no message annotations, RFC 5257); MessageNew and
 * MessageExpunge go together, FlagChange needs both, the selected filters take message events only
 * and at most one of them is given, and MessageNew's FETCH items must not set \Seen: BAD
 * otherwise. A successful NOTIFY SET is also a NOOP: what the selected mailbox accumulated is sent.
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import { bad, no } from '../errors.ts';
import { mailboxFromWire } from '../names.ts';
import {
  Notifier,
  SUPPORTED_EVENTS,
  type MessageEvent,
  type NotifyEventName,
  type NotifySettings,
  type Watch,
  type WatchGroup,
} from '../notify.ts';
import { writeMailboxStatus } from '../notify-updates.ts';
import type { FetchItem, NotifyCommand, NotifyFilter, NotifyGroup } from '../parser/index.ts';

const MESSAGE_EVENTS: ReadonlySet<string> = new Set<MessageEvent>([
  'MessageNew',
  'MessageExpunge',
  'FlagChange',
]);
const SUPPORTED: ReadonlySet<string> = new Set(SUPPORTED_EVENTS);
const NONE: NotifySettings = { selected: new Set(), newMessageItems: null, groups: [] };

/** The group's events, checked; the RFC's rules for which go together (BAD when broken). */
function checkedEvents(group: NotifyGroup): Set<NotifyEventName> {
  const names = group.events.map((event) => event.name);
  const unsupported = names.find((name) => !SUPPORTED.has(name));
  if (unsupported !== undefined)
    throw no(`BADEVENT (${SUPPORTED_EVENTS.join(' ')})`, `Event ${unsupported} is not supported`);
  const events = new Set(names as NotifyEventName[]);
  if (events.has('MessageNew') !== events.has('MessageExpunge'))
    throw bad('MessageNew and MessageExpunge must be given together');
  if (events.has('FlagChange') && !events.has('MessageNew'))
    throw bad('FlagChange needs MessageNew and MessageExpunge');
  return events;
}

/** MessageNew's FETCH items; ones that would set \Seen are refused (RFC 5465 5.2). */
function newMessageItems(group: NotifyGroup): FetchItem[] | null {
  const items = group.events.find((event) => event.name === 'MessageNew')?.fetch ?? null;
  const marking = items?.some((item) => (item.kind === 'body' || item.kind === 'binary') && !item.peek);
  if (marking) throw bad('MessageNew FETCH items must not set \\Seen: use BODY.PEEK or BINARY.PEEK');
  return items;
}

function watchOf(ctx: ImapContext, filter: Exclude<NotifyFilter, { kind: 'selected' }>): Watch {
  if (filter.kind === 'subtree' || filter.kind === 'mailboxes')
    return { kind: filter.kind, paths: filter.mailboxes.map((name) => mailboxFromWire(ctx, name)) };
  return { kind: filter.kind };
}

function settingsOf(ctx: ImapContext, command: NotifyCommand): NotifySettings {
  if (command.groups === null) return NONE;
  let selected: NotifySettings['selected'] | null = null;
  let items: FetchItem[] | null = null;
  const groups: WatchGroup[] = [];
  for (const group of command.groups) {
    const events = checkedEvents(group);
    if (group.filter.kind !== 'selected') {
      // MessageNew's FETCH items apply to the selected mailbox only; elsewhere STATUS tells.
      groups.push({ watch: watchOf(ctx, group.filter), events });
      continue;
    }
    if (selected !== null) throw bad('Only one of selected and selected-delayed may be given');
    const other = [...events].find((event) => !MESSAGE_EVENTS.has(event));
    if (other !== undefined) throw bad(`${other} cannot be asked for the selected mailbox`);
    selected = events as Set<MessageEvent>;
    items = newMessageItems(group);
  }
  // Without a selected filter the client wants no message events for it (RFC 5465 3.1).
  return { selected: selected ?? new Set(), newMessageItems: items, groups };
}

export const notify: CommandHandler<NotifyCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const settings = settingsOf(ctx, command);
    const user = ctx.session.user!;
    // Read after the journal so that later changes to names and subscriptions come through it.
    await ctx.services.follower.catchUp();
    const mailboxes = settings.groups.length > 0 ? await ctx.services.store.listMailboxes(user.id) : [];
    const subscriptions =
      settings.groups.length > 0 ? await ctx.services.store.listSubscriptions(user.id) : [];
    const notifier = new Notifier(settings, mailboxes, subscriptions);
    ctx.session.notifier = notifier;
    if (command.status) {
      const selectedId = ctx.session.view?.mailbox.id ?? null;
      for (const mailbox of notifier.watchedForMessages(selectedId))
        await writeMailboxStatus(ctx, mailbox.path);
    }
    // NOTIFY SET is an implicit NOOP (RFC 5465 3.1): what the selected mailbox accumulated goes
    // out now, also when the new settings keep it quiet from here on. NOTIFY NONE is not (Dovecot
    // agrees): the mailbox stays as the client saw it.
    if (command.groups !== null) await ctx.flushUpdates(true);
  },
};
