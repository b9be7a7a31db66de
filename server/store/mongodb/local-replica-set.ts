/**
 * A local MongoDB replica set run by Mallard itself (`store.mongodb.local: /path/to/mongod`): one
 * member, or three on this one machine (`store.mongodb.local_members: 3`), under
 * `<data_dir>/mongodb/`. It is started, initiated on first use, supervised (a member that dies is
 * restarted with backoff) and stopped with the server.
 *
 * Layout:
 *   <data_dir>/mongodb/replset.json        name and ports, fixed at the first start (the replica
 *                                           set configuration names every member by host:port)
 *   <data_dir>/mongodb/member-N/db/        that member's --dbpath
 *   <data_dir>/mongodb/member-N/mongod.log that member's --logpath
 *
 * When another Mallard process already runs the set (the CLI while `mallard serve` runs), the
 * members answer on their ports as members of this set: they are used as they are, not started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient, MongoServerError } from 'mongodb';
import type { Logger } from '../../log.ts';

export const DEFAULT_REPLICA_SET_NAME = 'mallard';
export const DEFAULT_DATABASE = 'mallard';
/** First port tried for member 1 (the others follow); away from a system mongod's 27017. */
export const DEFAULT_BASE_PORT = 27217;
const STATE_FILE = 'replset.json';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
/** A member that ran this long before dying is restarted at once again (the backoff resets). */
const HEALTHY_AFTER_MS = 60_000;

export interface LocalReplicaSetOptions {
  /** Path of the mongod binary. */
  mongod: string;
  /** Mallard's data directory; the set lives in its `mongodb/` folder. */
  dataDir: string;
  members: 1 | 3;
  logger?: Logger;
  name?: string;
  basePort?: number;
  startTimeoutMs?: number;
  /** Cache of the WiredTiger storage engine per member, in GB (three members share one machine). */
  cacheSizeGb?: number;
}

export interface MemberLayout {
  index: number;
  dir: string;
  dbPath: string;
  logPath: string;
}

export interface ReplicaSetState {
  name: string;
  ports: number[];
}

export interface MemberStatus {
  index: number;
  port: number;
  pid: number | null;
  restarts: number;
}

export interface LocalReplicaSet {
  /** The URI of the set, with its database: what `store.mongodb.uri` would hold. */
  uri: string;
  name: string;
  ports: number[];
  /** False when another process runs the members: then stop() leaves them running. */
  owned: boolean;
  members(): MemberStatus[];
  stop(): Promise<void>;
}

export function replicaSetRoot(dataDir: string): string {
  return path.join(dataDir, 'mongodb');
}

export function memberLayout(dataDir: string, index: number): MemberLayout {
  const dir = path.join(replicaSetRoot(dataDir), `member-${index}`);
  return { index, dir, dbPath: path.join(dir, 'db'), logPath: path.join(dir, 'mongod.log') };
}

/** The mongod command line of one member. */
export function mongodArgs(
  layout: MemberLayout,
  options: { name: string; port: number; members: number; cacheSizeGb?: number },
): string[] {
  const args = [
    '--replSet',
    options.name,
    '--port',
    String(options.port),
    '--bind_ip',
    '127.0.0.1',
    '--dbpath',
    layout.dbPath,
    '--logpath',
    layout.logPath,
    '--logappend',
  ];
  // WiredTiger takes half the RAM by default: three members on one machine must share it.
  const cache = options.cacheSizeGb ?? (options.members > 1 ? 0.25 : undefined);
  if (cache !== undefined) args.push('--wiredTigerCacheSizeGB', String(cache));
  return args;
}

/** The document replSetInitiate takes. */
export function replicaSetConfig(name: string, ports: number[]): Record<string, unknown> {
  return {
    _id: name,
    members: ports.map((port, index) => ({ _id: index, host: `127.0.0.1:${port}` })),
  };
}

