/**
 * SEARCH arguments (RFC 3501 6.4.4, ESEARCH RFC 4731, SEARCHRES RFC 5182, CONDSTORE RFC 7162,
 * WITHIN RFC 5032) into a SearchKey tree. Nesting (parentheses, NOT, OR) is capped so hostile
 * input cannot overflow the stack.
 */
import { parseSearchDate } from './dates.ts';
import { fail } from './errors.ts';
import { DOLLAR, DQUOTE, LPAREN, RPAREN, STAR, SP, isDigit, type Reader } from './reader.ts';
import type { PartialRange, SearchDate, SearchKey, SearchReturnOption } from './types.ts';

export const DEFAULT_MAX_SEARCH_DEPTH = 100;

/** Charsets SEARCH accepts; anything else is a `bad-charset` error. */
export const SEARCH_CHARSETS = ['UTF-8', 'US-ASCII'] as const;

const RETURN_OPTIONS: ReadonlySet<string> = new Set<SearchReturnOption>([
  'MIN',
  'MAX',
  'ALL',
  'COUNT',
  'SAVE',
  'CONTEXT',
  'UPDATE',
  'PARTIAL',
]);

/** A partial range's numbers are 32-bit (RFC 9394 `nz-number`), like sequence numbers. */
const MAX_PARTIAL = 0xffffffff;

/**
 * `first:last` (RFC 5267 4.4) or `-first:-last` (RFC 9394 3.1): both signs alike, in either order;
 * kept as first ≤ last in magnitude.
 */
export function parsePartialRange(text: string): PartialRange {
  const match = /^(-?)([1-9][0-9]{0,9}):(-?)([1-9][0-9]{0,9})$/.exec(text);
  if (!match) fail(`Bad PARTIAL range ${text}: expected n:m or -n:-m`);
  const [, sign1, a, sign2, b] = match;
  if (sign1 !== sign2) fail(`Bad PARTIAL range ${text}: both ends must have the same sign`);
  const low = Math.min(Number(a), Number(b));
  const high = Math.max(Number(a), Number(b));
  if (high > MAX_PARTIAL) fail(`Bad PARTIAL range ${text}: numbers must be below 2^32`);
  return sign1 === '-' ? { first: -low, last: -high } : { first: low, last: high };
}

const flag = (name: string, set: boolean): SearchKey => ({ type: 'flag', flag: name, set });

const FLAG_KEYS: ReadonlyMap<string, SearchKey> = new Map([
  ['ANSWERED', flag('\\Answered', true)],
  ['DELETED', flag('\\Deleted', true)],
  ['DRAFT', flag('\\Draft', true)],
  ['FLAGGED', flag('\\Flagged', true)],
  ['SEEN', flag('\\Seen', true)],
  ['RECENT', flag('\\Recent', true)],
  ['UNANSWERED', flag('\\Answered', false)],
  ['UNDELETED', flag('\\Deleted', false)],
  ['UNDRAFT', flag('\\Draft', false)],
  ['UNFLAGGED', flag('\\Flagged', false)],
  ['UNSEEN', flag('\\Seen', false)],
]);

const HEADER_KEYS: ReadonlyMap<string, string> = new Map([
  ['BCC', 'bcc'],
  ['CC', 'cc'],
  ['FROM', 'from'],
  ['SUBJECT', 'subject'],
  ['TO', 'to'],
]);

const DATE_KEYS: ReadonlyMap<string, ['internaldate' | 'sentdate' | 'savedate', 'before' | 'on' | 'since']> =
  new Map([
    ['BEFORE', ['internaldate', 'before']],
    ['ON', ['internaldate', 'on']],
    ['SINCE', ['internaldate', 'since']],
    ['SENTBEFORE', ['sentdate', 'before']],
    ['SENTON', ['sentdate', 'on']],
    ['SENTSINCE', ['sentdate', 'since']],
    ['SAVEDBEFORE', ['savedate', 'before']],
    ['SAVEDON', ['savedate', 'on']],
    ['SAVEDSINCE', ['savedate', 'since']],
  ]);

