/** Writes a view's pending changes as untagged responses (EXPUNGE, EXISTS, RECENT, FETCH, FLAGS). */
import type { ImapContext } from './context.ts';
import { ResponseCodes, type ResponseBuilder } from './encoder/index.ts';
import { compressSequence } from './encoder/format.ts';
import type { MailboxView, ViewUpdate } from './mailbox-view.ts';
import { isRev2 } from './rev2.ts';
import { fetchPrefix, isUidOnly } from './uidonly.ts';
import { refreshSearchContexts } from './search/context-refresh.ts';

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/** Flags as a session reports them: the stored ones plus \Recent where it is recent for the session. */
export function sessionFlags(view: MailboxView, uid: number, flags = view.flagsOf(uid)): string[] {
  return view.isRecent(uid) ? [...flags, '\\Recent'] : flags;
}

/** Appends the untagged FLAGS and PERMANENTFLAGS responses for a view's keywords. */
export function appendFlagLists(
  builder: ResponseBuilder,
  view: MailboxView,
  keywords = view.keywordList,
): void {
  const flags = [...SYSTEM_FLAGS, ...keywords];
  builder.untagged().text('FLAGS ').flags(flags).crlf();
  const permanent = view.readOnly ? [] : [...flags, '\\*'];
  builder.status(
    '*',
    'OK',
    view.readOnly ? 'No permanent flags' : 'Flags permitted',
    ResponseCodes.permanentFlags(permanent),
  );
}

/** The untagged FLAGS and PERMANENTFLAGS responses for a view. */
export function writeFlagLists(ctx: ImapContext, view: MailboxView): Promise<void> {
  const builder = ctx.builder();
  appendFlagLists(builder, view);
  return ctx.write(builder);
}

/**
 * Before a response that shows `flags`: announces (FLAGS, PERMANENTFLAGS) any keyword of them the
 * client has not been told of yet, such as one another session just added. A client may reject a
 * keyword that FLAGS has not listed, so the announcement must come first (RFC 3501 7.2.6).
 */
export function announceKeywordsOf(
  builder: ResponseBuilder,
  view: MailboxView,
  flags: readonly string[],
): void {
  if (view.announceKeywords(flags)) appendFlagLists(builder, view);
}

/** `* VANISHED uids` for the expunges among `updates` (they come first: no EXISTS between). */
function appendVanished(builder: ResponseBuilder, updates: readonly ViewUpdate[]): void {
  const uids = updates.flatMap((update) => (update.kind === 'expunge' ? [update.uid] : []));
  if (uids.length > 0)
    builder
      .untagged()
      .text(`VANISHED ${compressSequence(uids)}`)
      .crlf();
}

export async function writeViewUpdates(
  ctx: ImapContext,
  view: MailboxView,
  allowExpunge: boolean,
): Promise<void> {
  // IMAP4rev2 has no \Recent: its sessions claim nothing (rev2.ts).
  const rev2 = isRev2(ctx.session);
  if (!view.readOnly && !rev2 && view.hasNew()) {
    const claimed = await view.state.claimRecent(
      (mailboxId) => ctx.services.store.claimRecent(mailboxId),
      view.state.lastUid,
    );
    if (claimed) view.markRecent(claimed.previous, claimed.current);
  }
  const condstore = ctx.session.enabled.has('CONDSTORE');
  // With QRESYNC, one VANISHED with the UIDs replaces the EXPUNGEs (RFC 7162 3.2.10).
  // UIDONLY too (RFC 9586), whose FETCH updates are UIDFETCH.
  const qresync = ctx.session.enabled.has('QRESYNC') || isUidOnly(ctx.session);
  const builder = ctx.builder();
  const updates = view.takeUpdates(allowExpunge);
  if (qresync) appendVanished(builder, updates);
  for (const update of updates) {
    switch (update.kind) {
      case 'expunge':
        if (!qresync) builder.untagged().text(`${update.seq} EXPUNGE`).crlf();
        break;
      case 'exists':
        builder.untagged().text(`${update.count} EXISTS`).crlf();
        break;
      case 'recent':
        if (!rev2) builder.untagged().text(`${update.count} RECENT`).crlf();
        break;
      case 'fetch':
        builder
          .untagged()
          .text(`${fetchPrefix(ctx.session, update.seq, update.uid)}UID ${update.uid} FLAGS `);
        builder.flags(sessionFlags(view, update.uid, update.flags));
        if (condstore) builder.text(` MODSEQ (${update.modseq})`);
        builder.text(')').crlf();
        break;
      case 'flags':
        appendFlagLists(builder, view, update.keywords);
        break;
    }
  }
  await refreshSearchContexts(ctx, view, builder);
  if (builder.byteLength > 0) await ctx.write(builder);
}
