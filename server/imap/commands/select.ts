/**
 * SELECT and EXAMINE (RFC 3501 6.3.1-2, RFC 7162 for CONDSTORE): builds the session's view of the
 * mailbox and reports its state. EXAMINE is read-only and claims no \Recent messages.
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import { ResponseCodes } from '../encoder/index.ts';
import { isObjectId } from '../object-id.ts';
import { bad } from '../errors.ts';
import { MailboxView } from '../mailbox-view.ts';
import { requireMailbox } from '../names.ts';
import type { SelectCommand } from '../parser/index.ts';
import { writeQresyncSelect } from '../qresync.ts';
import { isRev2 } from '../rev2.ts';
import { MAILBOX_DELIMITER } from '../../store/types.ts';
import { writeFlagLists } from '../updates.ts';

async function openView(ctx: ImapContext, command: SelectCommand): Promise<MailboxView> {
  const { store, follower, mailboxStates } = ctx.services;
  const mailbox = await requireMailbox(ctx, command.mailbox);
  const keywords = await store.listKeywords(mailbox.id);
  await follower.catchUp();
  // Shared with every session that has this mailbox selected; listed only when none has.
  const state = await mailboxStates.acquire(mailbox, store);
  const view = new MailboxView(mailbox, state, command.name === 'EXAMINE', keywords);
  ctx.session.view = view;
  ctx.session.state = 'selected';
  return view;
}

export const select: CommandHandler<SelectCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const qresync = ctx.session.enabled.has('QRESYNC');
    const rev2 = isRev2(ctx.session);
    // RFC 7162 3.2.5: BAD for the parameter without ENABLE QRESYNC first.
    if (command.qresync && !qresync) throw bad('QRESYNC is not enabled: ENABLE QRESYNC first');
    // Closing the selected mailbox this way is announced to QRESYNC and IMAP4rev2 clients (RFC
    // 7162 3.2.11, RFC 9051 6.3.2).
    if ((qresync || rev2) && ctx.session.view !== null)
      await ctx.write(ctx.builder().status('*', 'OK', 'Previous mailbox closed', 'CLOSED'));
    // A failed SELECT leaves no mailbox selected (RFC 3501).
    ctx.session.view = null;
    ctx.session.state = 'authenticated';
    if (command.condstore) ctx.session.enabled.add('CONDSTORE');
    const view = await openView(ctx, command);
    if (rev2) {
      // No \Recent in IMAP4rev2: nothing claimed, nothing shown (rev2.ts).
    } else if (view.readOnly) {
      // EXAMINE shows what is recent without claiming it (RFC 3501 6.3.2): the newest `recent` UIDs.
      const { recent } = await ctx.services.store.mailboxCounts(view.mailbox.id);
      const firstRecent = view.uidAt(view.exists - recent + 1);
      if (recent > 0 && firstRecent !== undefined) view.markRecent(firstRecent - 1, Number.MAX_SAFE_INTEGER);
    } else {
      const claimed = await view.state.claimRecent(
        (mailboxId) => ctx.services.store.claimRecent(mailboxId),
        view.state.lastUid,
      );
      if (claimed) view.markRecent(claimed.previous, claimed.current);
    }
    await writeFlagLists(ctx, view);
    const mailbox = (await ctx.services.store.getMailboxById(view.mailbox.id)) ?? view.mailbox;
    const builder = ctx.builder();
    builder.untagged().text(`${view.exists} EXISTS`).crlf();
    if (rev2) {
      // The mailbox's name as the server spells it (RFC 9051 6.3.2); RECENT and UNSEEN are gone.
      builder.untagged().text(`LIST () "${MAILBOX_DELIMITER}" `).mailbox(mailbox.path).crlf();
    } else {
      builder.untagged().text(`${view.recentCount} RECENT`).crlf();
      const firstUnseen = view.firstUnseen();
      if (firstUnseen > 0) builder.status('*', 'OK', 'First unseen', ResponseCodes.unseen(firstUnseen));
    }
    builder.status('*', 'OK', 'UIDs valid', ResponseCodes.uidValidity(mailbox.uidValidity));
    builder.status('*', 'OK', 'Predicted next UID', ResponseCodes.uidNext(mailbox.uidNext));
    if (isObjectId(mailbox.id)) builder.status('*', 'OK', 'Ok', ResponseCodes.mailboxId(mailbox.id));
    builder.status(
      '*',
      'OK',
      'Highest',
      // Settled (store/types.ts): never covers a change this client cannot learn with CHANGEDSINCE.
      ResponseCodes.highestModSeq(view.modseq),
    );
    await ctx.write(builder);
    if (command.qresync) await writeQresyncSelect(ctx, view, command.qresync);
    return {
      code: view.readOnly ? 'READ-ONLY' : 'READ-WRITE',
      text: `${command.name} completed`,
    };
  },
};
