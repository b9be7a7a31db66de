/**
 * THREAD=REFERENCES (RFC 5256 3), the algorithm derived from Jamie Zawinski's, and THREAD=REFS
 * (draft-ietf-morg-inthread, as Dovecot has it), which skips the grouping by subject.
 *
 * 1. Every message gets a container under its Message-ID (a missing id, or a second message with
 *    an id already taken, gets one of its own). Consecutive References are linked parent to child
 *    where the child has no parent yet; the message becomes the child of its last reference,
 *    replacing a parent an earlier message's References gave it. No link that would close a loop.
 * 2. The roots are the containers without a parent.
 * 3. Dummies (ids referenced but not in the result) without children go; those with children are
 *    replaced by their children, except at the top with more than one child.
 * 4./5. (REFERENCES only) Roots with the same base subject are merged (mergeBySubject).
 * 6. Every set of siblings is sorted by sent date, a dummy by its first child.
 */
import { keyValue, messageBaseSubject, type SortMessage } from './keys.ts';
import { ownMessageId, parentIds } from './message-ids.ts';
import { compareByDate, sortSiblings, type ThreadNode } from './thread-tree.ts';

interface Container {
  message: SortMessage | null;
  parent: Container | null;
  children: Container[];
}

function isAncestor(candidate: Container, of: Container): boolean {
  for (let node: Container | null = of; node !== null; node = node.parent)
    if (node === candidate) return true;
  return false;
}

function unlink(child: Container): void {
  const parent = child.parent;
  if (parent === null) return;
  parent.children.splice(parent.children.indexOf(child), 1);
  child.parent = null;
}

/** Links parent → child unless the child has a parent or the link would close a loop. */
function link(parent: Container, child: Container): void {
  if (child.parent !== null || isAncestor(child, parent)) return;
  child.parent = parent;
  parent.children.push(child);
}

/** Step 1: the containers of all messages and the ids they reference; returns them all. */
function buildContainers(
  messages: readonly SortMessage[],
  references: ReadonlyMap<number, string>,
): Container[] {
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const container = (id: string): Container => {
    let found = byId.get(id);
    if (found === undefined) {
      found = { message: null, parent: null, children: [] };
      byId.set(id, found);
      all.push(found);
    }
    return found;
  };
  for (const message of messages) {
    const id = ownMessageId(message);
    let own = id === null ? undefined : byId.get(id);
    if (own === undefined && id !== null) own = container(id);
    if (own === undefined || own.message !== null) {
      // No Message-ID, or a duplicate: a container of its own.
      own = { message: null, parent: null, children: [] };
      all.push(own);
    }
    own.message = message;
    const parents = parentIds(message, references.get(message.uid)).map(container);
    for (let i = 0; i + 1 < parents.length; i++) link(parents[i]!, parents[i + 1]!);
    unlink(own);
    const last = parents[parents.length - 1];
    if (last !== undefined) link(last, own);
  }
  return all;
}

/** Step 3: dummies pruned or replaced by their children. */
function prune(nodes: Container[], top: boolean): Container[] {
  const kept: Container[] = [];
  for (const node of nodes) {
    node.children = prune(node.children, false);
    for (const child of node.children) child.parent = node;
    if (node.message !== null) kept.push(node);
    else if (node.children.length === 0) continue;
    else if (top && node.children.length > 1) kept.push(node);
    else
      for (const child of node.children) {
        child.parent = null;
        kept.push(child);
      }
  }
  return kept;
}

function toTree(container: Container): ThreadNode {
  return { message: container.message, children: container.children.map(toTree) };
}

/** The base subject of a root (a dummy's: its first child's) and whether it is a reply/forward. */
function rootSubject(node: ThreadNode): { key: string; replyOrForward: boolean } | null {
  const message = node.message ?? node.children[0]?.message ?? null;
  if (message === null) return null;
  const base = messageBaseSubject(message);
  // The SUBJECT sort key is casemapKey(base.text), computed once per message and kept.
  return base.text === ''
    ? null
    : { key: String(keyValue(message, 'SUBJECT')), replyOrForward: base.replyOrForward };
}

