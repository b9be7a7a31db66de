/**
 * The data items of a STATUS response (RFC 3501 6.3.10, RFC 7162 HIGHESTMODSEQ, RFC 8438 SIZE,
 * RFC 9051 DELETED, RFC 7889 APPENDLIMIT, RFC 8474 MAILBOXID), shared by STATUS and by LIST's
 * RETURN (STATUS (...)) (RFC 5819).
 */
import { enableCondstore } from '../condstore.ts';
import type { ImapContext } from '../context.ts';
import { bad } from '../errors.ts';
import { isRev2 } from '../rev2.ts';
import type { ResponseBuilder } from '../encoder/index.ts';
import type { StatusItem } from '../parser/index.ts';
import type { Mailbox, MailboxCounts } from '../../store/types.ts';

const NEEDS_COUNTS: ReadonlySet<StatusItem> = new Set(['MESSAGES', 'RECENT', 'UNSEEN', 'SIZE', 'DELETED']);
const OBJECT_ID = /^[A-Za-z0-9_-]{1,255}$/;

/** Requesting HIGHESTMODSEQ is a CONDSTORE enabling command (RFC 7162 3.1). */
export async function noteCondstoreUse(ctx: ImapContext, items: readonly StatusItem[]): Promise<void> {
  if (items.includes('HIGHESTMODSEQ')) await enableCondstore(ctx);
}

/**
 * \Recent as this session sees it: the messages nobody claimed yet, plus, for the selected
 * mailbox, the ones this session claimed.
 */
function recentCount(ctx: ImapContext, mailbox: Mailbox, counts: MailboxCounts): number {
  const view = ctx.session.view;
  return view && view.mailbox.id === mailbox.id ? counts.recent + view.recentCount : counts.recent;
}

/**
 * The item/value pairs, in the order asked, each item once. `known` are the mailbox's counts when
 * the caller read them with the mailbox (STATUS: one store call); otherwise they are read here
 * when an item needs them. Every item is O(1): the store keeps counters.
 */
export async function statusValues(
  ctx: ImapContext,
  mailbox: Mailbox,
  items: readonly StatusItem[],
  known?: MailboxCounts,
): Promise<Array<[StatusItem, string]>> {
  const wanted = [...new Set(items)];
  if (isRev2(ctx.session) && wanted.includes('RECENT'))
    throw bad('RECENT is not a status item in IMAP4rev2 (RFC 9051)');
  // HIGHESTMODSEQ as read may cover changes still being written: wait until they are committed
  // and journaled, so it never covers one a client cannot learn (store/types.ts).
  if (wanted.includes('HIGHESTMODSEQ'))
    await ctx.services.follower.reach(mailbox.userId, mailbox.journalMark);
  const counts =
    known ??
    (wanted.some((item) => NEEDS_COUNTS.has(item))
      ? await ctx.services.store.mailboxCounts(mailbox.id)
      : null);
  const values: Array<[StatusItem, string]> = [];
  for (const item of wanted) {
    switch (item) {
      case 'MESSAGES':
        values.push([item, String(counts!.messages)]);
        break;
      case 'RECENT':
        values.push([item, String(recentCount(ctx, mailbox, counts!))]);
        break;
      case 'UNSEEN':
        values.push([item, String(counts!.unseen)]);
        break;
      case 'SIZE':
        values.push([item, String(counts!.bytes)]);
        break;
      case 'UIDNEXT':
        values.push([item, String(mailbox.uidNext)]);
        break;
      case 'UIDVALIDITY':
        values.push([item, String(mailbox.uidValidity)]);
        break;
      case 'HIGHESTMODSEQ':
        values.push([item, String(mailbox.highestModseq)]);
        break;
      case 'DELETED':
        values.push([item, String(counts!.deleted)]);
        break;
      case 'APPENDLIMIT':
        values.push([item, String(ctx.services.config.limits.max_message_size)]);
        break;
      case 'MAILBOXID':
        // Store ids are plain numbers or hex strings; anything else is left out rather than sent
        // in a form RFC 8474's objectid grammar does not allow.
        if (OBJECT_ID.test(mailbox.id)) values.push([item, `(${mailbox.id})`]);
        break;
    }
  }
  return values;
}

/** `* STATUS name (ITEM value ...)` */
export function appendStatusResponse(
  builder: ResponseBuilder,
  name: string,
  values: ReadonlyArray<[StatusItem, string]>,
): ResponseBuilder {
  const list = values.map(([item, value]) => `${item} ${value}`).join(' ');
  return builder.untagged().text('STATUS ').mailbox(name).text(` (${list})`).crlf();
}
