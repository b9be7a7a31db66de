/**
 * A worker's side of the supervisor link: the login guard, the connection gate and the per-user
 * limit as the protocols see them (each a call to the supervisor, which holds the one state for the
 * whole server), and the answers the supervisor asks for (this worker's sessions, counters, kicks).
 *
 * Every call a client waits on has a deadline (protocol.ts DEADLINES); without an answer in time the
 * worker refuses (fails closed) and gives back whatever the supervisor may still grant.
 */
import type net from 'node:net';
import type { EventBus } from '../admin/events.ts';
import type { ClusterTotals, SessionDirectory } from '../admin/context.ts';
import type { AdminEvent, SessionJson, SessionProtocol } from '../admin/schemas.ts';
import type { SessionRegistry } from '../admin/sessions.ts';
import { wrongPasswordDigest, type Admission, type Guard, type GuardSnapshot } from '../auth/login-guard.ts';
import type { Config } from '../config/schema.ts';
import type { RuleHooks } from '../hooks/runner.ts';
import type { ConnectionHooks, ConnectionSession, ConnectVerdict } from '../hooks/types.ts';
import { SocketTicket, type EndReason, type Gate, type GateTicket } from '../net/connection-gate.ts';
import type { UserSessionLimit, UserSlot } from '../net/user-sessions.ts';
import {
  DEADLINES,
  type SessionWire,
  type SupervisorMethods,
  type WorkerCounters,
  type WorkerMethods,
} from './protocol.ts';
import { RpcChannel, type Port } from './rpc.ts';

/** What the worker's server reports through the link once it runs. */
export interface WorkerParts {
  sessions: SessionRegistry;
  events: EventBus;
  rules: RuleHooks | null;
  /** The admin API's log tail (worker 1): the other workers' lines arrive here. */
  logs: { write(line: string): unknown } | null;
  delivered(): WorkerCounters['delivered'];
  /** Puts new spam settings in force in this process. */
  applySpam(spam: Config['spam']): Promise<void>;
  /** Another worker committed a change to the journal (JournalFollower.nudge). */
  journalAdvanced(): void;
}

export class WorkerLink {
  readonly rpc: RpcChannel<WorkerMethods, SupervisorMethods>;
  readonly guard: SharedGuard;
  readonly gate: SharedGate;
  readonly userSessions: SharedUserSessions;
  private parts: WorkerParts | null = null;
  private stopForwarding: (() => void) | null = null;
  private journalSignalQueued = false;

  constructor(
    /** 1..N, the worker's place; slot 1 runs the admin API. */
    readonly slot: number,
    guardKey: Buffer,
    port: Port = process as unknown as Port,
    readonly deadlines: Deadlines = DEADLINES,
  ) {
    const rpc = new RpcChannel<WorkerMethods, SupervisorMethods>(port);
    this.rpc = rpc;
    const ids = { next: 1 };
    this.guard = new SharedGuard(rpc, guardKey, ids, deadlines);
    this.gate = new SharedGate(rpc, ids, deadlines);
    this.userSessions = new SharedUserSessions(rpc, ids, deadlines);
    rpc.handle('gate.end', ({ ticket, reason }) => this.gate.end(ticket, reason));
    rpc.handle('sessions.list', () => this.parts?.sessions.list() ?? []);
    rpc.handle('sessions.kick', ({ id, text }) => this.parts?.sessions.kick(id, text) ?? false);
    rpc.handle('sessions.kickUser', ({ userId, text }) => this.parts?.sessions.kickUser(userId, text) ?? 0);
    rpc.handle('counters', () => ({
      delivered: this.parts?.delivered() ?? { lmtp: 0, smtp: 0 },
      rules: [...(this.parts?.rules?.counters() ?? [])],
    }));
    rpc.handle('events.forward', ({ on }) => this.forwardEvents(on));
    rpc.handle('event', (event) => this.parts?.events.deliver(event));
    rpc.handle('log', (line) => {
      this.parts?.logs?.write(line);
    });
    rpc.handle('rules.reload', async () => {
      await this.parts?.rules?.reload();
    });
    rpc.handle('spam.apply', async (spam) => {
      await this.parts?.applySpam(spam);
    });
    rpc.handle('journal.advanced', () => this.parts?.journalAdvanced());
  }

  /**
   * This worker committed a change to the journal: the others are told, once for every write that
   * ended in the same turn of the event loop (a burst of deliveries is one message, not one each).
   */
  journalWritten(): void {
    if (this.journalSignalQueued) return;
    this.journalSignalQueued = true;
    process.nextTick(() => {
      this.journalSignalQueued = false;
      this.rpc.notify('cluster.journal', null);
    });
  }

