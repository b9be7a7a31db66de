/**
 * The supervisor of `mallard serve` with `server.workers` > 1: a node:cluster primary that forks the
 * workers, each a whole server accepting on the same ports, and keeps them running.
 *
 * Why node:cluster (its round-robin handle passing) rather than SO_REUSEPORT: Node 20 has no
 * `reusePort` for net servers; the primary keeps the listening socket when a worker dies, so no
 * connection waiting in a dead worker's accept queue is lost (with SO_REUSEPORT the kernel resets
 * them); and connections are spread evenly instead of by a hash of the client's address and port.
 * TLS is unaffected: a worker gets the plain TCP socket and does the handshake itself, for implicit
 * TLS (993, 995, 465) exactly as after STARTTLS, so both go through the same code.
 *
 * What must be one for the whole server lives here, asked by the workers through IPC (protocol.ts):
 * the login guard (so N workers never give an attacker N times the guesses), the connection gate
 * (per-address and pre-login limits, the pre-login deadline), the per-user connection limit, the
 * connection rules that count (max-conn, rate, lockout; allow, deny and require-tls are decided in
 * each worker at no cost), and
 * the directory of sessions, counters, events and kicks that the admin API (in worker 1) shows.
 *
 * - A worker that exits unasked is replaced in its slot after a delay that doubles with each
 *   crash in a row (from 250 ms up to 30 s; a worker that ran a minute resets it). Whatever it held
 *   here (gate tickets, user slots, login attempts in flight) is released at once.
 * - SIGTERM or SIGINT: every worker is told to stop (it says BYE to its sessions and closes its
 *   store), then the supervisor closes its own store and exits; a worker that takes longer than
 *   the grace period is killed.
 * - The supervisor opens the store first, so a new database is created and migrated once, and a
 *   local MongoDB replica set (`store.mongodb.local`) is started here and found running by the
 *   workers.
 */
import cluster, { type Worker } from 'node:cluster';
import crypto from 'node:crypto';
import v8 from 'node:v8';
import type { AdminEvent, SessionJson } from '../admin/schemas.ts';
import { LoginGuard, type LoginAttempt } from '../auth/login-guard.ts';
import type { Config } from '../config/schema.ts';
import type { RuleCounters, RuleHooks } from '../hooks/runner.ts';
import type { ConnectionSession } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import { ConnectionGate, gateLimitsOf, type GateEntry } from '../net/connection-gate.ts';
import { UserSessionCounter, type UserSlot } from '../net/user-sessions.ts';
import type { Store } from '../store/types.ts';
import {
  DEADLINES,
  WORKER_ENV,
  type SessionWire,
  type SupervisorMethods,
  type WorkerCounters,
  type WorkerMethods,
} from './protocol.ts';
import { RpcChannel } from './rpc.ts';

const FIRST_RESTART_MS = 250;
const MAX_RESTART_MS = 30_000;
/** A worker that ran this long is no longer counted as crashing in a row. */
const STABLE_MS = 60_000;
/** How long a worker may take to say BYE and close its store before it is killed. */
const STOP_GRACE_MS = 30_000;

/**
 * V8 flags of the worker processes (and so of their store and parse threads, which share them).
 * V8 lets the young generation of each heap grow to 3 × 16 MB semi-spaces on 64-bit machines, and a
 * worker that has accepted thousands of sessions keeps that grown space resident. At 1 MB a
 * scavenge runs more often but each is short, and the memory a worker holds follows its sessions
 * rather than the rate at which they once arrived: 10,000 IDLE sessions over two workers went from
 * 35 to 16 KiB per session (bench/idlers.ts). A flag given to `node` (or in NODE_OPTIONS) wins.
 */
export const WORKER_V8_FLAGS = ['--max-semi-space-size=1'];

/** The V8 flags the command line or NODE_OPTIONS set, by name (`--max-semi-space-size`). */
function givenFlagNames(execArgv: readonly string[], nodeOptions: string): string[] {
  return [...execArgv, ...nodeOptions.split(/\s+/)].map((flag) => flag.split('=')[0]!.replaceAll('_', '-'));
}

/** The flags of WORKER_V8_FLAGS that the command line or NODE_OPTIONS do not already set. */
export function workerExecArgv(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = givenFlagNames(execArgv, nodeOptions);
  const added = WORKER_V8_FLAGS.filter((flag) => !given.includes(flag.split('=')[0]!));
  return [...execArgv, ...added];
}

