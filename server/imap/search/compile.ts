/**
 * A parsed SEARCH key tree turned into a matcher tree: values prepared once (needles case-folded,
 * dates as day numbers, sets as sorted ranges) and each node marked with the cost of the data it
 * needs. AND children and OR branches are ordered cheapest first, so that evaluation can decide
 * most messages from the session's view (flags, numbers) before reading any message data.
 */
import { resolveRanges, type SearchKey, type SequenceSet } from '../parser/index.ts';
import { foldCase, isAddressField } from './content.ts';
import { searchDay } from './dates.ts';
import { isFilterableNeedle } from './raw-filter.ts';

/** What a node needs, cheapest first. */
export const Cost = {
  /** Flags, sequence numbers, UIDs, MODSEQ: the session's view. */
  view: 0,
  /** Size and internal date: the message's summary row. */
  summary: 1,
  /** The sent date: the MIME index. */
  index: 2,
  /** Header fields and text: the raw message (ruled out on its bytes when possible), then the index. */
  content: 3,
} as const;
export type Cost = (typeof Cost)[keyof typeof Cost];

export type DateOp = 'before' | 'on' | 'since';

export type MatchNode =
  | { kind: 'const'; value: boolean; cost: Cost }
  | { kind: 'and'; nodes: MatchNode[]; cost: Cost }
  | { kind: 'or'; nodes: [MatchNode, MatchNode]; cost: Cost }
  | { kind: 'not'; node: MatchNode; cost: Cost }
  | { kind: 'seq' | 'uid'; ranges: Array<[number, number]>; cost: Cost }
  /** `flag` is lower-cased; \Recent is the session's own notion, not a stored flag. */
  | { kind: 'flag'; flag: string; recent: boolean; set: boolean; cost: Cost }
  | { kind: 'modseq'; min: number; cost: Cost }
  | { kind: 'size'; op: 'larger' | 'smaller'; size: number; cost: Cost }
  | { kind: 'emailid'; id: string; cost: Cost }
  | { kind: 'threadid'; id: string; cost: Cost }
  | { kind: 'internaldate' | 'sentdate' | 'savedate'; op: DateOp; day: number; cost: Cost }
  /** YOUNGER: internal date at or after `threshold` (epoch ms); OLDER: before it. */
  | { kind: 'age'; op: 'younger' | 'older'; threshold: number; cost: Cost }
  /** `filterable`: the raw-bytes filter can rule out messages for this needle (search/raw-filter.ts). */
  | { kind: 'header'; field: string; needle: string; filterable: boolean; cost: Cost }
  | { kind: 'body' | 'text'; needle: string; filterable: boolean; cost: Cost };

export interface CompileContext {
  /** Messages in the view (`*` of sequence sets). */
  exists: number;
  /** Highest UID in the view (`*` of UID sets), 0 when empty. */
  maxUid: number;
  /** Now, epoch ms (YOUNGER/OLDER). */
  now: number;
  /** `$` (SEARCHRES): the saved result's sequence numbers and UIDs; empty when not given. */
  saved?: { seqs: readonly number[]; uids: readonly number[] };
}

export interface CompiledSearch {
  root: MatchNode;
  /** The criteria contain MODSEQ: the response carries the highest MODSEQ (RFC 7162 3.1.5). */
  hasModseq: boolean;
  /** The costliest data any node needs. */
  cost: Cost;
  /** Some node needs the MIME index alone (worth a try before reading the raw message). */
  usesIndex: boolean;
}

function ranges(set: SequenceSet, max: number, saved: readonly number[] = []): Array<[number, number]> {
  return resolveRanges(set, max, saved);
}

const maxCost = (nodes: readonly MatchNode[]): Cost =>
  nodes.reduce<Cost>((cost, node) => (node.cost > cost ? node.cost : cost), Cost.view);

class Compiler {
  hasModseq = false;
  usesIndex = false;

  constructor(private readonly context: CompileContext) {}

  compile(key: SearchKey): MatchNode {
    switch (key.type) {
      case 'all':
        return { kind: 'const', value: true, cost: Cost.view };
      case 'and':
        return this.and(key.keys.map((child) => this.compile(child)));
      case 'or': {
        const pair = [this.compile(key.left), this.compile(key.right)].sort((a, b) => a.cost - b.cost);
        return { kind: 'or', nodes: pair as [MatchNode, MatchNode], cost: maxCost(pair) };
      }
      case 'not': {
        const node = this.compile(key.key);
        return { kind: 'not', node, cost: node.cost };
      }
      case 'seq':
        return {
          kind: 'seq',
          ranges: ranges(key.set, this.context.exists, this.context.saved?.seqs),
          cost: Cost.view,
        };
      case 'uid':
        return {
          kind: 'uid',
          ranges: ranges(key.set, this.context.maxUid, this.context.saved?.uids),
          cost: Cost.view,
        };
      case 'flag': {
        const flag = foldCase(key.flag);
        return { kind: 'flag', flag, recent: flag === '\\recent', set: key.set, cost: Cost.view };
      }
      case 'modseq':
        this.hasModseq = true;
        return { kind: 'modseq', min: key.modSeq, cost: Cost.view };
      case 'size':
        return { kind: 'size', op: key.op, size: key.size, cost: Cost.summary };
      case 'emailid':
        return { kind: 'emailid', id: key.id, cost: Cost.summary };
      case 'threadid':
        return { kind: 'threadid', id: key.id, cost: Cost.summary };
      case 'internaldate':
      case 'savedate':
        return { kind: key.type, op: key.op, day: searchDay(key.date), cost: Cost.summary };
      case 'age': {
        const threshold = this.context.now - key.seconds * 1000;
        return { kind: 'age', op: key.op, threshold, cost: Cost.summary };
      }
      case 'sentdate':
        this.usesIndex = true;
        return { kind: 'sentdate', op: key.op, day: searchDay(key.date), cost: Cost.index };
      case 'header': {
        const needle = foldCase(key.value);
        // An address is put together from its parts (comments dropped), so the raw bytes need not
        // contain it: the raw pre-filter cannot rule a message out for an address field.
        const filterable = isFilterableNeedle(needle) && !isAddressField(key.field);
        return { kind: 'header', field: key.field, needle, filterable, cost: Cost.content };
      }
      case 'body':
      case 'text': {
        const needle = foldCase(key.value);
        return { kind: key.type, needle, filterable: isFilterableNeedle(needle), cost: Cost.content };
      }
    }
  }

  private and(children: MatchNode[]): MatchNode {
    // Stable sort: equal-cost keys keep the client's order.
    const nodes = children.sort((a, b) => a.cost - b.cost);
    return nodes.length === 1 ? nodes[0]! : { kind: 'and', nodes, cost: maxCost(nodes) };
  }
}

export function compileSearch(criteria: SearchKey, context: CompileContext): CompiledSearch {
  const compiler = new Compiler(context);
  const root = compiler.compile(criteria);
  return { root, hasModseq: compiler.hasModseq, cost: root.cost, usesIndex: compiler.usesIndex };
}