export function replicaSetUri(state: ReplicaSetState, database = DEFAULT_DATABASE): string {
  const hosts = state.ports.map((port) => `127.0.0.1:${port}`).join(',');
  return `mongodb://${hosts}/${database}?replicaSet=${encodeURIComponent(state.name)}`;
}

// --- state ---

function readState(root: string): ReplicaSetState | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, STATE_FILE), 'utf8');
  } catch {
    return null;
  }
  const state = JSON.parse(text) as ReplicaSetState;
  if (
    typeof state.name !== 'string' ||
    !Array.isArray(state.ports) ||
    state.ports.some((p) => !Number.isInteger(p))
  ) {
    throw new Error(`${path.join(root, STATE_FILE)} is damaged: expected {name, ports}`);
  }
  return state;
}

function writeState(root: string, state: ReplicaSetState): void {
  const file = path.join(root, STATE_FILE);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` free ports from `base` up, for a set started the first time. */
async function choosePorts(base: number, count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = base; ports.length < count && port < base + 1000; port++) {
    if (await portFree(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`no ${count} free ports from ${base} for the local replica set`);
  return ports;
}

async function loadOrCreateState(options: LocalReplicaSetOptions, root: string): Promise<ReplicaSetState> {
  const name = options.name ?? DEFAULT_REPLICA_SET_NAME;
  const existing = readState(root);
  if (existing) {
    if (existing.ports.length !== options.members) {
      throw new Error(
        `the local replica set in ${root} has ${existing.ports.length} member(s), but ` +
          `store.mongodb.local_members is ${options.members}; set it back, or move that folder away ` +
          'to start a new set (after `mallard db migrate` of the data)',
      );
    }
    return existing;
  }
  const state = { name, ports: await choosePorts(options.basePort ?? DEFAULT_BASE_PORT, options.members) };
  writeState(root, state);
  return state;
}

// --- talking to a member ---

interface Hello {
  setName?: string;
  isreplicaset?: boolean;
  isWritablePrimary?: boolean;
  ismaster?: boolean;
  primary?: string;
}

async function withMember<T>(port: number, run: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`, {
    serverSelectionTimeoutMS: 1000,
    connectTimeoutMS: 1000,
  });
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

function hello(port: number): Promise<Hello> {
  return withMember(port, async (client) => {
    const admin = client.db('admin');
    try {
      return (await admin.command({ hello: 1 })) as Hello;
    } catch (error) {
      // CommandNotFound: a mongod before 4.4.2 knows only the older name.
      if (!(error instanceof MongoServerError && error.code === 59)) throw error;
      return (await admin.command({ isMaster: 1 })) as Hello;
    }
  });
}

/** Hello of a member, or null while it does not answer. */
async function tryHello(port: number): Promise<Hello | null> {
  try {
    return await hello(port);
  } catch {
    return null;
  }
}

/** Initiates the set unless it is; waits until it has a writable primary. */
async function initiate(state: ReplicaSetState, deadline: number, logger?: Logger): Promise<void> {
  const first = state.ports[0]!;
  const answer = await hello(first);
  if (answer.setName === undefined) {
    if (!answer.isreplicaset) {
      throw new Error(`the mongod on port ${first} is not running as a replica set member (--replSet)`);
    }
    logger?.info({ name: state.name, ports: state.ports }, 'initiating the local replica set');
    try {
      await withMember(first, (client) =>
        client.db('admin').command({ replSetInitiate: replicaSetConfig(state.name, state.ports) }),
      );
    } catch (error) {
      // AlreadyInitialized (23): another process was quicker.
      if (!(error instanceof MongoServerError && error.code === 23)) throw error;
    }
  } else if (answer.setName !== state.name) {
    throw new Error(
      `the mongod on port ${first} belongs to replica set ${answer.setName}, not ${state.name}`,
    );
  }
  while (Date.now() < deadline) {
    const now = await tryHello(first);
    if (now?.primary || now?.isWritablePrimary) return;
    await sleep(250);
  }
  throw new Error('the local replica set elected no primary in time');
}

