/**
 * SEARCH and UID SEARCH (RFC 3501 6.4.4), with ESEARCH result options (RFC 4731), MODSEQ (RFC 7162)
 * and YOUNGER/OLDER (RFC 5032). CHARSET UTF-8 and US-ASCII are accepted (the parser refuses others
 * with NO [BADCHARSET]); strings are matched case-insensitively as substrings of the decoded text.
 * RETURN (SAVE) (SEARCHRES, RFC 5182) keeps the result as `$` for later commands (save.ts): alone it
 * sends no ESEARCH answer; a failed SEARCH that asked to save empties `$`.
 *
 * CONTEXT=SEARCH (RFC 5267): RETURN (PARTIAL first:last) answers with the messages at those
 * positions (negative ones count from the end, RFC 9394), RETURN (UPDATE) keeps a UID SEARCH
 * updating (search/contexts.ts), CONTEXT is a hint with no effect here.
 *
 * See search/compile.ts for the cost ordering, search/run.ts for the staged reading, and
 * search/dates.ts for the calendar rules of the date keys. A message expunged by another session
 * whose data is gone cannot match; the command then ends `OK [EXPUNGEISSUED]`.
 */
import { enableCondstore } from '../condstore.ts';
import { requireView, type CommandHandler } from '../context.ts';
import type { SearchCommand } from '../parser/index.ts';
import { compileSearch } from '../search/compile.ts';
import { isRev2 } from '../rev2.ts';
import { keepUpdating } from '../search/contexts.ts';
import { answerOptions, writeEsearch, writeSearch, type SearchAnswer } from '../search/response.ts';
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
    if (saving) view.saveSearchResult(savedPart(options!, result.uids, command.partial));
    const answer: SearchAnswer = {
      numbers: command.uid ? result.uids : result.seqs,
      modseqs: result.modseqs,
      withModseq: compiled.hasModseq,
      partial: command.partial,
    };
    const builder = ctx.builder();
    if (options?.includes('UPDATE')) {
      const context = { tag: command.tag, criteria: command.criteria, sort: null, uids: [...result.uids] };
      keepUpdating(builder, view.searchContexts, command.uid, context);
    }
    // IMAP4rev2 has no `* SEARCH`: a plain SEARCH is answered as RETURN (ALL) (RFC 9051 6.4.4).
    if (options === null && isRev2(ctx.session))
      writeEsearch(builder, command.tag, command.uid, ['ALL'], answer);
    else if (options === null) writeSearch(builder, answer);
    // SAVE alone: the client asked for no answer but `$` (RFC 5182 2.4).
    else if (options.length > 1 || options[0] !== 'SAVE')
      writeEsearch(builder, command.tag, command.uid, answerOptions(options), answer);
    await ctx.write(builder);
    if (result.lost)
      return { code: 'EXPUNGEISSUED', text: 'Search completed, some messages were already expunged' };
    return undefined;
  },
};
