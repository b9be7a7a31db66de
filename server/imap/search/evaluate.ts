/**
 * Evaluates a matcher tree against one message with three-valued logic: a node whose data is not
 * loaded yet answers `null` (unknown). AND is false as soon as one child is false, OR true as soon as
 * one branch is true, whatever the unknowns, so the caller loads a message's index or body only when
 * the cheaper keys could not decide.
 */
import { emailIdOf } from '../object-id.ts';
import type { MimeIndex } from '../../mime/index.ts';
import type { MessageSummary } from '../../store/types.ts';
import type { MatchNode } from './compile.ts';
import { isAddressField, type MessageText } from './content.ts';
import { localDay, sentDay } from './dates.ts';
import type { RawText } from './raw-filter.ts';

export type Verdict = boolean | null;

/** One message under evaluation; the data fields stay null until loaded. */
export interface SearchSubject {
  seq: number;
  uid: number;
  flags: readonly string[];
  recent: boolean;
  modseq: number;
  summary: MessageSummary | null;
  index: MimeIndex | null;
  /** The raw bytes, for the quick negative filter before anything is decoded. */
  raw: RawText | null;
  /** The decoded text (needs the bytes and the index). */
  text: MessageText | null;
  /**
   * Verdicts of content keys decided elsewhere, by node: all of them by a parse worker (a big
   * message: then neither `raw` nor `text` is loaded here), or some as false by a store's text
   * index (run.ts). A key not in the map is decided here. Null: none.
   */
  content?: ReadonlyMap<MatchNode, Verdict> | null;
}

/** Binary search in sorted, disjoint, inclusive ranges. */
export function inRanges(ranges: ReadonlyArray<readonly [number, number]>, n: number): boolean {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [from, to] = ranges[middle]!;
    if (n < from) high = middle - 1;
    else if (n > to) low = middle + 1;
    else return true;
  }
  return false;
}

function hasFlag(flags: readonly string[], folded: string): boolean {
  for (const flag of flags) {
    if (flag.length === folded.length && flag.toLowerCase() === folded) return true;
  }
  return false;
}

function compareDay(op: 'before' | 'on' | 'since', day: number, wanted: number): boolean {
  if (op === 'before') return day < wanted;
  if (op === 'on') return day === wanted;
  return day >= wanted;
}

function sentDayOf(index: MimeIndex): number | null {
  const header = index.envelope[0];
  return sentDay(typeof header === 'string' ? header : null, index.date);
}

function and(nodes: readonly MatchNode[], subject: SearchSubject): Verdict {
  let verdict: Verdict = true;
  for (const node of nodes) {
    const result = evaluate(node, subject);
    if (result === false) return false;
    if (result === null) verdict = null;
  }
  return verdict;
}

function or(nodes: readonly MatchNode[], subject: SearchSubject): Verdict {
  let verdict: Verdict = false;
  for (const node of nodes) {
    const result = evaluate(node, subject);
    if (result === true) return true;
    if (result === null) verdict = null;
  }
  return verdict;
}

export function evaluate(node: MatchNode, subject: SearchSubject): Verdict {
  switch (node.kind) {
    case 'const':
      return node.value;
    case 'and':
      return and(node.nodes, subject);
    case 'or':
      return or(node.nodes, subject);
    case 'not': {
      const result = evaluate(node.node, subject);
      return result === null ? null : !result;
    }
    case 'seq':
      return inRanges(node.ranges, subject.seq);
    case 'uid':
      return inRanges(node.ranges, subject.uid);
    case 'flag':
      return (node.recent ? subject.recent : hasFlag(subject.flags, node.flag)) === node.set;
    case 'modseq':
      return subject.modseq >= node.min;
    case 'size': {
      if (subject.summary === null) return null;
      const size = subject.summary.size;
      return node.op === 'larger' ? size > node.size : size < node.size;
    }
    case 'internaldate':
      if (subject.summary === null) return null;
      return compareDay(node.op, localDay(subject.summary.internalDate), node.day);
    case 'emailid':
      if (subject.summary === null) return null;
      return emailIdOf(subject.summary.blobId) === node.id;
    case 'threadid':
      if (subject.summary === null) return null;
      return subject.summary.threadId === node.id;
    case 'savedate':
      // A message stored before save dates were recorded is searched by its internal date.
      if (subject.summary === null) return null;
      return compareDay(node.op, localDay(subject.summary.savedAt ?? subject.summary.internalDate), node.day);
    case 'age': {
      if (subject.summary === null) return null;
      const time = subject.summary.internalDate.getTime();
      return node.op === 'younger' ? time >= node.threshold : time < node.threshold;
    }
    case 'sentdate': {
      if (subject.index === null) return null;
      const day = sentDayOf(subject.index);
      return day !== null && compareDay(node.op, day, node.day);
    }
    case 'header':
    case 'body':
    case 'text':
      return contentVerdict(node, subject);
  }
}

export type ContentNode = Extract<MatchNode, { kind: 'header' | 'body' | 'text' }>;

function contentVerdict(node: ContentNode, subject: SearchSubject): Verdict {
  const computed = subject.content?.get(node);
  if (computed !== undefined) return computed;
  const { text } = subject;
  if (text === null) {
    if (node.filterable && subject.raw !== null && subject.raw.excludes(node.needle)) return false;
    return null;
  }
  if (node.kind === 'header') {
    if (isAddressField(node.field)) return text.addressContains(node.field, node.needle);
    return text.headerContains(node.field, node.needle);
  }
  if (node.kind === 'body') return text.body().includes(node.needle);
  return text.textContains(node.needle);
}
