/** Writes a view's pending changes as untagged responses (EXPUNGE, EXISTS, RECENT, FETCH, FLAGS). */
import type { ImapContext } from './context.ts';
import { ResponseCodes } from './encoder/index.ts';
import type { MailboxView } from './mailbox-view.ts';

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/** Flags as a session reports them: the stored ones plus \Recent where it is recent for the session. */
export function sessionFlags(view: MailboxView, uid: number, flags = view.flagsOf(uid)): string[] {
  return view.isRecent(uid) ? [...flags, '\\Recent'] : flags;
}

/** The untagged FLAGS and PERMANENTFLAGS responses for a view. */
export function writeFlagLists(ctx: ImapContext, view: MailboxView): Promise<void> {
  const flags = [...SYSTEM_FLAGS, ...view.keywordList];
  const builder = ctx.builder().untagged().text('FLAGS ').flags(flags).crlf();
  const permanent = view.readOnly ? [] : [...flags, '\\*'];
  builder.status(
    '*',
    'OK',
    view.readOnly ? 'No permanent flags' : 'Flags permitted',
    ResponseCodes.permanentFlags(permanent),
  );
  return ctx.write(builder);
}

export async function writeViewUpdates(
  ctx: ImapContext,
  view: MailboxView,
  allowExpunge: boolean,
): Promise<void> {
  if (!view.readOnly && view.hasNew()) {
    const { previous, current } = await ctx.services.store.claimRecent(view.mailbox.id);
    view.markRecent(previous, current);
  }
  const condstore = ctx.session.enabled.has('CONDSTORE');
  const builder = ctx.builder();
  for (const update of view.takeUpdates(allowExpunge)) {
    switch (update.kind) {
      case 'expunge':
        builder.untagged().text(`${update.seq} EXPUNGE`).crlf();
        break;
      case 'exists':
        builder.untagged().text(`${update.count} EXISTS`).crlf();
        break;
      case 'recent':
        builder.untagged().text(`${update.count} RECENT`).crlf();
        break;
      case 'fetch':
        builder.untagged().text(`${update.seq} FETCH (UID ${update.uid} FLAGS `);
        builder.flags(sessionFlags(view, update.uid, update.flags));
        if (condstore) builder.text(` MODSEQ (${update.modseq})`);
        builder.text(')').crlf();
        break;
      case 'flags': {
        const flags = [...SYSTEM_FLAGS, ...update.keywords];
        builder.untagged().text('FLAGS ').flags(flags).crlf();
        if (!view.readOnly)
          builder.status('*', 'OK', 'Flags permitted', ResponseCodes.permanentFlags([...flags, '\\*']));
        break;
      }
    }
  }
  if (builder.byteLength > 0) await ctx.write(builder);
}
