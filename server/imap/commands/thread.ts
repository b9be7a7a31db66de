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

/** The threads of these messages: kept from an earlier THREAD over the same UIDs, or built (and kept). */
async function threadsOf(
  ctx: ImapContext,
  view: MailboxView,
  command: ThreadCommand,
  messages: SortMessage[],
  lost: boolean,
): Promise<ThreadNode[]> {
  const cache = view.state.sortCache;
  const uids = messages.map((message) => message.uid);
  const kept = cache.keptThreads(command.algorithm, uids);
  if (kept !== undefined) return kept;
  const threads = await buildThreads(ctx, command, messages);
  // Messages that could not be read stand in as empty entries: not worth keeping.
  if (!lost) cache.keepThreads(command.algorithm, uids, threads);
  return threads;
}

/** How THREAD numbers a message: its UID, or its sequence number now (a kept tree's may be old). */
function numbering(
  command: ThreadCommand,
  messages: readonly SortMessage[],
): (message: SortMessage) => number {
  if (command.uid) return (message) => message.uid;
  const seqOf = new Map(messages.map((message) => [message.uid, message.seq]));
  return (message) => seqOf.get(message.uid) ?? message.seq;
}

export const thread: CommandHandler<ThreadCommand> = {
  states: ['selected'],
  allowsExpunge: (command) => command.uid,
  async run(ctx, command) {
    const view = requireView(ctx);
    const { messages, lost } = await matchedMessages(ctx, view, command.search);
    const threads = await threadsOf(ctx, view, command, messages, lost);
    const text = formatThreads(threads, numbering(command, messages));
    const builder = ctx.builder();
    builder.untagged().text(text === '' ? 'THREAD' : `THREAD ${text}`);
    builder.crlf();
    await ctx.write(builder);
    if (lost) return { code: 'EXPUNGEISSUED', text: 'Thread completed, some messages were already expunged' };
    return undefined;
  },
};
