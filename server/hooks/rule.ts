/**
 * What a rule kind implements (one file per kind in rules/). The runner builds one evaluator per
 * stored rule, asks them in order, and the first one that decides wins.
 *
 * A rule decides at one or both phases: `connect` (before the greeting) and `auth` (before a
 * password is checked). `null` means "no decision, ask the next rule". An evaluator may return a
 * promise; the runner bounds it with a timeout, and a rule that throws, rejects or times out
 * refuses (fails closed).
 */
import type { ConnectionRule, ConnectionRuleKind } from '../store/types.ts';
import type { ConnectionSession } from './types.ts';

export type Decision = 'allow' | 'deny' | null;

/** Counts of the connections currently open from one address, per protocol. */
export interface ConnectionCounts {
  /** Open connections from `ip` on the given protocols (all when empty), this one included. */
  count(ip: string, protocols: readonly string[]): number;
}

export interface RuleContext {
  session: ConnectionSession;
  /** Canonical remote address (normalizeIp): the per-IP key. */
  ip: string;
  /** The remote address as 16 bytes, null when it is no IP address (e.g. a Unix socket). */
  address: Uint8Array | null;
  /** Epoch milliseconds (injectable for tests). */
  now: number;
  /** A dry run (`test()`): decide without recording anything. */
  dryRun: boolean;
  connections: ConnectionCounts;
}

export interface AuthContext extends RuleContext {
  /** The login name as the client gave it. */
  username: string;
}

export interface RuleEvaluator {
  readonly rule: ConnectionRule;
  /** Sent to the client on refusal: says what happened, not which rule decided. */
  readonly reason: string;
  /** Whether the refusal may pass by itself (SMTP 421 rather than 554). */
  readonly temporary: boolean;
  connect?(context: RuleContext): Decision | Promise<Decision>;
  auth?(context: AuthContext): Decision | Promise<Decision>;
  /** Records a failed login (lockout). */
  authFailure?(context: AuthContext): void;
  /** Forgets an attempt this rule counted in `auth` that ended without a wrong password. */
  authRelease?(context: AuthContext): void;
  /**
   * Whether a login on this connection needs TLS: true (require it), false (this rule admits the
   * address whatever follows, as `allow` does), null (ask the next rule). Synchronous: asked for
   * every capability list.
   */
  tlsRequired?(context: RuleContext): boolean | null;
  /** Forgets per-address state older than it can matter (called every poll). */
  prune?(now: number): void;
}

/**
 * Builds the evaluator of a stored rule. `previous` is the evaluator of the same rule id before a
 * reload, so per-address state (rate windows, failure counts) survives edits of other rules.
 * Throwing marks the rule broken: it then refuses every connection in its scope.
 */
export type RuleFactory = (rule: ConnectionRule, previous: RuleEvaluator | undefined) => RuleEvaluator;

export type RuleFactories = Record<ConnectionRuleKind, RuleFactory>;

/** Reasons given to clients: what happened, never which rule, range or limit decided. */
export const REASONS = {
  denied: 'Connection refused',
  tooMany: 'Too many connections from your address',
  tooFast: 'Too many connections from your address, try again later',
  failed: 'Service temporarily unavailable, try again later',
  auth: 'Authentication failed',
} as const;

/** One-line description of a rule for people (CLI, logs): `deny 10.0.0.0/8`, `lockout 5 in 900s`. */
export function describeRule(rule: ConnectionRule): string {
  switch (rule.kind) {
    case 'allow':
    case 'deny':
      return `${rule.kind} ${rule.cidrs.join(',')}`;
    case 'max-conn':
      return `max-conn ${rule.limit ?? '?'} per IP`;
    case 'rate':
      return `rate ${rule.limit ?? '?'}/min per IP`;
    case 'lockout':
      return `lockout ${rule.limit ?? '?'} failures in ${rule.windowSeconds ?? '?'}s`;
    case 'require-tls':
      return 'require-tls';
    default:
      return String(rule.kind as string);
  }
}
