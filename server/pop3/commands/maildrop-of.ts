/** The session's maildrop, for TRANSACTION commands (dispatch only runs them in that state). */
import type { Pop3Context } from '../context.ts';
import { err } from '../errors.ts';
import type { Maildrop } from '../maildrop.ts';

export function maildropOf(ctx: Pop3Context): Maildrop {
  const maildrop = ctx.session.maildrop;
  if (!maildrop) throw err('No maildrop open');
  return maildrop;
}
