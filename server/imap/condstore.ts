/**
 * CONDSTORE enabling commands (RFC 7162 3.1): FETCH or SEARCH with MODSEQ, STORE with
 * UNCHANGEDSINCE, STATUS HIGHESTMODSEQ, ENABLE CONDSTORE, SELECT (CONDSTORE) turn CONDSTORE on for
 * the rest of the session. When that happens with a mailbox already selected, the client has not been
 * given its HIGHESTMODSEQ (SELECT sent it only to CONDSTORE sessions), so it is sent at once as an
 * untagged OK, as RFC 7162 3.1 requires and Dovecot does.
 */
import type { ImapContext } from './context.ts';
import { ResponseCodes } from './encoder/index.ts';

export async function enableCondstore(ctx: ImapContext): Promise<void> {
  if (ctx.session.enabled.has('CONDSTORE')) return;
  ctx.session.enabled.add('CONDSTORE');
  const view = ctx.session.view;
  if (view === null) return;
  await ctx.write(ctx.builder().status('*', 'OK', 'Highest', ResponseCodes.highestModSeq(view.modseq)));
}
