/**
 * THREAD and UID THREAD (RFC 5256 4): ORDEREDSUBJECT, REFERENCES and REFS (Dovecot's REFERENCES
 * without subject grouping, threads ordered by their newest message). The algorithms are in
 * sort/threads-*.ts; the References header (in the MIME index, or read from the stored header for
 * older indexes) is looked at only by the two reference algorithms.
 */
import { requireView, type CommandHandler, type ImapContext } from '../context.ts';
import type { ThreadCommand } from '../parser/index.ts';
import { loadReferences } from '../sort/load.ts';
import { matchedMessages } from '../sort/matched.ts';
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

export const thread: CommandHandler<ThreadCommand> = {
  states: ['selected'],
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = requireView(ctx);
    const { messages, lost } = await matchedMessages(ctx, view, command.search);
    const threads = await buildThreads(ctx, command, messages);
    const text = formatThreads(threads, (message) => (command.uid ? message.uid : message.seq));
    const builder = ctx.builder();
    builder.untagged().text(text === '' ? 'THREAD' : `THREAD ${text}`);
    builder.crlf();
    await ctx.write(builder);
    if (lost) return { code: 'EXPUNGEISSUED', text: 'Thread completed, some messages were already expunged' };
    return undefined;
  },
};
