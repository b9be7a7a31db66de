/**
 * SEARCH BODY and TEXT narrowed by a MongoDB text index, where the deployment has one.
 *
 * Every body stored by this version keeps the distinct words (lower-cased, split at white space)
 * of what BODY and TEXT look at (`blobs.words`, mime/text.ts `searchableWords`), under a text
 * index with language "none" (no stemming, no stop words). IMAP SEARCH matches substrings, which
 * a word index cannot answer in general ("eed" is in "needle"), so the index is only a pre-filter
 * that never drops a true match. The rule:
 * - Only the needle's *whole words* are used: runs of ASCII letters and digits that white space
 *   (space, tab, CR, LF) bounds on both sides inside the needle. A body containing the needle
 *   contains such a run between the same white space, so its word list has it as a word of its
 *   own, and MongoDB's tokenizer (which splits at white space and punctuation, never inside a run
 *   of letters and digits, and folds case and diacritics) indexes it as that term. The longest
 *   such word is looked up.
 * - A needle without one ("needle", "needle-body", " x": every word touches an end of the needle,
 *   so the body may hold it inside a longer word) is not narrowed: the caller reads every body.
 * - Bodies without a complete word list (too big to list, unparseable) are candidates always, and
 *   databases upgraded from version 1 (bodies stored before word lists existed) never use the
 *   index. More candidates than MAX_CANDIDATES: not narrowed (the lookup would cost more than it
 *   saves).
 * The caller still checks every candidate, so the index decides nothing but which bodies need not
 * be read: the answer is exact whether it is used or not.
 *
 * Whether it is used is decided when the store opens (`probeTextSearch`): the test stand-in
 * (mongo-java-server) accepts the index but has no `$text`, so there the scan runs.
 */
import type { Collections } from './schema.ts';
import { isTemporaryFailure } from './errors.ts';

/** More candidate bodies than this: the search reads every body instead. */
export const MAX_CANDIDATES = 10_000;
/** The `meta` document saying every body of the database has its word list (databases made by v2). */
export const WORD_LISTS_META = 'bodyWords';

export interface TextSearchSupport {
  mode: 'index' | 'scan';
  /** Why, in words (health, logs). */
  reason: string;
}

/**
 * Whether BODY/TEXT searches can use the text index on this database and server: a probe document
 * in a collection of its own (`text_probe`, under the same kind of index) must be found by `$text`.
 * A server without `$text` may say nothing while no document is there to test (the stand-in).
 */
export async function probeTextSearch(c: Collections): Promise<TextSearchSupport> {
  if (!(await c.meta.findOne({ _id: WORD_LISTS_META }))) {
    return { mode: 'scan', reason: 'bodies stored before version 2 have no word lists' };
  }
  const probe = c.db.collection<{ _id: string; words: string[] }>('text_probe');
  try {
    await probe.createIndex({ words: 'text' }, { default_language: 'none' });
    await probe.updateOne({ _id: 'probe' }, { $set: { words: ['mallard'] } }, { upsert: true });
    const found = await probe.find({ $text: { $search: 'mallard' } }).toArray();
    if (found.length !== 1) return { mode: 'scan', reason: 'the text index did not find its probe' };
    return { mode: 'index', reason: 'text index on blobs.words' };
  } catch (error) {
    if (isTemporaryFailure(error)) throw error;
    return { mode: 'scan', reason: `the server has no $text: ${(error as Error).message}` };
  }
}

/** The needle's words that white space bounds on both sides, of ASCII letters and digits only. */
export function wholeWords(needle: string): string[] {
  const pieces = needle.toLowerCase().split(/[ \t\r\n]/);
  return pieces.slice(1, -1).filter((piece) => /^[a-z0-9]+$/.test(piece));
}

/**
 * The ids of the bodies that may contain `needle` (case-folded) where BODY/TEXT look, or null
 * when the index cannot narrow it down (see the rule at the top). Two queries.
 */
export async function textCandidates(c: Collections, needle: string): Promise<Set<string> | null> {
  const word = wholeWords(needle).reduce<string | null>(
    (longest, candidate) => (longest === null || candidate.length > longest.length ? candidate : longest),
    null,
  );
  if (word === null) return null;
  const [matching, unlisted] = await Promise.all([
    c.blobs
      .find({ $text: { $search: word } }, { projection: { _id: 1 } })
      .limit(MAX_CANDIDATES + 1)
      .toArray(),
    c.blobs
      .find({ wordsListed: false }, { projection: { _id: 1 } })
      .limit(MAX_CANDIDATES + 1)
      .toArray(),
  ]);
  if (matching.length + unlisted.length > MAX_CANDIDATES) return null;
  return new Set([...matching, ...unlisted].map((doc) => doc._id));
}
