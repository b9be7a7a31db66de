/**
 * SORT and UID SORT (RFC 5256 3, SORT=DISPLAY RFC 5957): the messages a search matches, ordered by
 * the sort criteria (sort/order.ts, keys in sort/keys.ts), as `* SORT 5 3 4` (UIDs for UID SORT).
 * The charset is required; UTF-8 and US-ASCII are accepted, others get NO [BADCHARSET] from the
 * parser. Like SEARCH, SORT by sequence number must not see numbers shift, so expunges wait.
 *
 * ESORT (RFC 5267 3): with `RETURN (...)` the answer is an ESEARCH response in which MIN and MAX
 * are the first and last message in sort order and ALL lists the messages in sort order; SAVE
 * (SEARCHRES) keeps the result as `$`, and alone sends no ESEARCH. Neither COUNT nor SAVE of every
 * match depends on the order: with only those, nothing is sorted and no header is read.
 *
 * CONTEXT=SORT (RFC 5267 4): PARTIAL first:last gives the messages at those positions in sort
 * order (negative ones from the end, RFC 9394), UPDATE keeps a UID SORT updating with ADDTO and
 * REMOVEFROM at sort positions (search/contexts.ts).
 */
import { requireView, type CommandHandler } from '../context.ts';
import type { SortCommand } from '../parser/index.ts';
import { keepUpdating } from '../search/contexts.ts';
import { answerOptions, writeEsearch, writeNumbers } from '../search/response.ts';
import { savedPart, withSave } from '../search/save.ts';
import { matchedEntries, needsIndex, numbersAt, sortedPositions } from '../sort/matched.ts';

export const sort: CommandHandler<SortCommand> = {
  states: ['selected'],
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = requireView(ctx);
    const options = command.returnOptions;
    const saving = options?.includes('SAVE') ?? false;
    // RETURN (COUNT) and SAVE of all matches (a set) do not depend on the order: no sort, no header.
    const unordered = options?.every((option) => option === 'COUNT' || option === 'SAVE') ?? false;
    const matched = await withSave(view, saving, () =>
      matchedEntries(ctx, view, command.search, !unordered && needsIndex(command.criteria)),
    );
    const order = unordered
      ? Uint32Array.from(matched.entries.keys())
      : sortedPositions(view, matched, command.criteria);
    const numbers = numbersAt(matched, order, command.uid);
    const builder = ctx.builder();
    if (options === null) {
      builder.untagged().text('SORT');
      writeNumbers(builder, numbers);
      builder.crlf();
    } else {
      const uids = command.uid ? numbers : numbersAt(matched, order, true);
      if (saving) view.saveSearchResult(savedPart(options, uids, command.partial));
      if (options.includes('UPDATE')) {
        const context = { tag: command.tag, criteria: command.search, sort: command.criteria, uids };
        keepUpdating(builder, view.searchContexts, command.uid, context);
      }
      if (options.length > 1 || options[0] !== 'SAVE') {
        const answer = { numbers, modseqs: [], withModseq: false, partial: command.partial };
        writeEsearch(builder, command.tag, command.uid, answerOptions(options), answer);
      }
    }
    await ctx.write(builder);
    if (matched.lost)
      return { code: 'EXPUNGEISSUED', text: 'Sort completed, some messages were already expunged' };
    return undefined;
  },
};
