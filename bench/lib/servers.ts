/**
 * The two servers under test, behind one interface: Mallard as its own process (`mallard serve`, so
 * its memory can be measured and the benchmark client does not share its event loop), and Debian's
 * Dovecot through the test helper, with the connection limits raised for the idle-memory workload.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dovecotAvailable, startDovecot } from '../../test/helpers/dovecot.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { processMemory, processTree, serverProcesses, treeCpuTicks, type MemorySample } from './memory.ts';

export const BENCH_USER = 'bench@example.test';
export const BENCH_PASSWORD = 'bench-password-0';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export type ServerName = 'Mallard' | 'Dovecot';

export interface BenchServer {
  name: ServerName;
  port: number;
  user: string;
  password: string;
  memory(): MemorySample;
  /** The server's processes now (for a closer look at their memory). */
  pids(): number[];
  /** False once the server process has exited by itself (a crash). */
  alive(): boolean;
  /** CPU time used so far by all of the server's processes, in clock ticks (see treeCpuTicks). */
  cpuTicks(): number;
  /** Starts a fresh server process on the same data, for a memory baseline without earlier garbage. */
  restart?(): Promise<void>;
  /** Warnings and errors the server logged so far (the last 10,000 lines at most). */
  problems(): string[];
  stop(): Promise<void>;
}

/** Raised limits so that 1,000 connections of one user from one address are allowed. */
export const DOVECOT_BENCH_CONFIG = `protocol imap {
  mail_max_userip_connections = 2000
}
service imap {
  process_limit = 2000
}
service imap-login {
  process_limit = 64
  client_limit = 2000
}
default_client_limit = 4000
`;

/**
 * Added to DOVECOT_BENCH_CONFIG so that `connections` IMAP sessions of one user from one address
 * can be open at once (bench/idlers.ts): an imap process each, the login processes in
 * high-performance mode (`service_count = 0`: a few long-lived imap-login processes, each taking
 * many clients, instead of one per connection), and room for every process in the services they
 * all talk to (log, stats, anvil, auth take `default_client_limit` connections).
 */
export function dovecotConnectionLimits(connections: number): string {
  const sessions = connections + 100;
  return `protocol imap {
  mail_max_userip_connections = ${sessions}
}
service imap {
  process_limit = ${sessions}
}
service imap-login {
  service_count = 0
  process_min_avail = ${os.availableParallelism()}
  process_limit = 64
  client_limit = ${Math.max(1000, Math.ceil(sessions / os.availableParallelism()))}
}
default_process_limit = ${sessions}
default_client_limit = ${sessions + 1000}
`;
}