function clone(key: SearchKey): SearchKey {
  return structuredClone(key);
}

function readDate(r: Reader, key: string): SearchDate {
  const text = r.peek() === DQUOTE ? r.readString('date') : r.readAtom('date');
  const date = parseSearchDate(text);
  if (!date) fail(`Invalid date for ${key} (expected e.g. 1-Feb-1994)`);
  return date;
}

function readKey(r: Reader, depth: number, maxDepth: number): SearchKey {
  if (depth > maxDepth) fail('Search keys nested too deeply');
  const b = r.peek();
  if (b === LPAREN) {
    r.pos++;
    const keys: SearchKey[] = [];
    for (;;) {
      keys.push(readKey(r, depth + 1, maxDepth));
      if (r.tryByte(RPAREN)) break;
      if (r.peek() !== SP) r.unexpected('space or ")" in search key list');
      r.pos++;
    }
    return keys.length === 1 ? keys[0]! : { type: 'and', keys };
  }
  if (isDigit(b) || b === STAR || b === DOLLAR) return { type: 'seq', set: r.readSequenceSet() };

  const word = r.readAtom('search key').toUpperCase();
  const flagKey = FLAG_KEYS.get(word);
  if (flagKey) return clone(flagKey);
  const header = HEADER_KEYS.get(word);
  if (header) {
    r.sp(`${word} string`);
    return { type: 'header', field: header, value: r.readAstring(`${word} string`) };
  }
  const dateKey = DATE_KEYS.get(word);
  if (dateKey) {
    r.sp(`${word} date`);
    return { type: dateKey[0], op: dateKey[1], date: readDate(r, word) };
  }
  switch (word) {
    case 'ALL':
      return { type: 'all' };
    case 'EMAILID':
      r.sp('EMAILID');
      return { type: 'emailid', id: r.readAtom('EMAILID') };
    case 'THREADID':
      r.sp('THREADID');
      return { type: 'threadid', id: r.readAtom('THREADID') };
    case 'SAVEDATESUPPORTED':
      // RFC 8514: every message of a mailbox that keeps save dates (all of ours do).
      return { type: 'all' };
    case 'NEW':
      return { type: 'and', keys: [flag('\\Recent', true), flag('\\Seen', false)] };
    case 'OLD':
      return { type: 'not', key: flag('\\Recent', true) };
    case 'KEYWORD':
    case 'UNKEYWORD':
      r.sp('keyword');
      return flag(r.readAtom('keyword'), word === 'KEYWORD');
    case 'BODY':
    case 'TEXT':
      r.sp(`${word} string`);
      return { type: word === 'BODY' ? 'body' : 'text', value: r.readAstring(`${word} string`) };
    case 'HEADER': {
      r.sp('header field name');
      const field = r.readAstring('header field name');
      if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field)) fail('Invalid header field name');
      r.sp('HEADER string');
      return { type: 'header', field: field.toLowerCase(), value: r.readAstring('HEADER string') };
    }
    case 'LARGER':
    case 'SMALLER':
      r.sp('size');
      return {
        type: 'size',
        op: word === 'LARGER' ? 'larger' : 'smaller',
        size: r.readNumber('size', Number.MAX_SAFE_INTEGER),
      };
    case 'UID':
      r.sp('UID set');
      return { type: 'uid', set: r.readSequenceSet() };
    case 'NOT':
      r.sp('search key after NOT');
      return { type: 'not', key: readKey(r, depth + 1, maxDepth) };
    case 'OR': {
      r.sp('search key after OR');
      const left = readKey(r, depth + 1, maxDepth);
      r.sp('second search key of OR');
      const right = readKey(r, depth + 1, maxDepth);
      return { type: 'or', left, right };
    }
    case 'YOUNGER':
    case 'OLDER':
      r.sp('interval');
      return {
        type: 'age',
        op: word === 'YOUNGER' ? 'younger' : 'older',
        seconds: r.readNzNumber('interval'),
      };
    case 'MODSEQ': {
      r.sp('MODSEQ value');
      if (r.peek() === DQUOTE) {
        const name = r.readString('MODSEQ entry name');
        if (!/^\/flags\/\\?[\x21-\x7e]+$/i.test(name)) fail('Invalid MODSEQ entry name');
        r.sp('MODSEQ entry type');
        const entryType = r.readAtom('MODSEQ entry type').toLowerCase();
        if (entryType !== 'priv' && entryType !== 'shared' && entryType !== 'all') {
          fail('MODSEQ entry type must be priv, shared or all');
        }
        r.sp('MODSEQ value');
        return { type: 'modseq', modSeq: r.readModSeq(), entry: { name, entryType } };
      }
      return { type: 'modseq', modSeq: r.readModSeq() };
    }
    default:
      return fail(`Unknown search key ${word}`);
  }
}