/**
 * The V8 flags the supervisor sets on itself as it starts. It is already running by then, and V8
 * reads --max-semi-space-size only when it makes the heap; but it reads the growth factor each time
 * the young generation would grow, so a factor of 1 keeps it at its first size (1 MB semi-spaces),
 * as the workers' flag does. Without it, 10,000 logins (an IPC round trip each here, with gate
 * tickets and user slots that survive) grew it to 2 × 16 MB, kept for good: some 30 MB of the whole
 * server's memory (bench/idlers.ts). A size or factor given on the command line or in NODE_OPTIONS
 * wins.
 */
export function supervisorV8Flags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = givenFlagNames(execArgv, nodeOptions);
  const sized = given.includes('--max-semi-space-size') || given.includes('--semi-space-growth-factor');
  return sized ? [] : ['--semi-space-growth-factor=1'];
}

export interface SupervisorOptions {
  config: Config;
  workers: number;
  logger: Logger;
  /** The supervisor's own store handle (opened before the workers start). */
  store: Store;
  /** The connection rules from that store: decide for workers while rules that count are in force. */
  rules: RuleHooks | null;
  guardOptions: ConstructorParameters<typeof LoginGuard>[0];
}

/** What the supervisor holds for one running worker. */
class WorkerState {
  readonly tickets = new Map<number, GateEntry>();
  readonly slots = new Map<number, UserSlot>();
  readonly attempts = new Map<number, LoginAttempt>();
  /** Attempts the worker gave up on while the guard still had them waiting. */
  readonly abandoned = new Set<number>();
  /** Its connections the supervisor's rules count, by session id. */
  readonly ruleSessions = new Map<string, ConnectionSession>();
  readonly startedAt = Date.now();
  ready = false;

  constructor(
    readonly slot: number,
    readonly worker: Worker,
    readonly rpc: RpcChannel<SupervisorMethods, WorkerMethods>,
  ) {}

  /** The worker is gone: nothing it held counts any more. */
  releaseAll(rules: RuleHooks | null): void {
    for (const session of this.ruleSessions.values()) rules?.onClose(session);
    this.ruleSessions.clear();
    for (const entry of this.tickets.values()) entry.release();
    for (const slot of this.slots.values()) slot.release();
    for (const attempt of this.attempts.values()) attempt.abandoned();
    this.tickets.clear();
    this.slots.clear();
    this.attempts.clear();
    this.rpc.close();
  }
}

export class Supervisor {
  private readonly states = new Map<number, WorkerState>();
  private readonly crashes = new Map<number, number>();
  private readonly guardKey = crypto.randomBytes(32);
  private readonly guard: LoginGuard;
  private readonly gate: ConnectionGate;
  private readonly users = new UserSessionCounter();
  private stopping = false;
  private eventsWanted = false;
  private readonly log: Logger;
  /** While starting: settles once every worker is ready, or as soon as one fails to start. */
  private starting: { resolve(): void; reject(error: Error): void } | null = null;

  constructor(private readonly options: SupervisorOptions) {
    this.log = options.logger;
    this.gate = new ConnectionGate(gateLimitsOf(options.config.limits));
    this.guard = new LoginGuard(
      options.guardOptions,
      (alert) => {
        this.log.warn(
          { user: alert.username, failures: alert.failures, addresses: alert.addresses },
          'many failed logins for one account',
        );
        this.toLead({
          type: 'auth.alert',
          at: new Date().toISOString(),
          data: { ...alert, since: alert.since.toISOString() },
        });
      },
      Date.now,
      this.guardKey,
    );
  }

