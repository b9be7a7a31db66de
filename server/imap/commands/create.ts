/**
 * CREATE (RFC 3501 6.3.3) with CREATE-SPECIAL-USE (RFC 6154 3). Missing parents are created too
 * (by the store); a trailing "/" is accepted and dropped; creating over a \Noselect placeholder
 * makes it a real mailbox again (with a new UIDVALIDITY).
 */
import type { CommandHandler } from '../context.ts';
import { ResponseCodes } from '../encoder/index.ts';
import { isObjectId } from '../object-id.ts';
import { no } from '../errors.ts';
import { newMailboxPath } from '../mailbox/new-name.ts';
import type { CreateCommand } from '../parser/index.ts';
import { noteOwnChange } from '../notify-own.ts';
import type { SpecialUse } from '../../store/types.ts';

const SPECIAL_USES: ReadonlyMap<string, SpecialUse> = new Map(
  (['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive'] as const).map((use) => [use.toLowerCase(), use]),
);

/** The one special use asked for, or null; NO [USEATTR] for what the store cannot keep. */
function requestedSpecialUse(uses: readonly string[]): SpecialUse | null {
  if (uses.length === 0) return null;
  const known = uses.map((use) => {
    const special = SPECIAL_USES.get(use.toLowerCase());
    if (!special) throw no('USEATTR', `${use} is not a supported special-use attribute`);
    return special;
  });
  const distinct = [...new Set(known)];
  if (distinct.length > 1) throw no('USEATTR', 'A mailbox can have only one special use');
  return distinct[0]!;
}

export const create: CommandHandler<CreateCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const { store } = ctx.services;
    const userId = ctx.session.user!.id;
    const path = newMailboxPath(ctx, command.mailbox);
    if (path === 'INBOX') throw no('ALREADYEXISTS', 'INBOX always exists');
    const specialUse = requestedSpecialUse(command.specialUse);
    const existing = await store.getMailbox(userId, path);
    if (existing?.selectable) throw no('ALREADYEXISTS', 'Mailbox already exists');
    const created = await store.createMailbox(userId, path, specialUse);
    noteOwnChange(ctx, { kind: 'name', path: created.path });
    // RFC 8474 4.1: the new mailbox's MAILBOXID in the tagged OK.
    return isObjectId(created.id) ? { code: ResponseCodes.mailboxId(created.id) } : undefined;
  },
};