export interface SearchArguments {
  charset: string | null;
  returnOptions: SearchReturnOption[] | null;
  partial: PartialRange | null;
  criteria: SearchKey;
}

export interface ReturnOptions {
  options: SearchReturnOption[] | null;
  partial: PartialRange | null;
}

/** Everything after `SEARCH ` (the reader is just past the space). */
/**
 * `RETURN (options) ` before the criteria (ESEARCH, ESORT), or null without RETURN. `RETURN ()`
 * means ALL (RFC 4731 3.1).
 */
export function readReturnOptions(r: Reader, next: string): ReturnOptions {
  if (!r.tryWord('RETURN')) return { options: null, partial: null };
  r.sp('RETURN options');
  let partial: PartialRange | null = null;
  const options = r.readList(
    'RETURN option list',
    () => {
      const option = r.readAtom('RETURN option').toUpperCase();
      if (!RETURN_OPTIONS.has(option)) fail(`Unknown RETURN option ${option}`);
      if (option === 'PARTIAL') {
        if (partial !== null) fail('PARTIAL given twice');
        r.sp('PARTIAL range');
        partial = parsePartialRange(r.readAtom('PARTIAL range'));
      }
      return option as SearchReturnOption;
    },
    true,
  );
  r.sp(next);
  return { options: options.length === 0 ? ['ALL'] : [...new Set(options)], partial };
}

export function readSearch(r: Reader, maxDepth = DEFAULT_MAX_SEARCH_DEPTH): SearchArguments {
  const { options: returnOptions, partial } = readReturnOptions(r, 'search criteria');
  let charset: string | null = null;
  if (r.tryWord('CHARSET')) {
    r.sp('charset');
    charset = readCharset(r);
    r.sp('search criteria');
  }
  return { charset, returnOptions, partial, criteria: readSearchKeys(r, maxDepth) };
}

/** A charset name SEARCH, SORT and THREAD accept, upper-cased; others are a `bad-charset` error. */
export function readCharset(r: Reader): string {
  const name = r.readAstring('charset');
  const upper = name.toUpperCase();
  if (!(SEARCH_CHARSETS as readonly string[]).includes(upper)) {
    fail(`Unsupported charset ${name.replace(/[^\x20-\x7e]/g, '?')}`, 'bad-charset', name);
  }
  return upper;
}

/** One or more search keys up to the end of the command (an implicit AND). */
export function readSearchKeys(r: Reader, maxDepth = DEFAULT_MAX_SEARCH_DEPTH): SearchKey {
  const keys: SearchKey[] = [readKey(r, 1, maxDepth)];
  while (r.trySp()) keys.push(readKey(r, 1, maxDepth));
  r.end();
  return keys.length === 1 ? keys[0]! : { type: 'and', keys };
}
