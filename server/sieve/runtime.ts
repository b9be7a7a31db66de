/**
 * The state of one script run: the message and envelope, variables (local to each script, global
 * ones shared with included scripts, RFC 6609), the imap4flags internal variable, the match
 * variables, and the actions collected so far. Every limit of a run is enforced here: steps, time,
 * actions, redirects; crossing one is a runtime error, and delivery then keeps the message in INBOX.
 */
import type { Argument, TestNode } from './ast.ts';
import type { SieveAction, StoreAction } from './actions.ts';
import { SieveRuntimeError } from './errors.ts';
import type { SieveMessage } from './message.ts';
import { expandVariables } from './variables.ts';

export interface SieveLimits {
  /** Commands, tests and comparisons evaluated. */
  maxSteps: number;
  maxMilliseconds: number;
  /** Explicit actions (Pigeonhole's sieve_max_actions defaults to 32). */
  maxActions: number;
  /** Redirects (Pigeonhole's sieve_max_redirects defaults to 4). */
  maxRedirects: number;
  /** Nesting of include (Pigeonhole's default is 10). */
  maxIncludeDepth: number;
  /** Longest variable value, in characters. */
  maxVariableLength: number;
}

export const DEFAULT_LIMITS: SieveLimits = {
  maxSteps: 100_000,
  maxMilliseconds: 1000,
  maxActions: 32,
  maxRedirects: 4,
  maxIncludeDepth: 10,
  maxVariableLength: 4096,
};

/**
 * Vacation periods are kept within these bounds, as Pigeonhole does by default (RFC 5230 4.1: at
 * least a day, so that a short :seconds cannot turn a reply into a flood; no upper bound).
 */
export const VACATION_PERIOD = { min: 86_400, max: Infinity, default: 7 * 86_400 };

export interface SieveEnvironment {
  message: SieveMessage;
  /** MAIL FROM ("" for the null sender) and the recipient being delivered to. */
  envelope: { from: string; to: string };
  now?: Date;
  /** The zone dates are shown in when :zone is not given, as "+hhmm"; the system's when absent. */
  zone?: string;
  mailboxExists?(name: string): boolean;
  specialUseExists?(mailbox: string | null, flags: string[]): boolean;
  /** Whether this duplicate id was seen before within its period (RFC 7352). */
  duplicateSeen?(id: string): boolean;
  /** The source of an included script, or null when there is none. */
  loadScript?(name: string, location: 'personal' | 'global'): string | null;
  limits?: Partial<SieveLimits>;
}

/** The variables and capabilities of one script (each included script has its own). */
export interface Scope {
  extensions: Set<string>;
  variables: Map<string, string>;
  /** Names this script declared global. */
  globals: Set<string>;
}

export class StopSignal {}
export class ReturnSignal {}

export class Runtime {
  readonly limits: SieveLimits;
  readonly actions: SieveAction[] = [];
  implicitKeep = true;
  headerEdited = false;
  readonly duplicates: { id: string; seconds: number; afterActions: number }[] = [];
  readonly globals = new Map<string, string>();
  /** The imap4flags internal variable: flags, each once. */
  internalFlags: string[] = [];
  scope: Scope = { extensions: new Set(), variables: new Map(), globals: new Set() };
  includeDepth = 0;
  /** Scripts included with :once that already ran, by location and name. */
  readonly includedOnce = new Set<string>();
  /** Scripts being run, to refuse include loops. */
  readonly includeStack: string[] = [];
  private matchVariables: string[] = [];
  private steps = 0;
  private readonly started = Date.now();

  constructor(readonly env: SieveEnvironment) {
    this.limits = { ...DEFAULT_LIMITS, ...env.limits };
  }

  get message(): SieveMessage {
    return this.env.message;
  }

  has(extension: string): boolean {
    return this.scope.extensions.has(extension);
  }

  /** Counts one unit of work; throws when the run has used up its steps or time. */
  step(): void {
    this.steps++;
    if (this.steps > this.limits.maxSteps)
      throw new SieveRuntimeError('the script ran too long (step limit reached)');
    if ((this.steps & 1023) === 0 && Date.now() - this.started > this.limits.maxMilliseconds) {
      throw new SieveRuntimeError('the script ran too long (time limit reached)');
    }
  }

  setMatchVariables(values: string[]): void {
    if (this.has('variables')) this.matchVariables = values.slice(0, 10);
  }

