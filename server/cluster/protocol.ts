/**
 * What the supervisor of `mallard serve` and its workers say to each other (rpc.ts carries it).
 * Kept small: the state that must be one for the whole server (the login guard, the connection
 * gate, the per-user limit, the connection rules that count), and what the admin API needs to see one server (sessions, counters,
 * events, kicks).
 *
 * Ids of gate tickets, guard attempts and user slots are chosen by the worker, so that a worker
 * that gave up waiting for an answer can still take back what the supervisor granted late.
 */
import type { AdminEvent, SessionJson } from '../admin/schemas.ts';
import type { GuardSnapshot } from '../auth/login-guard.ts';
import type { Config } from '../config/schema.ts';
import type { RuleCounters } from '../hooks/runner.ts';
import type { ConnectionSession, ConnectVerdict } from '../hooks/types.ts';
import type { EndReason } from '../net/connection-gate.ts';

/** The figures each worker counts on its own; the admin API adds them up. */
export interface WorkerCounters {
  delivered: { lmtp: number; smtp: number };
  rules: Array<[string, RuleCounters]>;
}

/** A GuardSnapshot as it crosses IPC (JSON: dates as text). */
export type GuardSnapshotJson = Omit<GuardSnapshot, 'accountsUnderAttack'> & {
  accountsUnderAttack: Array<Omit<GuardSnapshot['accountsUnderAttack'][number], 'since'> & { since: string }>;
};

/** A ConnectionSession as it crosses IPC (JSON: the date as text). */
export type SessionWire = Omit<ConnectionSession, 'openedAt'> & { openedAt: string };

export type AdmitReply =
  { admitted: false; reason: 'address-locked' | 'busy' } | { admitted: true; delayMs: number };

/** Answered by the supervisor, asked by workers. */
export interface SupervisorMethods {
  'guard.admit': { params: { attempt: number; address: string; account: string }; result: AdmitReply };
  'guard.end': {
    params:
      | { attempt: number; outcome: 'succeeded' | 'abandoned' }
      | {
          attempt: number;
          outcome: 'failed';
          digest: string;
          accountExists: boolean;
        };
    result: void;
  };
  'guard.snapshot': { params: null; result: GuardSnapshotJson };
  'gate.enter': { params: { ticket: number; address: string }; result: string | null };
  'gate.loggedIn': { params: { ticket: number }; result: void };
  'gate.release': { params: { ticket: number }; result: void };
  'user.acquire': { params: { slot: number; userId: string; limit: number }; result: boolean };
  'user.release': { params: { slot: number }; result: void };
  /** The connection rules, while rules that count (max-conn, rate, lockout) are in force. */
  'hooks.connect': { params: SessionWire; result: ConnectVerdict };
  'hooks.close': { params: SessionWire; result: void };
  'hooks.checkAuth': { params: { session: SessionWire; username: string }; result: ConnectVerdict };
  'hooks.authFailure': { params: { session: SessionWire; username: string }; result: void };
  'hooks.release': { params: { session: SessionWire; username: string }; result: void };
  /** Every worker's sessions (for the admin API). */
  'cluster.sessions': { params: null; result: SessionJson[] };
  /** Kicks a session on whichever worker holds it. */
  'cluster.kick': { params: { id: string; text: string }; result: boolean };
  'cluster.kickUser': { params: { userId: string; text: string }; result: number };
  'cluster.counters': { params: null; result: WorkerCounters };
  /** The admin API's event stream has listeners (on) or none (off): workers forward events meanwhile. */
  'cluster.events': { params: { on: boolean }; result: void };
  /** A worker's event, for the admin API's stream. */
  'cluster.event': { params: AdminEvent; result: void };
  /** A log line of a worker other than the first, for the admin API's log tail (in worker 1). */
  'cluster.log': { params: string; result: void };
  /** The admin API changed the connection rules: every process reloads them before it answers. */
  'cluster.rulesChanged': { params: null; result: void };
  /** The admin API changed the spam settings: every other worker applies them before it answers. */
  'cluster.spamChanged': { params: Config['spam']; result: void };
  /** The worker listens on every port and serves. */
  'worker.ready': { params: null; result: void };
  /** The worker committed a change to the journal (journal-signal.ts): tell the others. */
  'cluster.journal': { params: null; result: void };
}

/** Answered by a worker, asked by the supervisor. */
export interface WorkerMethods {
  'sessions.list': { params: null; result: SessionJson[] };
  'sessions.kick': { params: { id: string; text: string }; result: boolean };
  'sessions.kickUser': { params: { userId: string; text: string }; result: number };
  counters: { params: null; result: WorkerCounters };
  /** The gate ends a connection of this worker (evicted, or no login before the deadline). */
  'gate.end': { params: { ticket: number; reason: EndReason }; result: void };
  /** Forward this worker's events to the admin API (on) or stop (off). */
  'events.forward': { params: { on: boolean }; result: void };
  /** Another worker's event, for the stream of the admin API running here. */
  event: { params: AdminEvent; result: void };
  /** Another worker's log line, for the log tail of the admin API running here. */
  log: { params: string; result: void };
  /** Read the connection rules again now (the admin API changed them). */
  'rules.reload': { params: null; result: void };
  /** Check the next messages with these spam settings (the admin API changed them). */
  'spam.apply': { params: Config['spam']; result: void };
  /** Another worker committed a change to the journal: read it now. */
  'journal.advanced': { params: null; result: void };
}

/** The environment a worker is started with (besides the configuration). */
export const WORKER_ENV = {
  /** 1..N: which worker this is; a replacement keeps the slot of the one it replaces. */
  slot: 'MALLARD_WORKER_SLOT',
  /** The login guard's key for wrong-password digests (hex). */
  guardKey: 'MALLARD_WORKER_GUARD_KEY',
} as const;

/** Deadlines of calls whose answer a client waits for; past them the worker refuses (fails closed). */
export const DEADLINES = {
  /** Admission to the gate: the supervisor answers at once. */
  gateMs: 5000,
  /** A login may wait at the guard for others from its address to end. */
  guardMs: 15_000,
  userMs: 5000,
  /** A connection rule (the runner's own timeout per rule is 1 s). */
  hooksMs: 5000,
  /** The admin API asking every worker. */
  adminMs: 5000,
};
