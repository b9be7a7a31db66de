/**
 * COPY / UID COPY (RFC 3501 6.4.7, COPYUID of RFC 4315) and MOVE / UID MOVE (RFC 6851).
 *
 * - A missing target is `NO [TRYCREATE]`, so the client may CREATE it and retry; over quota is
 *   `NO [OVERQUOTA]` (the store's error), with nothing copied.
 * - COPY answers `OK [COPYUID uidvalidity source-uids target-uids]`. MOVE sends the COPYUID in an
 *   untagged OK first, then the EXPUNGEs of the moved messages, then the tagged OK (RFC 6851 3.3).
 * - The target may be the selected mailbox itself (the copies are then reported as new messages).
 * - MOVE needs a writable selected mailbox: it expunges from it.
 * - Messages another session expunged meanwhile are skipped; COPYUID lists what was copied. When
 *   none is left: OK "No messages found" for UID commands (as Dovecot); for sequence numbers the
 *   client named messages it was told about, so that is `NO [EXPUNGEISSUED]`.
 * - Into or out of Junk, the spam filter learns spam or ham from the copies (server/spam/learning.ts).
 */
import type { CopyResult, Mailbox } from '../../store/types.ts';
import type { CommandHandler, CommandOutcome, ImapContext } from '../context.ts';
import { ResponseCodes } from '../encoder/index.ts';
import { no } from '../errors.ts';
import { checkKeywordLimit } from '../mailbox/keyword-limit.ts';
import { requireMailbox } from '../names.ts';
import { noteOwnChange } from '../notify-own.ts';
import type { CopyCommand } from '../parser/index.ts';
import { selectedUids } from './message-set.ts';

function commandName(command: CopyCommand): string {
  return command.uid ? `UID ${command.name}` : command.name;
}

function copyUidCode(result: CopyResult): string {
  return ResponseCodes.copyUid(
    result.uidValidity,
    result.uidMap.map(([source]) => source),
    result.uidMap.map(([, target]) => target),
  );
}

/** The outcome when nothing was copied or moved (every named message is gone, or none was named). */
function nothingDone(command: CopyCommand, requested: number): CommandOutcome {
  if (!command.uid && requested > 0) {
    throw no('EXPUNGEISSUED', 'Some of the requested messages no longer exist');
  }
  return { text: 'No messages found' };
}

/** The selected messages and the target, checked before anything is written. */
async function prepare(ctx: ImapContext, command: CopyCommand): Promise<{ uids: number[]; target: Mailbox }> {
  const view = ctx.session.view!;
  const uids = selectedUids(view, command.sequence, command.uid);
  const target = await requireMailbox(ctx, command.mailbox, 'TRYCREATE');
  // The copies keep their keywords: the target must have room for them.
  const known = target.id === view.mailbox.id ? view.keywordList : [];
  await checkKeywordLimit(ctx, target.id, new Set(uids.flatMap((uid) => view.flagsOf(uid))), known);
  return { uids, target };
}

/** Into or out of Junk: the spam filter learns from it, after this command (never failing it). */
function noteForLearning(ctx: ImapContext, source: Mailbox, target: Mailbox, result: CopyResult): void {
  const user = ctx.session.user;
  if (!ctx.services.spamLearner || !user) return;
  ctx.services.spamLearner.observe({
    user: user.username,
    source,
    target,
    targetUids: result.uidMap.map(([, uid]) => uid),
  });
}

/** The copies are told by COPYUID: NOTIFY does not repeat them as a STATUS of the target. */
function noteCopies(ctx: ImapContext, target: Mailbox, result: CopyResult): void {
  noteOwnChange(ctx, { kind: 'messages', mailboxId: target.id, uids: result.uidMap.map(([, uid]) => uid) });
}

export const copy: CommandHandler<CopyCommand> = {
  states: ['selected'],
  async run(ctx, command) {
    const view = ctx.session.view!;
    const { uids, target } = await prepare(ctx, command);
    if (uids.length === 0) return nothingDone(command, 0);
    const result = await ctx.services.store.copyMessages(view.mailbox.id, uids, target.id);
    noteCopies(ctx, target, result);
    if (result.uidMap.length === 0) return nothingDone(command, uids.length);
    noteForLearning(ctx, view.mailbox, target, result);
    return { code: copyUidCode(result), text: `${commandName(command)} completed` };
  },
};

export const move: CommandHandler<CopyCommand> = {
  states: ['selected'],
  async run(ctx, command) {
    const view = ctx.session.view!;
    const { uids, target } = await prepare(ctx, command);
    if (view.readOnly) throw no('READ-ONLY', 'Mailbox is read-only (EXAMINE): messages cannot be moved');
    if (uids.length === 0) return nothingDone(command, 0);
    const result = await ctx.services.store.moveMessages(view.mailbox.id, uids, target.id);
    noteCopies(ctx, target, result);
    if (result.uidMap.length === 0) return nothingDone(command, uids.length);
    noteForLearning(ctx, view.mailbox, target, result);
    await ctx.write(ctx.builder().status('*', 'OK', 'Moved UIDs', copyUidCode(result)));
    // The EXPUNGEs come from the journal; send them now, before the tagged OK (RFC 6851).
    await ctx.flushUpdates(true);
    return { text: `${commandName(command)} completed` };
  },
};