  /** Where a worker other than the first writes its log lines (besides stdout): to worker 1's tail. */
  logForwarder(): { write(chunk: string | Buffer): boolean } {
    return {
      write: (chunk) => {
        this.rpc.notify('cluster.log', typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
        return true;
      },
    };
  }

  /** The admin API changed the rules: the other workers (and the supervisor) reload them too. */
  async rulesChanged(): Promise<void> {
    await this.rpc.call('cluster.rulesChanged', null, this.deadlines.adminMs).catch(() => {
      // Not answered in time: the others still follow within their 2-second poll.
    });
  }

  /** The admin API changed the spam settings: the other workers apply them before this resolves. */
  async spamChanged(spam: Config['spam']): Promise<void> {
    await this.rpc.call('cluster.spamChanged', spam, this.deadlines.adminMs);
  }

  /** The server is up: its sessions and counters can be reported. */
  attach(parts: WorkerParts): void {
    this.parts = parts;
  }

  private forwardEvents(on: boolean): void {
    this.stopForwarding?.();
    this.stopForwarding = null;
    if (on && this.parts) {
      this.stopForwarding = this.parts.events.subscribe((event: AdminEvent) =>
        this.rpc.notify('cluster.event', event),
      );
    }
  }
}

type Rpc = RpcChannel<WorkerMethods, SupervisorMethods>;
/** Ids of this worker's tickets, attempts and slots (one sequence: they never meet). */
type Ids = { next: number };
type Deadlines = typeof DEADLINES;

/** The login guard: the supervisor's, asked through IPC. */
export class SharedGuard implements Guard {
  constructor(
    private readonly rpc: Rpc,
    private readonly key: Buffer,
    private readonly ids: Ids,
    private readonly deadlines: Deadlines,
  ) {}

  async admit(remoteAddress: string, account: string): Promise<Admission> {
    const attempt = this.ids.next++;
    let reply: SupervisorMethods['guard.admit']['result'];
    try {
      reply = await this.rpc.call(
        'guard.admit',
        { attempt, address: remoteAddress, account },
        this.deadlines.guardMs,
      );
    } catch {
      this.rpc.notify('guard.end', { attempt, outcome: 'abandoned' });
      return { admitted: false, reason: 'busy' };
    }
    if (!reply.admitted) return reply;
    let ended = false;
    const end = (params: SupervisorMethods['guard.end']['params']) => {
      if (ended) return;
      ended = true;
      this.rpc.notify('guard.end', params);
    };
    const failedDigest = (digest: string, details = { accountExists: true }) =>
      end({ attempt, outcome: 'failed', digest, accountExists: details.accountExists });
    return {
      admitted: true,
      delayMs: reply.delayMs,
      attempt: {
        succeeded: () => end({ attempt, outcome: 'succeeded' }),
        abandoned: () => end({ attempt, outcome: 'abandoned' }),
        failed: (password, details) =>
          failedDigest(wrongPasswordDigest(this.key, account, password), details),
        failedDigest,
      },
    };
  }

  /** The supervisor's guard now, for the admin API's status. */
  async snapshot(): Promise<GuardSnapshot> {
    const json = await this.rpc.call('guard.snapshot', null, this.deadlines.adminMs);
    return {
      ...json,
      accountsUnderAttack: json.accountsUnderAttack.map((alert) => ({
        ...alert,
        since: new Date(alert.since),
      })),
    };
  }
}

const GATE_SILENT = 'Too many connections, try again later';

/** The connection gate: the supervisor's, asked through IPC at each accepted connection. */
export class SharedGate implements Gate {
  private readonly tickets = new Map<number, SocketTicket>();

  constructor(
    private readonly rpc: Rpc,
    private readonly ids: Ids,
    private readonly deadlines: Deadlines,
  ) {}

  /** This worker's connections that hold a ticket. */
  get openConnections(): number {
    return this.tickets.size;
  }

  async admit(socket: net.Socket): Promise<GateTicket | string> {
    const ticket = this.ids.next++;
    const release = () => this.rpc.notify('gate.release', { ticket });
    let refusal: string | null;
    try {
      refusal = await this.rpc.call(
        'gate.enter',
        { ticket, address: socket.remoteAddress ?? '' },
        this.deadlines.gateMs,
      );
    } catch {
      release();
      return GATE_SILENT;
    }
    if (refusal !== null) return refusal;
    if (socket.destroyed) {
      release();
      return GATE_SILENT; // nobody is left to read it
    }
    const local = new SocketTicket(socket, () => this.rpc.notify('gate.loggedIn', { ticket }));
    this.tickets.set(ticket, local);
    socket.once('close', () => {
      this.tickets.delete(ticket);
      release();
    });
    return local;
  }

