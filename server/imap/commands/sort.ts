/**
 * SORT and UID SORT (RFC 5256 3, SORT=DISPLAY RFC 5957): the messages a search matches, ordered by
 * the sort criteria (sort/order.ts, keys in sort/keys.ts), as `* SORT 5 3 4` (UIDs for UID SORT).
 * The charset is required; UTF-8 and US-ASCII are accepted, others get NO [BADCHARSET] from the
 * parser. Like SEARCH, SORT by sequence number must not see numbers shift, so expunges wait.
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import { bad } from '../errors.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { SortCommand } from '../parser/index.ts';
import { matchedMessages } from '../sort/matched.ts';
import { sortMessages } from '../sort/order.ts';

function requireView(ctx: ImapContext): MailboxView {
  const view = ctx.session.view;
  if (view === null) throw bad('No mailbox selected');
  return view;
}

export const sort: CommandHandler<SortCommand> = {
  states: ['selected'],
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = requireView(ctx);
    // ARRIVAL and SIZE alone need no header: the summaries have them.
    const withIndex = command.criteria.some(({ key }) => key !== 'ARRIVAL' && key !== 'SIZE');
    const { messages, lost } = await matchedMessages(ctx, view, command.search, withIndex);
    const sorted = sortMessages(messages, command.criteria);
    const numbers = sorted.map((message) => (command.uid ? message.uid : message.seq));
    const builder = ctx.builder();
    builder.untagged().text('SORT');
    for (let i = 0; i < numbers.length; i += 1024) builder.text(` ${numbers.slice(i, i + 1024).join(' ')}`);
    builder.crlf();
    await ctx.write(builder);
    if (lost) return { code: 'EXPUNGEISSUED', text: 'Sort completed, some messages were already expunged' };
    return undefined;
  },
};