/** Steps 5A-C: roots with the same base subject are gathered under one. */
function mergeBySubject(roots: ThreadNode[]): ThreadNode[] {
  const subjects = roots.map(rootSubject);
  const table = new Map<string, ThreadNode>();
  roots.forEach((root, i) => {
    const subject = subjects[i];
    if (!subject) return;
    const held = table.get(subject.key);
    const heldReply = held?.message ? messageBaseSubject(held.message).replyOrForward : false;
    if (
      held === undefined ||
      (root.message === null && held.message !== null) ||
      (held.message !== null && heldReply && root.message !== null && !subject.replyOrForward)
    )
      table.set(subject.key, root);
  });
  const result: ThreadNode[] = [];
  // Where a root went: merging replaces a table entry by a new dummy in the result.
  const position = new Map<ThreadNode, number>();
  roots.forEach((root, i) => {
    const subject = subjects[i];
    const head = subject ? table.get(subject.key) : undefined;
    if (!subject || head === undefined || head === root) {
      position.set(root, result.length);
      result.push(root);
      return;
    }
    if (!position.has(head)) {
      // The head comes later in the root set: put it in place now, then merge into it.
      position.set(head, result.length);
      result.push(head);
    }
    const merged = merge(head, root, subject.replyOrForward);
    if (merged !== head) {
      result[position.get(head)!] = merged;
      position.set(merged, position.get(head)!);
      table.set(subject.key, merged);
    }
  });
  return result.filter((node, i) => position.get(node) === i);
}

/** Step 5C for one root `other` whose subject's head is `head`; returns the new head. */
function merge(head: ThreadNode, other: ThreadNode, otherIsReply: boolean): ThreadNode {
  if (head.message === null && other.message === null) {
    head.children.push(...other.children);
    return head;
  }
  if (head.message === null) {
    head.children.push(other);
    return head;
  }
  if (other.message === null) {
    other.children.push(head);
    return other;
  }
  const headIsReply = messageBaseSubject(head.message).replyOrForward;
  if (!headIsReply && otherIsReply) {
    head.children.push(other);
    return head;
  }
  return { message: null, children: [head, other] };
}

export function referencesThreads(
  messages: readonly SortMessage[],
  references: ReadonlyMap<number, string>,
  bySubject: boolean,
): ThreadNode[] {
  const containers = buildContainers(messages, references);
  const roots = prune(
    containers.filter((container) => container.parent === null),
    true,
  ).map(toTree);
  // Step 4: the roots in date order (a dummy by its first child, its children sorted first).
  for (const root of roots) if (root.message === null) sortSiblings(root.children);
  roots.sort(compareByDate);
  if (!bySubject) return refsOrder(roots);
  const threads = mergeBySubject(roots);
  sortSiblings(threads);
  return threads;
}

/** The newest message of a thread: (date, sequence number) of the latest. */
function newest(node: ThreadNode): [number, number] {
  let best: [number, number] = node.message ? [node.message.date, node.message.seq] : [-Infinity, 0];
  for (const child of node.children) {
    const candidate = newest(child);
    if (candidate[0] > best[0] || (candidate[0] === best[0] && candidate[1] > best[1])) best = candidate;
  }
  return best;
}

/** THREAD=REFS: siblings by date, and the threads by their newest message (the latest thread last). */
function refsOrder(roots: ThreadNode[]): ThreadNode[] {
  for (const root of roots) sortSiblings(root.children);
  const latest = new Map(roots.map((root) => [root, newest(root)]));
  return roots.sort((a, b) => {
    const [x, y] = [latest.get(a)!, latest.get(b)!];
    return x[0] - y[0] || x[1] - y[1];
  });
}
