/**
 * SEARCH and UID SEARCH (RFC 3501 6.4.4), with ESEARCH result options (RFC 4731), MODSEQ (RFC 7162)
 * and YOUNGER/OLDER (RFC 5032). CHARSET UTF-8 and US-ASCII are accepted (the parser refuses others
 * with NO [BADCHARSET]); strings are matched case-insensitively as substrings of the decoded text.
 * RETURN (SAVE) (SEARCHRES, RFC 5182) keeps the result as `$` for later commands (save.ts): alone it
 * sends no ESEARCH answer; a failed SEARCH that asked to save empties `$`.
 *
 * See search/compile.ts for the cost ordering, search/run.ts for the staged reading, and
 * search/dates.ts for the calendar rules of the date keys. A message expunged by another session
 * whose data is gone cannot match; the command then ends `OK [EXPUNGEISSUED]`.
 */
import { enableCondstore } from '../condstore.ts';
import { requireView, type CommandHandler } from '../context.ts';
import type { SearchCommand } from '../parser/index.ts';
import { compileSearch } from '../search/compile.ts';
import { writeEsearch, writeSearch, type SearchAnswer } from '../search/response.ts';
import { runSearch } from '../search/run.ts';
import { savedPart, withSave } from '../search/save.ts';

export const search: CommandHandler<SearchCommand> = {
  states: ['selected'],
  // SEARCH by sequence number must not see sequence numbers shift (RFC 3501 7.4.1).
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = requireView(ctx);
    const options = command.returnOptions;
    const saving = options?.includes('SAVE') ?? false;
    const result = await withSave(view, saving, async () => {
      const compiled = compileSearch(command.criteria, {
        exists: view.exists,
        maxUid: view.lastUid,
        now: Date.now(),
        saved: view.searchResult(),
      });
      // A MODSEQ search key turns CONDSTORE on for the session (RFC 7162 3.1).
      if (compiled.hasModseq) await enableCondstore(ctx);
      return {
        ...(await runSearch(ctx.services.store, view, compiled, ctx.services.parsePool ?? null)),
        compiled,
      };
    });
    const { compiled } = result;
    if (saving) view.saveSearchResult(savedPart(options!, result.uids));
    const answer: SearchAnswer = {
      numbers: command.uid ? result.uids : result.seqs,
      modseqs: result.modseqs,
      withModseq: compiled.hasModseq,
    };
    const builder = ctx.builder();
    const shown = options?.filter((option) => option !== 'SAVE') ?? null;
    if (shown === null) writeSearch(builder, answer);
    // SAVE alone: the client asked for no answer but `$` (RFC 5182 2.4).
    else if (shown.length > 0) writeEsearch(builder, command.tag, command.uid, shown, answer);
    await ctx.write(builder);
    if (result.lost)
      return { code: 'EXPUNGEISSUED', text: 'Search completed, some messages were already expunged' };
    return undefined;
  },
};
