/**
 * REPLACE / UID REPLACE (RFC 8508): a message of the selected mailbox replaced by a new one (a
 * draft saved again), appended to the mailbox named (the same one or another) and the old one
 * expunged, both or neither (the store's replaceMessage). The answer is RFC 8508 3.3's: an
 * untagged `OK [APPENDUID ...]`, the new message's EXISTS when it went to the selected mailbox,
 * the old one's EXPUNGE (VANISHED with QRESYNC), then the tagged OK.
 *
 * Refusals: the message checks of APPEND (size, NUL bytes, flags); a sequence number beyond the
 * mailbox is BAD (it names nothing the client was told of), a UID no longer there is NO
 * [NONEXISTENT]; a mailbox opened with EXAMINE is NO [READ-ONLY]; a missing target NO [TRYCREATE].
 */
import type { CommandHandler } from '../context.ts';
import { ResponseCodes } from '../encoder/index.ts';
import { bad, no } from '../errors.ts';
import { checkKeywordLimit } from '../mailbox/keyword-limit.ts';
import { requireMailbox } from '../names.ts';
import { noteOwnChange } from '../notify-own.ts';
import type { ReplaceCommand } from '../parser/index.ts';
import { catenateMessage } from '../url/catenate.ts';
import { checkMessage } from './append.ts';

export const replace: CommandHandler<ReplaceCommand> = {
  states: ['selected'],
  async run(ctx, command) {
    const view = ctx.session.view!;
    const name = command.uid ? 'UID REPLACE' : 'REPLACE';
    const message = await catenateMessage(ctx, command.message);
    checkMessage(ctx, message);
    const uid = command.uid ? command.target : view.uidAt(command.target);
    if (uid === undefined) throw bad(`No message with sequence number ${command.target}`);
    if (view.seqOf(uid) === 0) throw no('NONEXISTENT', `No message with UID ${uid}`);
    if (view.readOnly) throw no('READ-ONLY', 'Mailbox is read-only (EXAMINE): nothing can be replaced');
    const target = await requireMailbox(ctx, command.mailbox, 'TRYCREATE');
    const known = target.id === view.mailbox.id ? view.keywordList : [];
    await checkKeywordLimit(ctx, target.id, message.flags, known);
    const result = await ctx.services.store.replaceMessage(view.mailbox.id, uid, target.id, message.data, {
      flags: message.flags.filter((flag) => flag !== '\\Recent'),
      internalDate: message.internalDate ?? new Date(),
    });
    noteOwnChange(ctx, { kind: 'messages', mailboxId: target.id, uids: [result.uid] });
    const code = ResponseCodes.appendUid(result.uidValidity, [result.uid]);
    await ctx.write(ctx.builder().status('*', 'OK', 'Replacement Message ID', code));
    // The EXISTS and EXPUNGE come from the journal: before the tagged OK.
    await ctx.flushUpdates(true);
    return { text: `${name} completed` };
  },
};
