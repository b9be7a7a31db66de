/**
 * THREAD=ORDEREDSUBJECT (RFC 5256 3): messages are sorted by base subject and then sent date;
 * each run of one base subject is a thread whose first message is the parent of all the others,
 * and the threads are ordered by the sent date of their first message.
 */
import { compareKeys, casemapKey } from './collate.ts';
import { messageBaseSubject, type SortMessage } from './keys.ts';
import { compareByDate, type ThreadNode } from './thread-tree.ts';

export function orderedSubjectThreads(messages: readonly SortMessage[]): ThreadNode[] {
  const keyed = messages.map((message) => ({
    message,
    subject: casemapKey(messageBaseSubject(message).text),
  }));
  keyed.sort(
    (a, b) =>
      compareKeys(a.subject, b.subject) || a.message.date - b.message.date || a.message.seq - b.message.seq,
  );
  const threads: ThreadNode[] = [];
  let current: { subject: string; node: ThreadNode } | null = null;
  for (const { message, subject } of keyed) {
    const node: ThreadNode = { message, children: [] };
    if (current !== null && current.subject === subject) current.node.children.push(node);
    else {
      current = { subject, node };
      threads.push(node);
    }
  }
  return threads.sort(compareByDate);
}
