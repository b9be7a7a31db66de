/**
 * What LIST and LSUB need to know about a user's mailboxes as a tree: which have children, and
 * which subscribed mailboxes lie below each one (for LSUB's \Noselect parents and LIST-EXTENDED's
 * RECURSIVEMATCH). The store keeps every ancestor of a mailbox in existence (selectable or as a
 * \Noselect placeholder), so the tree has no gaps to fill in.
 */
import { parentPaths } from '../../store/normalize.ts';
import type { Mailbox } from '../../store/types.ts';

export interface Hierarchy {
  hasChildren(path: string): boolean;
  /** Paths of the subscribed mailboxes strictly below `path`. */
  subscribedBelow(path: string): readonly string[];
}

/** `subscriptions`: the subscribed names, mailboxes or not (a name may outlive its mailbox). */
export function buildHierarchy(mailboxes: readonly Mailbox[], subscriptions: ReadonlySet<string>): Hierarchy {
  const parents = new Set<string>();
  for (const mailbox of mailboxes) for (const parent of parentPaths(mailbox.path)) parents.add(parent);
  const subscribed = new Map<string, string[]>();
  for (const path of [...subscriptions].sort()) {
    for (const parent of parentPaths(path)) {
      const below = subscribed.get(parent);
      if (below) below.push(path);
      else subscribed.set(parent, [path]);
    }
  }
  return {
    hasChildren: (path) => parents.has(path),
    subscribedBelow: (path) => subscribed.get(path) ?? [],
  };
}
