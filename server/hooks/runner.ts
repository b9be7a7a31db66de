/**
 * The rule runner: the `ConnectionHooks` built from the rules in the store.
 *
 * - Rules are asked in position order, and the first decisive verdict wins: `allow` lets the
 *   connection (or login) in without asking the rules after it, `deny` refuses it. When no rule
 *   decides, it is allowed.
 * - Two phases: `onConnect` asks the rules that decide at connect time (allow, deny, max-conn,
 *   rate); `checkAuthAllowed` asks those that decide at login (allow, deny, lockout, require-tls).
 *   A lockout counts the attempt it lets through; when a later rule refuses it, or the login ends
 *   without a wrong password (`releaseAuthAttempt`), it is taken back. `requiresTls` asks the
 *   rules' `tlsRequired` in the same order (an `allow` match stops before a `require-tls`).
 *   A rule applies only to the protocols it names (all when it names none); disabled rules are
 *   skipped.
 * - A rule that throws, rejects or does not answer within `ruleTimeoutMs` refuses (fails closed)
 *   with a temporary refusal, and counts an error. So does a stored rule the server cannot build
 *   (e.g. a kind written by a newer version). Until the rules were loaded once, everything is
 *   refused the same way.
 * - Every decision is counted per rule (`counters()`: allow, deny, and errors, which are also
 *   counted as deny) and logged with the rule id and kind, the protocol and the remote address
 *   (deny at info, allow at debug, errors at warn). Counters are per process and survive reloads
 *   for the rules that still exist.
 * - Every `pollMs` the store's `rulesVersion()` is read; when it moved, the rules are reloaded, so
 *   a change made by the CLI, the panel or another server process applies within seconds. Per-IP
 *   state (rate windows, failure counts) is kept across reloads for rules that still exist.
 * - Open connections are counted per canonical IP (IPv4-mapped IPv6 is the IPv4 address; an IPv6
 *   client is one address, not its /64, so the devices of one home network do not share a limit):
 *   added when `onConnect` starts, removed on refusal or in `onClose`; see tracker.ts.
 *
 * Refusal reasons sent to clients are generic (rule.ts REASONS): they never name a rule, range or
 * limit.
 */
import type { Logger } from '../log.ts';
import type { ConnectionRule, Store } from '../store/types.ts';
import { normalizeIp, parseIp } from './cidr.ts';
import {
  REASONS,
  type AuthContext,
  type ConnectionCounts,
  type Decision,
  type RuleContext,
  type RuleEvaluator,
  type RuleFactories,
} from './rule.ts';
import { RULE_FACTORIES } from './rules/index.ts';
import { seedConfiguredRules, type ConfigRule } from './seed.ts';
import { ConnectionTracker } from './tracker.ts';
import type { ConnectionHooks, ConnectionSession, ConnectVerdict, Protocol } from './types.ts';

export type RuleSource = Pick<Store, 'listRules' | 'rulesVersion'>;

export interface RuleHooksOptions {
  store: RuleSource;
  logger: Logger;
  /** How often to check `rulesVersion()`; 0 never polls (call `reload()`). */
  pollMs?: number;
  /** How long one rule may take to decide before it counts as failed. */
  ruleTimeoutMs?: number;
  /** The clock (epoch ms), for tests. */
  now?: () => number;
  /** Replaces built-in rule kinds (tests, extensions). */
  factories?: Partial<RuleFactories>;
}

export interface RuleCounters {
  allow: number;
  /** Refusals, including those caused by errors. */
  deny: number;
  errors: number;
}

export interface RuleDecision {
  allow: boolean;
  /** The rule that decided; null when none did (allowed by default). */
  rule: ConnectionRule | null;
  /** What the client is told on refusal. */
  reason: string | null;
  /** Why the deciding rule failed, when it did. */
  error: string | null;
}

export interface RuleTestResult {
  address: string;
  protocol: Protocol;
  /** The verdict a new connection from the address would get now. */
  connect: RuleDecision;
  /** The verdict a login on such a connection would get (without TLS unless asked). */
  auth: RuleDecision;
}

