/**
 * Writes a session's NOTIFY notifications (notify.ts): unsolicited STATUS for other mailboxes,
 * LIST for names and subscriptions, METADATA for entries changed, and the FETCH a client asked to
 * follow each new message in the selected mailbox (RFC 5465 5.2 to 5.8).
 */
import type { ImapContext } from './context.ts';
import { MAILBOX_DELIMITER } from '../store/types.ts';
import { appendStatusResponse, statusValues } from './mailbox/status-items.ts';
import type { Notification, Notifier } from './notify.ts';
import type { StatusItem } from './parser/index.ts';
import { fetch } from './commands/fetch.ts';

/**
 * What a STATUS of NOTIFY carries (RFC 5465 3.1, 5.2, 5.3): MESSAGES, UIDNEXT and UIDVALIDITY,
 * UNSEEN, and HIGHESTMODSEQ once CONDSTORE is on.
 */
function notifyStatusItems(ctx: ImapContext): StatusItem[] {
  const items: StatusItem[] = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN'];
  if (ctx.session.enabled.has('CONDSTORE')) items.push('HIGHESTMODSEQ');
  return items;
}

/** `* STATUS name (...)` for a mailbox, nothing when it is gone meanwhile. */
export async function writeMailboxStatus(ctx: ImapContext, path: string): Promise<void> {
  const status = await ctx.services.store.mailboxStatus(ctx.session.user!.id, path);
  if (!status || !status.mailbox.selectable) return;
  const values = await statusValues(ctx, status.mailbox, notifyStatusItems(ctx), status.counts);
  await ctx.write(appendStatusResponse(ctx.builder(), status.mailbox.path, values));
}

async function writeNotification(ctx: ImapContext, notification: Notification): Promise<void> {
  switch (notification.kind) {
    case 'status':
      return writeMailboxStatus(ctx, notification.path);
    case 'list': {
      const builder = ctx
        .builder()
        .untagged()
        .text(`LIST (${notification.attributes.join(' ')}) "${MAILBOX_DELIMITER}" `);
      builder.mailbox(notification.path);
      // RFC 5465 5.4: a rename names the old mailbox in an extended data item (RFC 5258).
      if (notification.oldPath !== null)
        builder.text(' ("OLDNAME" (').mailbox(notification.oldPath).text('))');
      return ctx.write(builder.crlf());
    }
    case 'metadata': {
      // RFC 5464 4.4.2: the names alone; the client asks GETMETADATA for the values.
      const builder = ctx.builder().untagged().text('METADATA ').mailbox(notification.path);
      for (const name of notification.names) builder.sp().astring(name);
      return ctx.write(builder.crlf());
    }
  }
}

/** Sends what is waiting; an overflow first says that NOTIFY NONE is now in effect. */
export async function writeNotifications(ctx: ImapContext, notifier: Notifier): Promise<void> {
  const { notifications, overflowed } = notifier.take();
  if (overflowed) {
    await ctx.write(
      ctx
        .builder()
        .status(
          '*',
          'OK',
          'Too many notifications waiting: NOTIFY NONE is in effect',
          'NOTIFICATIONOVERFLOW',
        ),
    );
  }
  for (const notification of notifications) await writeNotification(ctx, notification);
}

/**
 * After EXISTS announced messages above `lastUidBefore`: the FETCH the client asked NOTIFY to
 * send for each (RFC 5465 5.2), as a UID FETCH of the new ones (UID is always included).
 */
export async function writeNewMessageFetch(ctx: ImapContext, lastUidBefore: number): Promise<void> {
  const view = ctx.session.view;
  const items = ctx.session.notifier?.newMessageItems;
  if (!view || !items || view.exists === 0) return;
  const lastUid = view.uidAt(view.exists) ?? 0;
  if (lastUid <= lastUidBefore) return;
  await fetch.run(ctx, {
    tag: '*',
    name: 'FETCH',
    uid: true,
    sequence: { ranges: [{ start: lastUidBefore + 1, end: lastUid }], saved: false },
    items,
    macro: null,
    modifiers: {},
  });
}