export function waitForPort(
  port: number,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (!alive()) reject(new Error('the server exited before listening'));
        else if (Date.now() > deadline)
          reject(new Error(`nothing listened on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function dovecotVersion(): string {
  const result = spawnSync('dovecot', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : '';
}

export function dovecotInfo(): { installed: boolean; version: string } {
  const installed = dovecotAvailable();
  return { installed, version: installed ? dovecotVersion() : '' };
}

export async function startDovecotServer(extraConfig = ''): Promise<BenchServer & { dir: string }> {
  const server = await startDovecot([[BENCH_USER, BENCH_PASSWORD]], DOVECOT_BENCH_CONFIG + extraConfig);
  const logFile = path.join(server.dir, 'dovecot.log');
  return {
    name: 'Dovecot',
    dir: server.dir,
    port: server.port,
    user: BENCH_USER,
    password: BENCH_PASSWORD,
    memory: () => processMemory(processTree(server.pid)),
    pids: () => processTree(server.pid),
    alive: () => processMemory([server.pid]).processes === 1,
    cpuTicks: () => treeCpuTicks(server.pid),
    problems() {
      let text = '';
      try {
        text = fs.readFileSync(logFile, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((line) => /\b(Warning|Error|Fatal|Panic):/.test(line))
        .slice(-10_000);
    },
    stop: () => server.stop(),
  };
}

/** A bounded tail of a child's output lines. */
class LineTail {
  readonly lines: string[] = [];
  private partial = '';
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > 10_000) this.partial = this.partial.slice(0, 10_000);
    for (const line of parts) {
      if (line.trim() === '') continue;
      this.lines.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
      if (this.lines.length > this.limit) this.lines.shift();
    }
  }
}

function mallardEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MALLARD_CONFIG: '',
    MALLARD_DATA_DIR: dataDir,
    MALLARD_HOSTNAME: 'localhost',
    MALLARD_LOG_LEVEL: 'warn',
    MALLARD_IMAP_HOST: '127.0.0.1',
    MALLARD_IMAP_PORT: String(port),
    MALLARD_IMAP_TLS_PORT: '0',
    MALLARD_IMAP_MAX_CONNECTIONS_PER_USER: '2000',
    // Every bench client comes from 127.0.0.1: raised as Dovecot's per-IP limit is (DOVECOT_BENCH_CONFIG).
    MALLARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '100000',
    // The login guard lets one address have this many logins under way (the rest wait, up to a
    // hundred, then are told to retry): the login loop's 200 clients all come from 127.0.0.1.
    MALLARD_AUTH_ADDRESS_FAILURE_LIMIT: '1000',
    MALLARD_POP3_HOST: '127.0.0.1',
    MALLARD_POP3_PORT: '0',
    MALLARD_POP3_TLS_PORT: '0',
    MALLARD_LMTP_PORT: '0',
    MALLARD_SMTP_HOST: '127.0.0.1',
    MALLARD_SMTP_PORT: '0',
    MALLARD_SUBMISSION_PORT: '0',
    MALLARD_WEB_PORT: '0',
    MALLARD_MANAGESIEVE_PORT: '0',
    MALLARD_SUBMISSION_TLS_PORT: '0',
    MALLARD_ADMIN_PORT: '0',
  };
}

/** Level names of pino's numeric levels, for the log lines shown to the reader. */
function describeLogLine(line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as {
      level?: number;
      msg?: string;
      err?: { message?: string; stack?: string };
    };
    if ((entry.level ?? 0) < 40) return undefined;
    return line;
  } catch {
    return line; // not JSON: a crash or a stack trace
  }
}

/**
 * `mallard serve` on a fresh data directory; `env` adds to (or overrides) the server's
 * environment: more listeners (LMTP), MALLARD_STORE_SQLITE_THREAD, MALLARD_SERVER_WORKERS, ...
 */
export async function startMallardServer(
  env: NodeJS.ProcessEnv = {},
  /** A directory for V8 CPU profiles of `mallard serve` (`--cpu-prof`, written when it stops). */
  profileDir?: string,
): Promise<BenchServer & { dataDir: string; pid(): number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bench-data-'));
  const port = await freePort();
  const serverEnv = { ...mallardEnv(dataDir, port), ...env };
  const cli = path.join(ROOT, 'bin', 'mallard.mjs');
  // Users are only made in local domains: the bench user's comes first.
  const domain = spawnSync(process.execPath, [cli, 'domain', 'add', BENCH_USER.split('@')[1]!], {
    cwd: ROOT,
    env: serverEnv,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (domain.status !== 0) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`mallard domain add failed (${domain.status ?? domain.signal}): ${domain.stderr.trim()}`);
  }
  const added = spawnSync(process.execPath, [cli, 'user', 'add', BENCH_USER, '--password', '-'], {
    cwd: ROOT,
    env: serverEnv,
    input: `${BENCH_PASSWORD}\n`,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (added.status !== 0) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error(
      `mallard domain add or user add failed (${added.status ?? added.signal}): ${(added.stderr || added.stdout).trim()}`,
    );
  }

  const tail = new LineTail(10_000);
  let child: ChildProcess | undefined;
  let exited = true;
  const exits: string[] = [];

  const launch = async () => {
    const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const process_ = spawn(process.execPath, [...profile, cli, 'serve'], {
      cwd: ROOT,
      env: serverEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = process_;
    exited = false;
    process_.stdout!.on('data', (chunk: Buffer) => tail.push(chunk));
    process_.stderr!.on('data', (chunk: Buffer) => tail.push(chunk));
    process_.once('exit', (code, signal) => {
      exited = true;
      if (signal !== 'SIGTERM' && code !== 0) exits.push(`mallard serve exited (${code ?? signal})`);
    });
    try {
      await waitForPort(port, 30_000, () => !exited);
    } catch (error) {
      const detail = tail.lines.slice(-5).join(' | ');
      await terminate();
      throw new Error(
        `mallard serve did not start: ${(error as Error).message}${detail ? `: ${detail}` : ''}`,
      );
    }
  };

  const terminate = async () => {
    const running = child;
    if (!running || exited) return;
    const done = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    const timer = setTimeout(() => {
      exits.push('mallard serve did not stop within 10 s of SIGTERM; killed');
      running.kill('SIGKILL');
    }, 10_000);
    await done;
    clearTimeout(timer);
  };

  try {
    await launch();
  } catch (error) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  return {
    name: 'Mallard',
    dataDir,
    port,
    user: BENCH_USER,
    password: BENCH_PASSWORD,
    // The server's processes (the supervisor and its workers when server.workers > 1), without
    // tsx's esbuild service, which no connection changes.
    pids: () => (child?.pid && !exited ? serverProcesses(child.pid) : []),
    memory: () =>
      child?.pid && !exited
        ? processMemory(serverProcesses(child.pid))
        : { rssKiB: 0, pssKiB: 0, processes: 0 },
    alive: () => !exited,
    cpuTicks: () => (child?.pid && !exited ? treeCpuTicks(child.pid) : 0),
    pid: () => child?.pid ?? 0,
    async restart() {
      await terminate();
      await launch();
    },
    problems: () => [...exits, ...tail.lines.map(describeLogLine).filter((line): line is string => !!line)],
    async stop() {
      await terminate();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