export interface RuleHooks extends Required<ConnectionHooks> {
  /** Per rule id: what it decided since this process loaded it. */
  counters(): Map<string, RuleCounters>;
  /** A dry run: what would decide a connection (and a login) from `address`; records nothing. */
  test(
    address: string,
    protocol?: Protocol,
    options?: { secure?: boolean; username?: string },
  ): Promise<RuleTestResult>;
  /** Reads the rules now; rejects when the store cannot be read (the old rules stay). */
  reload(): Promise<void>;
  /** The rules in force, in order (disabled ones included). */
  rules(): ConnectionRule[];
  /** The rulesVersion() the rules in force were read at; -1 before the first load. */
  readonly version: number;
  /** Open connections tracked in all. */
  readonly openConnections: number;
  /** Stops polling. The hooks keep answering with the last rules. */
  stop(): void;
}

export const DEFAULT_POLL_MS = 2000;
export const DEFAULT_RULE_TIMEOUT_MS = 1000;

type Phase = 'connect' | 'auth';

interface Outcome {
  decision: 'allow' | 'deny';
  evaluator: RuleEvaluator | null;
  error: unknown;
}

class RuleTimeoutError extends Error {
  constructor(ms: number) {
    super(`rule did not decide within ${ms} ms`);
    this.name = 'RuleTimeoutError';
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function inScope(rule: ConnectionRule, protocol: string): boolean {
  return rule.protocols.length === 0 || (rule.protocols as string[]).includes(protocol);
}

/** Stands in for a stored rule the server cannot build: it refuses everything in its scope. */
function brokenRule(rule: ConnectionRule, error: unknown): RuleEvaluator {
  const fail = (): never => {
    throw error;
  };
  return { rule, reason: REASONS.failed, temporary: true, connect: fail, auth: fail };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class Runner implements RuleHooks {
  private readonly store: RuleSource;
  private readonly log: Logger;
  private readonly ruleTimeoutMs: number;
  private readonly now: () => number;
  private readonly factories: RuleFactories;
  private readonly tracker = new ConnectionTracker();
  private readonly counts = new Map<string, RuleCounters>();
  private evaluators: RuleEvaluator[] = [];
  private ruleList: ConnectionRule[] = [];
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private reloading: Promise<void> = Promise.resolve();
  private readonly ready: Promise<void>;
  version = -1;

  constructor(options: RuleHooksOptions) {
    this.store = options.store;
    this.log = options.logger.child({ component: 'rules' });
    this.ruleTimeoutMs = options.ruleTimeoutMs ?? DEFAULT_RULE_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    this.factories = { ...RULE_FACTORIES, ...options.factories };
    this.ready = this.reload().catch((error: unknown) => {
      this.log.error({ err: error }, 'cannot load connection rules; refusing connections until they load');
    });
    const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    if (pollMs > 0) {
      this.timer = setInterval(() => void this.poll(), pollMs);
      this.timer.unref();
    }
  }

  get openConnections(): number {
    return this.tracker.size;
  }

  // --- loading ---

  reload(): Promise<void> {
    // One at a time, in order: a slow read must not overwrite a newer one.
    const next = this.reloading.then(async () => {
      const version = await this.store.rulesVersion();
      const rules = await this.store.listRules();
      this.apply(rules, version);
    });
    this.reloading = next.catch(() => {});
    return next;
  }

  private apply(rules: ConnectionRule[], version: number): void {
    const previous = new Map(this.evaluators.map((evaluator) => [evaluator.rule.id, evaluator]));
    const evaluators: RuleEvaluator[] = [];
    for (const rule of rules) {
      if (!rule.enabled) continue;
      const factory = (this.factories as Partial<RuleFactories>)[rule.kind];
      try {
        if (!factory) throw new Error(`unknown rule kind ${JSON.stringify(rule.kind)}`);
        evaluators.push(factory(rule, previous.get(rule.id)));
      } catch (error) {
        this.log.error({ rule: rule.id, kind: rule.kind, err: error }, 'broken connection rule: it refuses');
        evaluators.push(brokenRule(rule, error));
      }
    }
    const ids = new Set(rules.map((rule) => rule.id));
    for (const id of [...this.counts.keys()]) if (!ids.has(id)) this.counts.delete(id);
    const changed = version !== this.version;
    this.evaluators = evaluators;
    this.ruleList = rules;
    this.version = version;
    this.loaded = true;
    if (changed)
      this.log.info({ version, rules: rules.length, enabled: evaluators.length }, 'connection rules loaded');
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const version = await this.store.rulesVersion();
      if (version !== this.version || !this.loaded) await this.reload();
      const now = this.now();
      for (const evaluator of this.evaluators) evaluator.prune?.(now);
    } catch (error) {
      // Stopped meanwhile (the store is closing): nothing to report.
      if (this.timer)
        this.log.warn({ err: error }, 'cannot check connection rules; keeping the current ones');
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  rules(): ConnectionRule[] {
    return [...this.ruleList];
  }

  counters(): Map<string, RuleCounters> {
    return new Map([...this.counts].map(([id, counters]) => [id, { ...counters }]));
  }

  // --- deciding ---

  private withTimeout(promise: Promise<Decision>): Promise<Decision> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RuleTimeoutError(this.ruleTimeoutMs)), this.ruleTimeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /** Asks the rules of `phase` in order; the first decisive answer (or failure) wins. */
  private async decide(phase: Phase, context: RuleContext | AuthContext): Promise<Outcome> {
    for (const evaluator of this.evaluators) {
      if (!inScope(evaluator.rule, context.session.protocol)) continue;
      let decision: Decision;
      try {
        if (phase === 'connect') {
          if (!evaluator.connect) continue;
          const answer = evaluator.connect(context);
          decision = isPromise(answer) ? await this.withTimeout(answer) : answer;
        } else {
          if (!evaluator.auth) continue;
          const answer = evaluator.auth(context as AuthContext);
          decision = isPromise(answer) ? await this.withTimeout(answer) : answer;
        }
      } catch (error) {
        return { decision: 'deny', evaluator, error };
      }
      if (decision === 'allow' || decision === 'deny') return { decision, evaluator, error: null };
    }
    return { decision: 'allow', evaluator: null, error: null };
  }

  private context(session: ConnectionSession, dryRun: boolean, connections: ConnectionCounts): RuleContext {
    return {
      session,
      ip: normalizeIp(session.remoteAddress),
      address: parseIp(session.remoteAddress),
      now: this.now(),
      dryRun,
      connections,
    };
  }

  /** Counts and logs a decision taken for a real connection. */
  private record(phase: Phase, outcome: Outcome, session: ConnectionSession, username?: string): void {
    const { evaluator, error } = outcome;
    if (!evaluator) return;
    const { rule } = evaluator;
    const counters = this.counts.get(rule.id) ?? { allow: 0, deny: 0, errors: 0 };
    this.counts.set(rule.id, counters);
    const fields = {
      rule: rule.id,
      kind: rule.kind,
      phase,
      protocol: session.protocol,
      remote: session.remoteAddress,
      session: session.id,
      ...(username === undefined ? {} : { user: username }),
    };
    if (error !== null) {
      counters.errors++;
      counters.deny++;
      this.log.warn({ ...fields, verdict: 'deny', err: error }, 'connection rule failed; refusing');
    } else if (outcome.decision === 'deny') {
      counters.deny++;
      // A refusal is a security event: WARN, so that a log kept at warn still shows it.
      this.log.warn(
        { ...fields, verdict: 'deny' },
        phase === 'connect' ? 'connection refused by rule' : 'login refused by rule',
      );
    } else {
      counters.allow++;
      this.log.debug(
        { ...fields, verdict: 'allow' },
        phase === 'connect' ? 'connection allowed by rule' : 'login allowed by rule',
      );
    }
  }

  private refusal(outcome: Outcome): ConnectVerdict {
    if (outcome.error !== null || !outcome.evaluator)
      return { allow: false, reason: REASONS.failed, temporary: true };
    const { reason, temporary } = outcome.evaluator;
    return temporary ? { allow: false, reason, temporary } : { allow: false, reason };
  }

  private notLoaded(session: ConnectionSession, phase: Phase): ConnectVerdict {
    this.log.warn(
      { phase, protocol: session.protocol, remote: session.remoteAddress, session: session.id },
      'connection rules not loaded; refusing',
    );
    return { allow: false, reason: REASONS.failed, temporary: true };
  }

  async onConnect(session: ConnectionSession): Promise<ConnectVerdict> {
    // Counted before the first await, so an onClose that comes while this decides finds it.
    this.tracker.add(session.id, normalizeIp(session.remoteAddress), session.protocol);
    try {
      await this.ready;
      if (!this.loaded) {
        this.tracker.remove(session.id);
        return this.notLoaded(session, 'connect');
      }
      const outcome = await this.decide(
        'connect',
        this.context(session, false, this.tracker.viewOf(session.id)),
      );
      this.record('connect', outcome, session);
      if (outcome.decision === 'allow') return { allow: true };
      this.tracker.remove(session.id);
      return this.refusal(outcome);
    } catch (error) {
      this.tracker.remove(session.id);
      throw error;
    }
  }

  onClose(session: ConnectionSession): void {
    this.tracker.remove(session.id);
  }

  async checkAuthAllowed(session: ConnectionSession, username: string): Promise<ConnectVerdict> {
    await this.ready;
    if (!this.loaded) return this.notLoaded(session, 'auth');
    const context: AuthContext = {
      ...this.context(session, false, this.tracker.viewOf(session.id)),
      username,
    };
    const outcome = await this.decide('auth', context);
    this.record('auth', outcome, session, username);
    if (outcome.decision === 'allow') return { allow: true };
    this.releaseAuthAttempt(session, username);
    return this.refusal(outcome);
  }

  releaseAuthAttempt(session: ConnectionSession, username: string): void {
    const context: AuthContext = {
      ...this.context(session, false, this.tracker.viewOf(session.id)),
      username,
    };
    for (const evaluator of this.evaluators) {
      try {
        evaluator.authRelease?.(context);
      } catch (error) {
        this.log.warn({ rule: evaluator.rule.id, err: error }, 'cannot release a login attempt');
      }
    }
  }

  requiresTls(session: ConnectionSession): boolean {
    if (!this.loaded || session.secure) return false;
    const context = this.context(session, true, this.tracker.viewOf(session.id));
    for (const evaluator of this.evaluators) {
      if (!evaluator.tlsRequired || !inScope(evaluator.rule, session.protocol)) continue;
      try {
        const answer = evaluator.tlsRequired(context);
        if (answer !== null) return answer;
      } catch {
        return true; // fail closed, as deciding does
      }
    }
    return false;
  }

  onAuthFailure(session: ConnectionSession, username: string): void {
    const context: AuthContext = {
      ...this.context(session, false, this.tracker.viewOf(session.id)),
      username,
    };
    for (const evaluator of this.evaluators) {
      if (!evaluator.authFailure || !inScope(evaluator.rule, session.protocol)) continue;
      try {
        evaluator.authFailure(context);
      } catch (error) {
        const counters = this.counts.get(evaluator.rule.id) ?? { allow: 0, deny: 0, errors: 0 };
        counters.errors++;
        this.counts.set(evaluator.rule.id, counters);
        this.log.warn(
          { rule: evaluator.rule.id, kind: evaluator.rule.kind, err: error },
          'cannot record a failed login',
        );
      }
    }
  }

  async test(
    address: string,
    protocol: Protocol = 'imap',
    options: { secure?: boolean; username?: string } = {},
  ): Promise<RuleTestResult> {
    await this.ready;
    if (!this.loaded) throw new Error('the connection rules could not be loaded');
    const session: ConnectionSession = {
      id: 'dry-run',
      protocol,
      remoteAddress: address,
      remotePort: 0,
      localPort: 0,
      secure: options.secure ?? false,
      user: null,
      openedAt: new Date(this.now()),
    };
    // As if this connection were open too.
    const connections: ConnectionCounts = {
      count: (ip, protocols) =>
        this.tracker.count(ip, protocols) + (protocols.length === 0 || protocols.includes(protocol) ? 1 : 0),
    };
    const context = this.context(session, true, connections);
    const summary = (outcome: Outcome): RuleDecision => {
      const allow = outcome.decision === 'allow';
      return {
        allow,
        rule: outcome.evaluator?.rule ?? null,
        reason: allow ? null : (this.refusal(outcome) as { reason: string }).reason,
        error: outcome.error === null ? null : errorText(outcome.error),
      };
    };
    const connect = summary(await this.decide('connect', context));
    const auth = summary(await this.decide('auth', { ...context, username: options.username ?? '' }));
    return { address, protocol, connect, auth };
  }
}

/** The connection hooks of the rules in `store`; loading starts at once and hooks wait for it. */
export function createRuleHooks(options: RuleHooksOptions): RuleHooks {
  return new Runner(options);
}

/**
 * For the composition root: seeds the configured rules into a store that never had any, creates
 * the hooks and waits for the first load, so a store whose rules cannot be read stops start-up
 * instead of refusing every connection.
 */
export async function startRuleHooks(
  store: RuleSource & Pick<Store, 'seedRules'>,
  seed: readonly ConfigRule[],
  logger: Logger,
  options: Partial<RuleHooksOptions> = {},
): Promise<RuleHooks> {
  await seedConfiguredRules(store, seed, logger);
  const hooks = createRuleHooks({ store, logger, ...options });
  try {
    await hooks.reload();
  } catch (error) {
    hooks.stop();
    throw error;
  }
  return hooks;
}
