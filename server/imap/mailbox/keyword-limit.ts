/**
 * The limit on distinct keywords per mailbox (`limits.max_keywords_per_mailbox`). Every keyword
 * ever used in a mailbox is in its FLAGS and PERMANENTFLAGS, in SELECT's answer and in every
 * STORE's bookkeeping: 100,000 of them made each STORE take seconds (freezing other sessions)
 * and SELECT too big for imaplib. So a STORE, APPEND, COPY or MOVE that would bring a mailbox
 * past the limit is refused with `NO [LIMIT]` before anything is written (Dovecot refuses
 * new keywords past its own limit in the same way).
 *
 * The check runs here, on the path every IMAP writer of keywords takes, against the store's list
 * (so keywords added by other sessions and processes count), and asks the store only when the
 * command brings a keyword the caller does not already know of. Two sessions racing to add new
 * keywords at the same moment may each pass: the overshoot is bounded by one command's keywords.
 */
import type { Flag, Id } from '../../store/types.ts';
import type { ImapContext } from '../context.ts';
import { no } from '../errors.ts';

/** Keywords (not system flags) of `flags`, by their case-insensitive key. */
function keywordKeys(flags: Iterable<Flag>): Set<string> {
  const keys = new Set<string>();
  for (const flag of flags) if (!flag.startsWith('\\')) keys.add(flag.toLowerCase());
  return keys;
}

/**
 * Throws `NO [LIMIT]` when adding `flags` to the mailbox would make it hold more distinct keywords
 * than allowed. `known`: keywords the caller knows the mailbox has (the selected view's), to skip
 * the store when nothing new is added.
 */
export async function checkKeywordLimit(
  ctx: ImapContext,
  mailboxId: Id,
  flags: Iterable<Flag>,
  known: readonly string[] = [],
): Promise<void> {
  const wanted = keywordKeys(flags);
  if (wanted.size === 0) return;
  const knownKeys = keywordKeys(known);
  if ([...wanted].every((key) => knownKeys.has(key))) return;
  const limit = ctx.services.config.limits.max_keywords_per_mailbox;
  const existing = keywordKeys(await ctx.services.store.listKeywords(mailboxId));
  let total = existing.size;
  for (const key of wanted) if (!existing.has(key)) total++;
  if (total > limit) {
    throw no('LIMIT', `Too many keywords in this mailbox (at most ${limit}); nothing was changed`);
  }
}