  private lookup(name: string): string | undefined {
    if (/^[0-9]+$/.test(name)) return this.matchVariables[Number(name)];
    if (name.startsWith('global.')) return this.globals.get(name.slice(7));
    if (this.scope.globals.has(name)) return this.globals.get(name);
    return this.scope.variables.get(name);
  }

  getVariable(name: string): string {
    return this.lookup(name.toLowerCase()) ?? '';
  }

  setVariable(name: string, value: string): void {
    const key = name.toLowerCase();
    const bounded = value.slice(0, this.limits.maxVariableLength);
    if (key.startsWith('global.')) this.globals.set(key.slice(7), bounded);
    else if (this.scope.globals.has(key)) this.globals.set(key, bounded);
    else this.scope.variables.set(key, bounded);
  }

  /** A string argument with variables expanded (when the script uses them). */
  expand(text: string): string {
    return this.has('variables') ? expandVariables(text, (name) => this.lookup(name)) : text;
  }

  string(argument: Argument | true | undefined): string {
    if (argument === undefined || argument === true) return '';
    if (argument.kind === 'string') return this.expand(argument.value);
    if (argument.kind === 'string-list') return this.expand(argument.values[0] ?? '');
    return argument.kind === 'number' ? String(argument.value) : '';
  }

  strings(argument: Argument | true | undefined): string[] {
    if (argument === undefined || argument === true) return [];
    if (argument.kind === 'string-list') return argument.values.map((value) => this.expand(value));
    if (argument.kind === 'string') return [this.expand(argument.value)];
    return argument.kind === 'number' ? [String(argument.value)] : [];
  }

  number(argument: Argument | true | undefined): number {
    return argument !== undefined && argument !== true && argument.kind === 'number' ? argument.value : 0;
  }

  tag(node: TestNode, name: string): Argument | true | undefined {
    return node.tags.get(name);
  }

  /** Adds an explicit action, merging duplicates and enforcing the limits. */
  addAction(action: SieveAction, node: TestNode): void {
    if (action.type === 'keep' || action.type === 'fileinto') {
      const same = this.actions.find(
        (other): other is StoreAction =>
          (other.type === 'keep' || other.type === 'fileinto') && sameMailbox(other.mailbox, action.mailbox),
      );
      if (same !== undefined) {
        // Filed once; the later action's flags win, as in Pigeonhole.
        same.flags = action.flags;
        same.create ||= action.create;
        return;
      }
    }
    if (action.type === 'redirect') {
      const address = action.address.toLowerCase();
      if (this.actions.some((other) => other.type === 'redirect' && other.address.toLowerCase() === address))
        return;
      const redirects = this.actions.filter((other) => other.type === 'redirect').length;
      if (redirects >= this.limits.maxRedirects) {
        throw new SieveRuntimeError(
          `too many redirects (the limit is ${this.limits.maxRedirects})`,
          node.position,
        );
      }
    }
    if (action.type === 'discard' && this.actions.some((other) => other.type === 'discard')) return;
    if (action.type === 'vacation' && this.actions.some((other) => other.type === 'vacation')) {
      throw new SieveRuntimeError('vacation used more than once', node.position);
    }
    if (action.type === 'reject' || this.actions.some((other) => other.type === 'reject')) {
      const conflicting = this.actions.find((other) => other.type !== 'discard');
      if (conflicting !== undefined) {
        throw new SieveRuntimeError(`reject cannot be combined with ${conflicting.type}`, node.position);
      }
    }
    if (this.actions.length >= this.limits.maxActions) {
      throw new SieveRuntimeError(`too many actions (the limit is ${this.limits.maxActions})`, node.position);
    }
    this.actions.push(action);
  }
}

export function sameMailbox(a: string, b: string): boolean {
  return a === b || (a.toUpperCase() === 'INBOX' && b.toUpperCase() === 'INBOX');
}

export function hasFlag(flags: string[], flag: string): boolean {
  const lower = flag.toLowerCase();
  return flags.some((other) => other.toLowerCase() === lower);
}

/** Flag lists as imap4flags reads them: each string split at spaces, each flag once (RFC 5232 3). */
export function flagList(values: string[]): string[] {
  const flags: string[] = [];
  for (const value of values) {
    for (const flag of value.split(/\s+/)) if (flag !== '' && !hasFlag(flags, flag)) flags.push(flag);
  }
  return flags;
}
