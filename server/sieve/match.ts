/**
 * Match types (RFC 5228 section 2.7.1: :is, :contains, :matches; RFC 5231: :value and :count with a
 * relation; the regex draft: :regex), comparators, and the match variables :matches and :regex set
 * for ${1}... (RFC 5229 section 3.2). Shared by every test that compares strings.
 */
import type { TestNode } from './ast.ts';
import { compare, COMPARATORS, normalizeFor, type ComparatorName } from './comparators.ts';
import type { TagDefinition, ValidationContext } from './definition.ts';
import { SieveCompileError, SieveRuntimeError } from './errors.ts';
import type { Runtime } from './runtime.ts';

export type MatchType = 'is' | 'contains' | 'matches' | 'regex' | 'value' | 'count';
export type Relation = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';

export interface MatchOptions {
  type: MatchType;
  relation: Relation;
  comparator: ComparatorName;
}

export const MATCH_TAGS: Record<string, TagDefinition> = {
  comparator: { argument: 'string' },
  is: { group: 'match-type' },
  contains: { group: 'match-type' },
  matches: { group: 'match-type' },
  regex: { group: 'match-type', extension: 'regex' },
  value: { group: 'match-type', extension: 'relational', argument: 'string' },
  count: { group: 'match-type', extension: 'relational', argument: 'string' },
};

const RELATIONS = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'];

function stringTag(node: TestNode, tag: string): string | null {
  const value = node.tags.get(tag);
  return value !== undefined && value !== true && value.kind === 'string' ? value.value : null;
}

export function matchOptions(node: TestNode): MatchOptions {
  const type =
    (['contains', 'matches', 'regex', 'value', 'count'] as const).find((tag) => node.tags.has(tag)) ?? 'is';
  const relation = (stringTag(node, type) ?? 'eq').toLowerCase() as Relation;
  const comparator = (stringTag(node, 'comparator') ?? 'i;ascii-casemap').toLowerCase() as ComparatorName;
  return { type, relation, comparator };
}

/** Compile-time checks: known comparator and relation, comparator required, regex keys valid. */
export function validateMatch(node: TestNode, context: ValidationContext, keys: string[] | null): void {
  const options = matchOptions(node);
  const comparatorTag = node.tags.get('comparator');
  const position =
    comparatorTag !== undefined && comparatorTag !== true ? comparatorTag.position : node.position;
  if (!COMPARATORS.includes(options.comparator)) {
    throw new SieveCompileError(`unknown comparator "${options.comparator}"`, position);
  }
  if (options.comparator === 'i;ascii-numeric' && !context.extensions.has('comparator-i;ascii-numeric')) {
    throw new SieveCompileError(
      'comparator "i;ascii-numeric" used without require "comparator-i;ascii-numeric"',
      position,
    );
  }
  if ((options.type === 'value' || options.type === 'count') && !RELATIONS.includes(options.relation)) {
    throw new SieveCompileError(`unknown relational match "${options.relation}"`, node.position);
  }
  const substring = options.type === 'contains' || options.type === 'matches' || options.type === 'regex';
  if (substring && options.comparator === 'i;ascii-numeric') {
    throw new SieveCompileError(`comparator "i;ascii-numeric" does not support :${options.type}`, position);
  }
  if (options.type === 'regex' && keys !== null && !context.extensions.has('variables')) {
    for (const key of keys) compileRegex(key, options.comparator, node);
  }
}

function compileRegex(key: string, comparator: ComparatorName, node: TestNode): RegExp {
  try {
    return new RegExp(key, comparator === 'i;ascii-casemap' ? 'is' : 's');
  } catch {
    throw new SieveCompileError(`invalid regular expression ${JSON.stringify(key)}`, node.position);
  }
}

function relationHolds(relation: Relation, order: number): boolean {
  switch (relation) {
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
  }
}

/** A :matches pattern as an anchored regular expression with one group per wildcard. */
function wildcardRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') source += '(.*?)';
    else if (ch === '?') source += '(.)';
    else {
      const literal = ch === '\\' && i + 1 < pattern.length ? (pattern[++i] as string) : ch;
      source += literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 'sud');
}

/** Matches one value against one key; returns the match variables ([] for other types), or null. */
function matchOne(options: MatchOptions, value: string, key: string, node: TestNode): string[] | null {
  const { comparator } = options;
  switch (options.type) {
    case 'is':
      return compare(comparator, value, key) === 0 ? [] : null;
    case 'contains':
      return normalizeFor(comparator, value).includes(normalizeFor(comparator, key)) ? [] : null;
    case 'value':
      return relationHolds(options.relation, compare(comparator, value, key)) ? [] : null;
    case 'matches': {
      // The pattern runs on the folded text; the groups are cut from the original (folding keeps
      // lengths), so ${1} keeps the case the message had.
      const found = wildcardRegex(normalizeFor(comparator, key)).exec(normalizeFor(comparator, value));
      if (found === null) return null;
      return groupsOf(found, value);
    }
    case 'regex': {
      let regex: RegExp;
      try {
        regex = new RegExp(key, comparator === 'i;ascii-casemap' ? 'isd' : 'sd');
      } catch {
        throw new SieveRuntimeError(`invalid regular expression ${JSON.stringify(key)}`, node.position);
      }
      const found = regex.exec(value);
      return found === null ? null : groupsOf(found, value);
    }
    case 'count':
      return null;
  }
}

function groupsOf(found: RegExpExecArray, original: string): string[] {
  const groups: string[] = [];
  const indices = found.indices;
  for (let i = 0; i < found.length; i++) {
    const span = indices?.[i];
    groups.push(span === undefined ? (found[i] ?? '') : original.slice(span[0], span[1]));
  }
  return groups;
}

/**
 * Whether any value matches any key. :count compares the number of values with each key. A match
 * with :matches or :regex sets the match variables (when the script uses variables).
 */
export function matchAny(
  runtime: Runtime,
  node: TestNode,
  options: MatchOptions,
  values: string[],
  keys: string[],
): boolean {
  if (options.type === 'count') {
    const count = String(values.length);
    return keys.some((key) => relationHolds(options.relation, compare(options.comparator, count, key)));
  }
  for (const value of values) {
    for (const key of keys) {
      runtime.step();
      const groups = matchOne(options, value, key, node);
      if (groups === null) continue;
      if (options.type === 'matches') runtime.setMatchVariables([value, ...groups.slice(1)]);
      else if (options.type === 'regex') runtime.setMatchVariables(groups);
      return true;
    }
  }
  return false;
}
