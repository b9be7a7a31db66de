/**
 * THREAD and UID THREAD (RFC 5256 4): ORDEREDSUBJECT, REFERENCES and REFS (Dovecot's REFERENCES
 * without subject grouping, threads ordered by their newest message). The algorithms are in
 * sort/threads-*.ts; the References header (in the MIME index, or read from the stored header for
 * older indexes) is looked at only by the two reference algorithms. The mailbox's sort cache keeps
 * the last answer's tree (sort/cache.ts): a THREAD over the same messages only numbers it anew.
 */
import { requireView, type CommandHandler, type ImapContext } from '../context.ts';
import type { MailboxView } from '../mailbox-view.ts';
import type { ThreadCommand } from '../parser/index.ts';
import type { SearchResult } from '../search/run.ts';
import { loadReferences, loadSortMessages } from '../sort/load.ts';
import { searchMatches } from '../sort/matched.ts';
import { formatThreads, type ThreadNode } from '../sort/thread-tree.ts';
import { orderedSubjectThreads } from '../sort/threads-ordered-subject.ts';
import { referencesThreads } from '../sort/threads-references.ts';
import type { SortMessage } from '../sort/keys.ts';

async function buildThreads(
  ctx: ImapContext,
  command: ThreadCommand,
  messages: SortMessage[],
): Promise<ThreadNode[]> {
  if (command.algorithm === 'ORDEREDSUBJECT') return orderedSubjectThreads(messages);
  const references = await loadReferences(ctx.services.store, messages);
  return referencesThreads(messages, references, command.algorithm === 'REFERENCES');
}

/**
 * The threads of the matches: kept from an earlier THREAD over the same UIDs (their sort data is
 * then not even loaded), or built and kept.
 */
async function threadsOf(
  ctx: ImapContext,
  view: MailboxView,
  command: ThreadCommand,
  matches: SearchResult,
): Promise<ThreadNode[]> {
  const cache = view.state.sortCache;
  const kept = cache.keptThreads(command.algorithm, matches.uids);
  if (kept !== undefined) return kept;
  const messages = await loadSortMessages(ctx.services.store, view, matches.seqs, matches.uids);
  const threads = await buildThreads(ctx, command, messages);
  // Messages that could not be read stand in as empty entries: not worth keeping.
  if (!matches.lost) cache.keepThreads(command.algorithm, matches.uids, threads);
  return threads;
}

/**
 * The answer's text: the threads numbered by UID or by sequence number now (a kept tree's
 * entries may carry older ones), kept beside the tree for the next THREAD with the same numbers.
 */
function threadsText(
  view: MailboxView,
  command: ThreadCommand,
  matches: SearchResult,
  threads: ThreadNode[],
): string {
  const cache = view.state.sortCache;
  const numbers = command.uid ? matches.uids : matches.seqs;
  const kept = cache.keptText(threads, numbers);
  if (kept !== undefined) return kept;
  const seqOf = new Map(matches.uids.map((uid, i) => [uid, matches.seqs[i]!]));
  const text = formatThreads(threads, (message) =>
    command.uid ? message.uid : (seqOf.get(message.uid) ?? message.seq),
  );
  cache.keepText(threads, numbers, text);
  return text;
}

export const thread: CommandHandler<ThreadCommand> = {
  states: ['selected'],
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = requireView(ctx);
    const matches = await searchMatches(ctx, view, command.search);
    const threads = await threadsOf(ctx, view, command, matches);
    const text = threadsText(view, command, matches, threads);
    const builder = ctx.builder();
    builder.untagged().text(text === '' ? 'THREAD' : `THREAD ${text}`);
    builder.crlf();
    await ctx.write(builder);
    if (matches.lost)
      return { code: 'EXPUNGEISSUED', text: 'Thread completed, some messages were already expunged' };
    return undefined;
  },
};
