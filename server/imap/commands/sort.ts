/**
 * SORT and UID SORT (RFC 5256 3, SORT=DISPLAY RFC 5957): the messages a search matches, ordered by
 * the sort criteria (sort/order.ts, keys in sort/keys.ts), as `* SORT 5 3 4` (UIDs for UID SORT).
 * The charset is required; UTF-8 and US-ASCII are accepted, others get NO [BADCHARSET] from the
 * parser. Like SEARCH, SORT by sequence number must not see numbers shift, so expunges wait.
 *
 * ESORT (RFC 5267 3): with `RETURN (...)` the answer is an ESEARCH response in which MIN and MAX
 * are the first and last message in sort order and ALL lists the messages in sort order; SAVE
 * (SEARCHRES) keeps the result as `$`, and alone sends no ESEARCH.
 */
import { requireView, type CommandHandler } from '../context.ts';
import type { SortCommand } from '../parser/index.ts';
import { writeEsearch } from '../search/response.ts';
import { savedPart, withSave } from '../search/save.ts';
import { matchedMessages } from '../sort/matched.ts';
import { sortMessages } from '../sort/order.ts';

export const sort: CommandHandler<SortCommand> = {
  states: ['selected'],
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = requireView(ctx);
    const options = command.returnOptions;
    const saving = options?.includes('SAVE') ?? false;
    // ARRIVAL and SIZE alone need no header: the summaries have them.
    const withIndex = command.criteria.some(({ key }) => key !== 'ARRIVAL' && key !== 'SIZE');
    const { messages, lost } = await withSave(view, saving, () =>
      matchedMessages(ctx, view, command.search, withIndex),
    );
    const sorted = sortMessages(messages, command.criteria);
    const numbers = sorted.map((message) => (command.uid ? message.uid : message.seq));
    const builder = ctx.builder();
    if (options === null) {
      builder.untagged().text('SORT');
      for (let i = 0; i < numbers.length; i += 1024) builder.text(` ${numbers.slice(i, i + 1024).join(' ')}`);
      builder.crlf();
    } else {
      if (saving)
        view.saveSearchResult(
          savedPart(
            options,
            sorted.map((message) => message.uid),
          ),
        );
      const shown = options.filter((option) => option !== 'SAVE');
      if (shown.length > 0) {
        writeEsearch(builder, command.tag, command.uid, shown, { numbers, modseqs: [], withModseq: false });
      }
    }
    await ctx.write(builder);
    if (lost) return { code: 'EXPUNGEISSUED', text: 'Sort completed, some messages were already expunged' };
    return undefined;
  },
};
