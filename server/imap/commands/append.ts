/**
 * APPEND (RFC 3501 6.3.11) with MULTIAPPEND (RFC 3502), UIDPLUS's APPENDUID (RFC 4315),
 * APPENDLIMIT (RFC 7889), UTF8=ACCEPT's `UTF8 (~{n})` form (RFC 6855) and CATENATE (RFC 4469,
 * url/catenate.ts).
 *
 * Every message is checked before any is stored (size, emptiness, NUL bytes, flags), and a
 * MULTIAPPEND is stored by the store's appendMany, all or nothing (RFC 3502 6): over quota
 * together, nothing is stored, and no other session sees some of the messages without the rest.
 *
 * The bytes are stored exactly as received. \Recent cannot be set (the store drops it). When the
 * target is the selected mailbox, the dispatcher's flush after the command reports the EXISTS.
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import { ResponseCodes } from '../encoder/index.ts';
import { bad, no } from '../errors.ts';
import { checkKeywordLimit } from '../mailbox/keyword-limit.ts';
import { requireMailbox } from '../names.ts';
import { noteOwnChange } from '../notify-own.ts';
import type { AppendCommand, AppendMessage } from '../parser/index.ts';
import { catenateMessage } from '../url/catenate.ts';

const SYSTEM_FLAGS: ReadonlySet<string> = new Set([
  '\\Answered',
  '\\Flagged',
  '\\Deleted',
  '\\Seen',
  '\\Draft',
  '\\Recent',
]);

/** Rejects what must not be stored, before anything is (APPEND and REPLACE). */
export function checkMessage(ctx: ImapContext, message: AppendMessage): void {
  const limit = ctx.services.config.limits.max_message_size;
  if (message.data.length === 0) throw no(null, 'Cannot append an empty message');
  if (message.data.length > limit) throw no('TOOBIG', `Message is larger than ${limit} bytes`);
  if (message.utf8 && !ctx.session.enabled.has('UTF8=ACCEPT')) {
    throw bad('The UTF8 message form needs ENABLE UTF8=ACCEPT first');
  }
  // A NUL is not a CHAR8 (RFC 3501 9): only a literal8 (~{n}) may carry one.
  if (!message.binary && message.data.includes(0)) throw bad('NUL bytes are not allowed in a literal');
  for (const flag of message.flags) {
    // The parser spells the known system flags canonically: anything else with "\" is unknown.
    if (flag.startsWith('\\') && !SYSTEM_FLAGS.has(flag)) throw bad(`Invalid system flag ${flag}`);
  }
}

export const append: CommandHandler<AppendCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const messages: AppendMessage[] = [];
    // CATENATE parts are read before anything is stored (all or nothing with MULTIAPPEND).
    for (const message of command.messages) messages.push(await catenateMessage(ctx, message));
    for (const message of messages) checkMessage(ctx, message);
    // RFC 3501: TRYCREATE tells the client that CREATE would make the APPEND possible.
    const mailbox = await requireMailbox(ctx, command.mailbox, 'TRYCREATE');
    const known = ctx.session.view?.mailbox.id === mailbox.id ? ctx.session.view.keywordList : [];
    await checkKeywordLimit(
      ctx,
      mailbox.id,
      messages.flatMap((message) => message.flags),
      known,
    );
    const items = messages.map((message) => ({
      raw: message.data,
      options: {
        flags: message.flags.filter((flag) => flag !== '\\Recent'),
        internalDate: message.internalDate ?? new Date(),
      },
    }));
    const { store } = ctx.services;
    const results =
      items.length === 1
        ? [await store.append(mailbox.id, items[0]!.raw, items[0]!.options)]
        : await store.appendMany(mailbox.id, items);
    noteOwnChange(ctx, {
      kind: 'messages',
      mailboxId: mailbox.id,
      uids: results.map((result) => result.uid),
    });
    const uidValidity = results[0]?.uidValidity ?? mailbox.uidValidity;
    return {
      code: ResponseCodes.appendUid(
        uidValidity,
        results.map((result) => result.uid),
      ),
      text: 'APPEND completed',
    };
  },
};
