/**
 * A user's allow and block lists against a message's senders: the envelope sender (MAIL FROM)
 * and the header From addresses. The most specific entry wins (an address beats a domain, a
 * subdomain beats its parent: "block example.com, allow boss@example.com" lets the boss in); for
 * equally specific entries allow wins. A domain entry covers its subdomains.
 */
import type { SpamListEntry, SpamListKind } from '../store/spam.ts';
import { headerFieldValues } from '../delivery/trace.ts';
import { parseAddressList } from '../mime/address.ts';

export interface ListDecision {
  list: SpamListKind;
  pattern: string;
}

/** The sender addresses lists are matched against, lower case, without duplicates. */
export function sendersOf(mailFrom: string, message: Buffer): string[] {
  const senders = new Set<string>();
  if (mailFrom) senders.add(mailFrom.toLowerCase());
  for (const value of headerFieldValues(message, 'From')) {
    for (const [, , mailbox, domain] of parseAddressList(value)) {
      if (mailbox && domain) senders.add(`${mailbox}@${domain}`.toLowerCase());
    }
  }
  return [...senders];
}

/** How specific a match of `pattern` is (higher wins), or -1 when it does not match `sender`. */
function specificity(pattern: string, sender: string): number {
  if (pattern.includes('@')) return pattern === sender ? 1000 : -1;
  const domain = sender.slice(sender.lastIndexOf('@') + 1);
  const matches = domain === pattern || domain.endsWith(`.${pattern}`);
  return matches ? pattern.split('.').length : -1;
}

export function listDecision(
  entries: readonly SpamListEntry[],
  senders: readonly string[],
): ListDecision | null {
  let best: { entry: SpamListEntry; rank: number } | null = null;
  for (const entry of entries) {
    for (const sender of senders) {
      const rank = specificity(entry.pattern, sender);
      if (rank < 0) continue;
      const better = !best || rank > best.rank || (rank === best.rank && entry.list === 'allow');
      if (better) best = { entry, rank };
    }
  }
  return best ? { list: best.entry.list, pattern: best.entry.pattern } : null;
}