  /** The supervisor's gate ends a connection (evicted, or past the pre-login deadline). */
  end(ticket: number, reason: EndReason): void {
    this.tickets.get(ticket)?.end(reason);
  }
}

/** The per-user connection limit: the supervisor's counter. */
export class SharedUserSessions implements UserSessionLimit {
  constructor(
    private readonly rpc: Rpc,
    private readonly ids: Ids,
    private readonly deadlines: Deadlines,
  ) {}

  async acquire(userId: string, limit: number): Promise<UserSlot | null> {
    const slot = this.ids.next++;
    const release = () => this.rpc.notify('user.release', { slot });
    let granted: boolean;
    try {
      granted = await this.rpc.call('user.acquire', { slot, userId, limit }, this.deadlines.userMs);
    } catch {
      release();
      return null;
    }
    if (!granted) return null;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        release();
      },
    };
  }
}

/** Every worker's sessions, through the supervisor: what the admin API shows and kicks. */
export class ClusterSessions implements SessionDirectory {
  constructor(private readonly rpc: Rpc) {}

  list(): Promise<SessionJson[]> {
    return this.rpc.call('cluster.sessions', null, DEADLINES.adminMs);
  }

  async get(id: string): Promise<SessionJson | null> {
    return (await this.list()).find((session) => session.id === id) ?? null;
  }

  async counts(): Promise<Record<SessionProtocol, number>> {
    const counts = { imap: 0, pop3: 0, lmtp: 0, smtp: 0, submission: 0, managesieve: 0 };
    for (const session of await this.list()) counts[session.protocol]++;
    return counts;
  }

  async ofUser(userId: string): Promise<SessionJson[]> {
    return (await this.list()).filter((session) => session.userId === userId);
  }

  kick(id: string, text = 'Session closed by the administrator'): Promise<boolean> {
    return this.rpc.call('cluster.kick', { id, text }, DEADLINES.adminMs);
  }

  kickUser(userId: string, text: string): Promise<number> {
    return this.rpc.call('cluster.kickUser', { userId, text }, DEADLINES.adminMs);
  }
}

/** Deliveries and rule verdicts of every worker, added up by the supervisor. */
export async function clusterTotals(rpc: Rpc): Promise<ClusterTotals> {
  const counters = await rpc.call('cluster.counters', null, DEADLINES.adminMs);
  return { delivered: counters.delivered, rules: new Map(counters.rules) };
}

/** Rule kinds that count connections or failures per address: their state must be one for the server. */
const COUNTING_RULES = new Set(['max-conn', 'rate', 'lockout']);

const toWire = (session: ConnectionSession): SessionWire => ({
  ...session,
  openedAt: session.openedAt.toISOString(),
});

/**
 * The connection rules of a worker. While no rule that counts is in force (only allow, deny and
 * require-tls, which decide from the rule and the connection alone) the worker's own runner
 * decides, at no cost; otherwise the supervisor's runner does, so that `max-conn 20` means 20 for
 * the whole server. Each connection (and each login) ends where it started, whichever way the
 * rules changed meanwhile. `requiresTls` is always answered here: it must be synchronous and
 * depends on no count.
 */
export function clusterHooks(local: RuleHooks, rpc: Rpc, deadlines: Deadlines = DEADLINES): ConnectionHooks {
  const remote = new Set<string>();
  const remoteLogins = new Set<string>();
  const counting = () => local.rules().some((rule) => rule.enabled && COUNTING_RULES.has(rule.kind));
  const failClosed = (): ConnectVerdict => ({
    allow: false,
    reason: 'Temporary problem, try again later',
    temporary: true,
  });
  const loginKey = (session: ConnectionSession, username: string) => `${session.id}\0${username}`;
  return {
    async onConnect(session) {
      if (!counting()) return local.onConnect(session);
      remote.add(session.id);
      return rpc.call('hooks.connect', toWire(session), deadlines.hooksMs).catch(failClosed);
    },
    onClose(session) {
      if (!remote.delete(session.id)) return local.onClose(session);
      rpc.notify('hooks.close', toWire(session));
    },
    async checkAuthAllowed(session, username) {
      if (!remote.has(session.id) && !counting()) return local.checkAuthAllowed(session, username);
      remoteLogins.add(loginKey(session, username));
      return rpc
        .call('hooks.checkAuth', { session: toWire(session), username }, deadlines.hooksMs)
        .catch(failClosed);
    },
    onAuthFailure(session, username) {
      if (!remoteLogins.delete(loginKey(session, username))) return local.onAuthFailure(session, username);
      rpc.notify('hooks.authFailure', { session: toWire(session), username });
    },
    releaseAuthAttempt(session, username) {
      if (!remoteLogins.delete(loginKey(session, username)))
        return local.releaseAuthAttempt(session, username);
      rpc.notify('hooks.release', { session: toWire(session), username });
    },
    requiresTls: (session) => local.requiresTls(session),
  };
}
