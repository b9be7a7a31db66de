/**
 * Badges keep their full text in table cells: without this a cell squeezes a badge down to an
 * ellipsis, since a badge hides its overflow.
 */
export const FIT = 'max-content';

/** What each rule kind means, which fields it takes, and how a rule reads in one line. */
import type { Rule, RuleKind } from '../../api/rules.ts';
import { countOf } from '../format.ts';

/** "3 connections", "1 connection", or "? connections" for a rule without its limit. */
function limitOf(rule: Pick<Rule, 'limit'>, word: string): string {
  return typeof rule.limit === 'number' ? countOf(rule.limit, word) : `? ${word}s`;
}

export interface KindInfo {
  label: string;
  color: string;
  description: string;
  /** allow / deny: address ranges. */
  cidrs: boolean;
  /** What the limit counts, when the kind takes one. */
  limitLabel: string | null;
  /** lockout: the window failures are counted in. */
  window: boolean;
}

export const KINDS: Record<RuleKind, KindInfo> = {
  allow: {
    label: 'Allow',
    color: 'teal',
    description: 'Connections from these addresses are let in; later rules are not asked.',
    cidrs: true,
    limitLabel: null,
    window: false,
  },
  deny: {
    label: 'Deny',
    color: 'red',
    description: 'Connections from these addresses are refused before the greeting.',
    cidrs: true,
    limitLabel: null,
    window: false,
  },
  'max-conn': {
    label: 'Max connections',
    color: 'orange',
    description: 'Refuses a client IP that already has this many connections open.',
    cidrs: false,
    limitLabel: 'Concurrent connections per IP',
    window: false,
  },
  rate: {
    label: 'Rate limit',
    color: 'yellow',
    description: 'Refuses a client IP that opens more than this many connections per minute.',
    cidrs: false,
    limitLabel: 'Connections per minute per IP',
    window: false,
  },
  lockout: {
    label: 'Login lockout',
    color: 'grape',
    description:
      'After this many failed logins (per IP or per account) within the window, logins are refused.',
    cidrs: false,
    limitLabel: 'Failed logins',
    window: true,
  },
  'require-tls': {
    label: 'Require TLS',
    color: 'blue',
    description: 'Refuses logins on connections without TLS (implicit TLS or STARTTLS).',
    cidrs: false,
    limitLabel: null,
    window: false,
  },
};

export function kindInfo(kind: string): KindInfo {
  return KINDS[kind as RuleKind] ?? KINDS.deny;
}

/** "10.0.0.0/8, 192.0.2.1 (+3 more)", "10 per minute", "5 failures in 10m"… */
export function ruleSummary(rule: Pick<Rule, 'kind' | 'cidrs' | 'limit' | 'windowSeconds'>): string {
  switch (rule.kind) {
    case 'allow':
    case 'deny': {
      const shown = rule.cidrs.slice(0, 3).join(', ');
      return rule.cidrs.length > 3 ? `${shown} (+${rule.cidrs.length - 3} more)` : shown;
    }
    case 'max-conn':
      return `more than ${limitOf(rule, 'open connection')} per IP`;
    case 'rate':
      return `more than ${limitOf(rule, 'connection')} per minute per IP`;
    case 'lockout':
      return `${limitOf(rule, 'failed login')} within ${formatWindow(rule.windowSeconds ?? 0)}`;
    case 'require-tls':
      return 'logins without TLS';
    default:
      return '';
  }
}

export function formatWindow(seconds: number): string {
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600} h`;
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** How the rule is named in confirmations and test results: "#2 Deny 10.0.0.0/8". */
export function ruleName(
  rule: Pick<Rule, 'position' | 'kind' | 'cidrs' | 'limit' | 'windowSeconds' | 'note'>,
): string {
  const base = `#${rule.position} ${kindInfo(rule.kind).label} — ${ruleSummary(rule)}`;
  return rule.note ? `${base} (“${rule.note}”)` : base;
}