// --- supervised members ---

class Member {
  private child: ChildProcess | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  restarts = 0;

  constructor(
    readonly layout: MemberLayout,
    readonly port: number,
    private readonly binary: string,
    private readonly args: string[],
    private readonly logger?: Logger,
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): void {
    fs.mkdirSync(this.layout.dbPath, { recursive: true, mode: 0o700 });
    const startedAt = Date.now();
    // mongod logs to --logpath; what it prints before that (bad options) goes to our log.
    const child = spawn(this.binary, this.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    child.once('error', (error) =>
      this.logger?.error({ err: error, member: this.layout.index }, 'mongod could not be run'),
    );
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.stopping) return;
      if (Date.now() - startedAt >= HEALTHY_AFTER_MS) this.failures = 0;
      const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** this.failures++);
      this.logger?.warn(
        {
          member: this.layout.index,
          port: this.port,
          code,
          signal,
          stderr: stderr.trim(),
          restartInMs: delay,
        },
        'mongod exited; restarting',
      );
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (this.stopping) return;
        this.restarts++;
        this.start();
      }, delay);
    });
  }

  /** SIGTERM (mongod shuts down cleanly on it), SIGKILL after a grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

async function waitForMembers(ports: number[], deadline: number, members: Member[]): Promise<void> {
  for (const port of ports) {
    while (!(await tryHello(port))) {
      if (Date.now() > deadline) {
        const logs = members.map((m) => m.layout.logPath).join(', ');
        throw new Error(`the local mongod on port ${port} did not answer in time (see ${logs})`);
      }
      await sleep(200);
    }
  }
}

/** The members already answer as this set (another Mallard process runs them). */
async function runningElsewhere(state: ReplicaSetState): Promise<boolean> {
  for (const port of state.ports) {
    const answer = await tryHello(port);
    if (answer?.setName !== state.name) return false;
  }
  return true;
}

export async function startLocalReplicaSet(options: LocalReplicaSetOptions): Promise<LocalReplicaSet> {
  if (!fs.existsSync(options.mongod)) {
    throw new Error(`store.mongodb.local: no mongod binary at ${options.mongod}`);
  }
  const root = replicaSetRoot(options.dataDir);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const state = await loadOrCreateState(options, root);
  const uri = replicaSetUri(state);
  if (await runningElsewhere(state)) {
    options.logger?.info({ uri }, 'using the local replica set another process runs');
    return {
      uri,
      name: state.name,
      ports: state.ports,
      owned: false,
      members: () => [],
      stop: async () => {},
    };
  }
  for (const port of state.ports) {
    if (!(await portFree(port))) {
      throw new Error(`port ${port} of the local replica set is taken by another program`);
    }
  }
  const members = state.ports.map((port, index) => {
    const layout = memberLayout(options.dataDir, index + 1);
    const args = mongodArgs(layout, {
      name: state.name,
      port,
      members: state.ports.length,
      cacheSizeGb: options.cacheSizeGb,
    });
    return new Member(layout, port, options.mongod, args, options.logger);
  });
  const stopAll = () => Promise.all(members.map((member) => member.stop())).then(() => undefined);
  try {
    for (const member of members) member.start();
    const deadline = Date.now() + (options.startTimeoutMs ?? START_TIMEOUT_MS);
    await waitForMembers(state.ports, deadline, members);
    await initiate(state, deadline, options.logger);
  } catch (error) {
    await stopAll();
    throw error;
  }
  options.logger?.info({ uri, members: state.ports.length }, 'local replica set running');
  return {
    uri,
    name: state.name,
    ports: state.ports,
    owned: true,
    members: () =>
      members.map((m) => ({ index: m.layout.index, port: m.port, pid: m.pid, restarts: m.restarts })),
    stop: stopAll,
  };
}
