/**
 * SORT (RFC 5256, SORT=DISPLAY RFC 5957) and THREAD (RFC 5256) arguments:
 * `SORT (REVERSE DATE SUBJECT) UTF-8 <search keys>` and `THREAD REFERENCES UTF-8 <search keys>`.
 * Unlike SEARCH, the charset is required and has no CHARSET keyword before it.
 */
import { fail } from './errors.ts';
import type { Reader } from './reader.ts';
import { readCharset, readReturnOptions, readSearchKeys } from './search.ts';
import type {
  PartialRange,
  SearchKey,
  SearchReturnOption,
  SortCriterion,
  SortKeyName,
  ThreadAlgorithm,
} from './types.ts';

const SORT_KEYS: ReadonlySet<string> = new Set<SortKeyName>([
  'ARRIVAL',
  'CC',
  'DATE',
  'FROM',
  'SIZE',
  'SUBJECT',
  'TO',
  'DISPLAYFROM',
  'DISPLAYTO',
]);

const THREAD_ALGORITHMS: ReadonlySet<string> = new Set<ThreadAlgorithm>([
  'ORDEREDSUBJECT',
  'REFERENCES',
  'REFS',
]);

/** `(sort-key ...)` with REVERSE applying to the key after it. */
export function readSortCriteria(r: Reader): SortCriterion[] {
  const criteria: SortCriterion[] = [];
  let reverse = false;
  r.readList('sort criteria', () => {
    const word = r.readAtom('sort key').toUpperCase();
    if (word === 'REVERSE') {
      if (reverse) fail('REVERSE twice in a row in the sort criteria');
      reverse = true;
      return;
    }
    if (!SORT_KEYS.has(word)) fail(`Unknown sort key ${word}`);
    criteria.push({ key: word as SortKeyName, reverse });
    reverse = false;
  });
  if (reverse) fail('REVERSE must be followed by a sort key');
  return criteria;
}

export interface SortArguments {
  /** ESORT `RETURN (...)` (RFC 5267 3); null for a plain `* SORT` answer. */
  returnOptions: SearchReturnOption[] | null;
  /** RETURN (PARTIAL range), positions in sort order; null without. */
  partial: PartialRange | null;
  criteria: SortCriterion[];
  charset: string;
  search: SearchKey;
}

export function readSortArguments(r: Reader, maxDepth: number): SortArguments {
  const { options: returnOptions, partial } = readReturnOptions(r, 'sort criteria');
  const criteria = readSortCriteria(r);
  r.sp('charset');
  const charset = readCharset(r);
  r.sp('search criteria');
  return { returnOptions, partial, criteria, charset, search: readSearchKeys(r, maxDepth) };
}

export interface ThreadArguments {
  algorithm: ThreadAlgorithm;
  charset: string;
  search: SearchKey;
}

export function readThreadArguments(r: Reader, maxDepth: number): ThreadArguments {
  const algorithm = r.readAtom('thread algorithm').toUpperCase();
  if (!THREAD_ALGORITHMS.has(algorithm)) fail(`Unknown thread algorithm ${algorithm}`);
  r.sp('charset');
  const charset = readCharset(r);
  r.sp('search criteria');
  return { algorithm: algorithm as ThreadAlgorithm, charset, search: readSearchKeys(r, maxDepth) };
}
