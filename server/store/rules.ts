/**
 * Validation of connection rules, shared by the engines: what each kind needs, canonical CIDR
 * text, known protocols. Engines store what these functions return and nothing else.
 */
import { CidrError, normalizeCidr } from '../hooks/cidr.ts';
import { StoreError } from './errors.ts';
import {
  CONNECTION_RULE_KINDS,
  RULE_PROTOCOLS,
  type ConnectionRuleKind,
  type ConnectionRulePatch,
  type NewConnectionRule,
  type RuleProtocol,
} from './types.ts';

/** Upper bounds that keep the per-IP state of a rule small. */
export const MAX_RULE_LIMIT = 100_000;
export const MAX_RULE_WINDOW_SECONDS = 30 * 24 * 60 * 60;
export const MAX_RULE_CIDRS = 10_000;
export const MAX_RULE_NOTE = 1000;

/** The stored fields of a rule, validated (everything but id, position and times). */
export interface RuleFields {
  kind: ConnectionRuleKind;
  cidrs: string[];
  limit: number | null;
  windowSeconds: number | null;
  protocols: RuleProtocol[];
  enabled: boolean;
  note: string;
}

const LIMIT_WORDS: Partial<Record<ConnectionRuleKind, string>> = {
  'max-conn': 'a number of concurrent connections',
  rate: 'a number of connections per minute',
  lockout: 'a number of failed logins',
};

/** "a deny rule", "an allow rule". */
function aRule(kind: ConnectionRuleKind): string {
  return `${kind === 'allow' ? 'an' : 'a'} ${kind} rule`;
}

function invalid(message: string): StoreError {
  return new StoreError('INVALID', message);
}

function validateKind(kind: unknown): ConnectionRuleKind {
  if (!CONNECTION_RULE_KINDS.includes(kind as ConnectionRuleKind)) {
    throw invalid(`unknown rule kind ${JSON.stringify(kind)}: expected ${CONNECTION_RULE_KINDS.join(', ')}`);
  }
  return kind as ConnectionRuleKind;
}

function validateCidrs(kind: ConnectionRuleKind, cidrs: unknown): string[] {
  const list = cidrs ?? [];
  if (!Array.isArray(list) || list.some((cidr) => typeof cidr !== 'string')) {
    throw invalid('cidrs must be a list of addresses or CIDR ranges');
  }
  if (kind !== 'allow' && kind !== 'deny') {
    if (list.length > 0) throw invalid(`${aRule(kind)} takes no address ranges`);
    return [];
  }
  if (list.length === 0) throw invalid(`${aRule(kind)} needs at least one address or CIDR range`);
  if (list.length > MAX_RULE_CIDRS) throw invalid(`at most ${MAX_RULE_CIDRS} ranges per rule`);
  const canonical: string[] = [];
  for (const cidr of list as string[]) {
    try {
      const text = normalizeCidr(cidr);
      if (!canonical.includes(text)) canonical.push(text);
    } catch (error) {
      if (error instanceof CidrError) throw invalid(error.message);
      throw error;
    }
  }
  return canonical;
}

function validateCount(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw invalid(`${what}: expected a whole number from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function validateLimit(kind: ConnectionRuleKind, limit: unknown): number | null {
  const words = LIMIT_WORDS[kind];
  if (!words) {
    if (limit !== undefined && limit !== null) throw invalid(`${aRule(kind)} takes no limit`);
    return null;
  }
  if (limit === undefined || limit === null) throw invalid(`${aRule(kind)} needs a limit (${words})`);
  return validateCount(limit, `${kind} limit`, MAX_RULE_LIMIT);
}

function validateWindow(kind: ConnectionRuleKind, windowSeconds: unknown): number | null {
  if (kind !== 'lockout') {
    if (windowSeconds !== undefined && windowSeconds !== null)
      throw invalid(`${aRule(kind)} takes no window`);
    return null;
  }
  if (windowSeconds === undefined || windowSeconds === null) {
    throw invalid('a lockout rule needs a window (seconds)');
  }
  return validateCount(windowSeconds, 'lockout window', MAX_RULE_WINDOW_SECONDS);
}

function validateProtocols(protocols: unknown): RuleProtocol[] {
  const list = protocols ?? [];
  if (!Array.isArray(list)) throw invalid('protocols must be a list');
  for (const protocol of list) {
    if (!RULE_PROTOCOLS.includes(protocol as RuleProtocol)) {
      throw invalid(`unknown protocol ${JSON.stringify(protocol)}: expected ${RULE_PROTOCOLS.join(', ')}`);
    }
  }
  // Kept in a fixed order, once each.
  return RULE_PROTOCOLS.filter((protocol) => list.includes(protocol));
}

function validateNote(note: unknown): string {
  if (note === undefined) return '';
  if (typeof note !== 'string') throw invalid('note must be a string');
  if (note.length > MAX_RULE_NOTE) throw invalid(`note longer than ${MAX_RULE_NOTE} characters`);
  return note;
}

function validateEnabled(enabled: unknown): boolean {
  if (enabled === undefined) return true;
  if (typeof enabled !== 'boolean') throw invalid('enabled must be true or false');
  return enabled;
}

export function validateRule(input: NewConnectionRule | RuleFields): RuleFields {
  if (typeof input !== 'object' || input === null) throw invalid('a rule must be an object');
  const kind = validateKind(input.kind);
  return {
    kind,
    cidrs: validateCidrs(kind, input.cidrs),
    limit: validateLimit(kind, input.limit),
    windowSeconds: validateWindow(kind, input.windowSeconds),
    protocols: validateProtocols(input.protocols),
    enabled: validateEnabled(input.enabled),
    note: validateNote(input.note),
  };
}

/**
 * The fields after applying `patch` to `current`. Changing the kind drops the old values the new
 * kind does not take (unless the patch gives them), so `{ kind: 'deny', cidrs: [...] }` turns a
 * max-conn rule into a deny rule, and `{ kind: 'rate' }` keeps a max-conn rule's limit.
 */
export function applyRulePatch(current: RuleFields, patch: ConnectionRulePatch): RuleFields {
  if (typeof patch !== 'object' || patch === null) throw invalid('a rule patch must be an object');
  const kind = patch.kind === undefined ? current.kind : validateKind(patch.kind);
  const takesCidrs = kind === 'allow' || kind === 'deny';
  const takesLimit = LIMIT_WORDS[kind] !== undefined;
  return validateRule({
    kind,
    cidrs: patch.cidrs ?? (takesCidrs ? current.cidrs : []),
    limit: patch.limit !== undefined ? patch.limit : takesLimit ? current.limit : null,
    windowSeconds:
      patch.windowSeconds !== undefined
        ? patch.windowSeconds
        : kind === 'lockout'
          ? current.windowSeconds
          : null,
    protocols: patch.protocols ?? current.protocols,
    enabled: patch.enabled ?? current.enabled,
    note: patch.note ?? current.note,
  });
}

/** A requested position as a whole number, or INVALID. */
export function validatePosition(position: unknown): number {
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 1) {
    throw invalid(`position: expected a whole number from 1, got ${JSON.stringify(position)}`);
  }
  return position;
}