  /**
   * Forks every worker; resolves once each listens. Rejects when one exits before it was ready
   * the first time (a port in use, a configuration the store refuses): restarting it would not
   * help, so the caller stops the others and reports it.
   */
  start(): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => (this.starting = { resolve, reject }));
    for (const flag of supervisorV8Flags()) v8.setFlagsFromString(flag);
    cluster.setupPrimary({ execArgv: workerExecArgv() });
    for (let slot = 1; slot <= this.options.workers; slot++) this.fork(slot);
    return ready;
  }

  private fork(slot: number): void {
    const worker = cluster.fork({
      [WORKER_ENV.slot]: String(slot),
      [WORKER_ENV.guardKey]: this.guardKey.toString('hex'),
    });
    const rpc = new RpcChannel<SupervisorMethods, WorkerMethods>(worker);
    const state = new WorkerState(slot, worker, rpc);
    this.states.set(slot, state);
    this.answer(state);
    worker.once('exit', (code, signal) => this.exited(state, code, signal));
    // A message to a worker that is going away fails; its exit is handled above.
    worker.on('error', (error) => this.log.debug({ worker: slot, err: error }, 'worker channel error'));
  }

  private exited(state: WorkerState, code: number | null, signal: string | null): void {
    state.releaseAll(this.options.rules);
    if (this.states.get(state.slot) === state) this.states.delete(state.slot);
    if (state.slot === 1 && this.eventsWanted) {
      // The admin API went with worker 1: nobody listens to the stream until its successor says so.
      this.eventsWanted = false;
      for (const other of this.live()) other.rpc.notify('events.forward', { on: false });
    }
    if (this.stopping) return;
    if (this.starting && !state.ready) {
      this.starting.reject(new Error(`worker ${state.slot} could not start (exit ${code ?? signal})`));
      this.starting = null;
      return;
    }
    const ranMs = Date.now() - state.startedAt;
    const inARow = ranMs >= STABLE_MS ? 1 : (this.crashes.get(state.slot) ?? 0) + 1;
    this.crashes.set(state.slot, inARow);
    const delayMs = Math.min(FIRST_RESTART_MS * 2 ** (inARow - 1), MAX_RESTART_MS);
    this.log.error(
      { worker: state.slot, code, signal, ranMs, restartInMs: delayMs },
      'worker stopped; restarting it',
    );
    setTimeout(() => {
      if (!this.stopping) this.fork(state.slot);
    }, delayMs).unref();
  }

  /** Clean stop: every worker says BYE and closes its store; the slow ones are killed. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.states.values()].map(
      (state) =>
        new Promise<void>((resolve) => {
          if (state.worker.isDead()) return resolve();
          state.worker.once('exit', () => resolve());
          const kill = setTimeout(() => {
            this.log.warn({ worker: state.slot }, 'worker did not stop in time; killed');
            state.worker.process.kill('SIGKILL');
          }, STOP_GRACE_MS);
          kill.unref();
          state.worker.once('exit', () => clearTimeout(kill));
          state.worker.process.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }

  private live(): WorkerState[] {
    return [...this.states.values()].filter((state) => state.ready);
  }

  private toLead(event: AdminEvent): void {
    this.states.get(1)?.rpc.notify('event', event);
  }

  /** Asks every ready worker; a worker that does not answer in time adds nothing. */
  private async everyWorker<T>(ask: (state: WorkerState) => Promise<T>, fallback: T): Promise<T[]> {
    return Promise.all(this.live().map((state) => ask(state).catch(() => fallback)));
  }

  private answer(state: WorkerState): void {
    const { rpc, slot } = state;
    rpc.handle('worker.ready', () => {
      state.ready = true;
      this.log.info({ worker: slot, workerPid: state.worker.process.pid }, 'worker ready');
      if (slot !== 1 && this.eventsWanted) rpc.notify('events.forward', { on: true });
      if (this.starting && this.live().length === this.options.workers) {
        this.starting.resolve();
        this.starting = null;
      }
    });

    // The login guard.
    rpc.handle('guard.admit', async ({ attempt, address, account }) => {
      const admission = await this.guard.admit(address, account);
      if (!admission.admitted) return admission;
      if (state.abandoned.delete(attempt) || !this.states.has(slot)) {
        admission.attempt.abandoned();
        return { admitted: false, reason: 'busy' };
      }
      state.attempts.set(attempt, admission.attempt);
      return { admitted: true, delayMs: admission.delayMs };
    });
    rpc.handle('guard.end', (end) => {
      const attempt = state.attempts.get(end.attempt);
      if (!attempt) {
        if (end.outcome === 'abandoned') state.abandoned.add(end.attempt);
        return;
      }
      state.attempts.delete(end.attempt);
      if (end.outcome === 'succeeded') attempt.succeeded();
      else if (end.outcome === 'abandoned') attempt.abandoned();
      else if (end.outcome === 'failed')
        attempt.failedDigest(end.digest, { accountExists: end.accountExists });
    });
    rpc.handle('guard.snapshot', () => {
      const snapshot = this.guard.snapshot();
      return {
        ...snapshot,
        accountsUnderAttack: snapshot.accountsUnderAttack.map((alert) => ({
          ...alert,
          since: alert.since.toISOString(),
        })),
      };
    });

    // The connection gate and the per-user limit.
    rpc.handle('gate.enter', ({ ticket, address }) => {
      const entry = this.gate.enter(address, (reason) => rpc.notify('gate.end', { ticket, reason }));
      if (typeof entry === 'string') return entry;
      state.tickets.set(ticket, entry);
      return null;
    });
    rpc.handle('gate.loggedIn', ({ ticket }) => state.tickets.get(ticket)?.loggedIn());
    rpc.handle('gate.release', ({ ticket }) => {
      state.tickets.get(ticket)?.release();
      state.tickets.delete(ticket);
    });
    rpc.handle('user.acquire', ({ slot: id, userId, limit }) => {
      const taken = this.users.acquire(userId, limit);
      if (taken) state.slots.set(id, taken);
      return taken !== null;
    });
    rpc.handle('user.release', ({ slot: id }) => {
      state.slots.get(id)?.release();
      state.slots.delete(id);
    });

    // The connection rules that count.
    const session = (wire: SessionWire): ConnectionSession => ({
      ...wire,
      openedAt: new Date(wire.openedAt),
    });
    const noRules = { allow: true } as const;
    rpc.handle('hooks.connect', (wire) => {
      const rules = this.options.rules;
      if (!rules) return noRules;
      const opened = session(wire);
      state.ruleSessions.set(opened.id, opened);
      return rules.onConnect(opened);
    });
    rpc.handle('hooks.close', (wire) => {
      state.ruleSessions.delete(wire.id);
      this.options.rules?.onClose(session(wire));
    });
    rpc.handle('hooks.checkAuth', ({ session: wire, username }) =>
      this.options.rules ? this.options.rules.checkAuthAllowed(session(wire), username) : noRules,
    );
    rpc.handle('hooks.authFailure', ({ session: wire, username }) =>
      this.options.rules?.onAuthFailure(session(wire), username),
    );
    rpc.handle('hooks.release', ({ session: wire, username }) =>
      this.options.rules?.releaseAuthAttempt(session(wire), username),
    );

    // One server for the admin API.
    rpc.handle('cluster.sessions', async () =>
      (
        await this.everyWorker<SessionJson[]>(
          (other) => other.rpc.call('sessions.list', null, DEADLINES.adminMs),
          [],
        )
      ).flat(),
    );
    rpc.handle('cluster.kick', async ({ id, text }) =>
      (
        await this.everyWorker(
          (other) => other.rpc.call('sessions.kick', { id, text }, DEADLINES.adminMs),
          false,
        )
      ).some(Boolean),
    );
    rpc.handle('cluster.kickUser', async ({ userId, text }) =>
      (
        await this.everyWorker(
          (other) => other.rpc.call('sessions.kickUser', { userId, text }, DEADLINES.adminMs),
          0,
        )
      ).reduce((sum, count) => sum + count, 0),
    );
    rpc.handle('cluster.counters', async () =>
      addCounters([
        ...(await this.everyWorker<WorkerCounters | null>(
          (other) => other.rpc.call('counters', null, DEADLINES.adminMs),
          null,
        )),
        { delivered: { lmtp: 0, smtp: 0 }, rules: [...(this.options.rules?.counters() ?? [])] },
      ]),
    );
    rpc.handle('cluster.events', ({ on }) => {
      this.eventsWanted = on;
      for (const other of this.live()) if (other.slot !== 1) other.rpc.notify('events.forward', { on });
    });
    rpc.handle('cluster.event', (event) => this.toLead(event));
    rpc.handle('cluster.journal', () => {
      for (const other of this.live()) if (other !== state) other.rpc.notify('journal.advanced', null);
    });
    rpc.handle('cluster.log', (line) => this.states.get(1)?.rpc.notify('log', line));
    rpc.handle('cluster.spamChanged', async (spam) => {
      // A worker started from now on reads them from the configuration file, already written.
      await this.everyWorker(
        (other) =>
          other === state ? Promise.resolve() : other.rpc.call('spam.apply', spam, DEADLINES.adminMs),
        undefined,
      );
    });
    rpc.handle('cluster.rulesChanged', async () => {
      await this.options.rules?.reload();
      await this.everyWorker(
        (other) =>
          other === state ? Promise.resolve() : other.rpc.call('rules.reload', null, DEADLINES.adminMs),
        undefined,
      );
    });
  }
}

function addCounters(all: Array<WorkerCounters | null>): WorkerCounters {
  const delivered = { lmtp: 0, smtp: 0 };
  const rules = new Map<string, RuleCounters>();
  for (const counters of all) {
    if (!counters) continue;
    delivered.lmtp += counters.delivered.lmtp;
    delivered.smtp += counters.delivered.smtp;
    for (const [id, counts] of counters.rules) {
      const sum = rules.get(id) ?? { allow: 0, deny: 0, errors: 0 };
      rules.set(id, {
        allow: sum.allow + counts.allow,
        deny: sum.deny + counts.deny,
        errors: sum.errors + counts.errors,
      });
    }
  }
  return { delivered, rules: [...rules] };
}
