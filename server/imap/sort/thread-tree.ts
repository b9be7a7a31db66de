/**
 * The thread tree THREAD answers with, the sibling ordering all three algorithms share, and the
 * response syntax (RFC 5256 4): a thread is a parenthesised list where a node with one child is
 * followed by that child in the same list, and a node with several children by one list per
 * child: `(3 6 (4 23)(44 7 96))`; a node with no message (a dummy parent) writes only its children.
 */
import type { SortMessage } from './keys.ts';

export interface ThreadNode {
  /** Null for a dummy: a parent that is referenced but not in the result. */
  message: SortMessage | null;
  children: ThreadNode[];
}

/** The message a node sorts by: its own, or for a dummy its first child's (RFC 5256 3, step 4). */
export function representative(node: ThreadNode): SortMessage | null {
  let current: ThreadNode | undefined = node;
  while (current !== undefined && current.message === null) current = current.children[0];
  return current?.message ?? null;
}

/** Sent date, then sequence number (RFC 5256: ties and unparsable dates go by mailbox order). */
export function compareByDate(a: ThreadNode, b: ThreadNode): number {
  const x = representative(a);
  const y = representative(b);
  if (x === null || y === null) return (x === null ? 0 : 1) - (y === null ? 0 : 1);
  return x.date - y.date || x.seq - y.seq;
}

/** Sorts every set of siblings below `nodes`, children before parents (RFC 5256 3, step 6). */
export function sortSiblings(nodes: ThreadNode[], compare = compareByDate): void {
  for (const node of nodes) sortSiblings(node.children, compare);
  nodes.sort(compare);
}

function writeNode(node: ThreadNode, number: (message: SortMessage) => number, parts: string[]): void {
  let current = node;
  const numbers: number[] = [];
  for (;;) {
    if (current.message !== null) numbers.push(number(current.message));
    if (current.children.length !== 1) break;
    current = current.children[0]!;
  }
  let text = numbers.join(' ');
  if (current.children.length > 1) {
    const children = current.children.map((child) => {
      const inner: string[] = [];
      writeNode(child, number, inner);
      return `(${inner.join('')})`;
    });
    text += (text === '' ? '' : ' ') + children.join('');
  }
  parts.push(text);
}

/** `(1 2)(3 (4)(5))...`: the threads as THREAD writes them after `* THREAD `. */
export function formatThreads(
  threads: readonly ThreadNode[],
  number: (message: SortMessage) => number,
): string {
  return threads
    .map((thread) => {
      const parts: string[] = [];
      writeNode(thread, number, parts);
      return `(${parts.join('')})`;
    })
    .join('');
}
