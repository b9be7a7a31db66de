/**
 * A real `mallard serve` with worker processes, for the tests of test/workers/: started on free
 * ports over a fresh data directory (accounts made beforehand in the store), its log lines read
 * as they come, so a test can wait for one ("worker ready") and tell which worker served a session.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hashPassword } from '../../server/auth/password.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { SmtpLineClient } from '../delivery/clients.ts';
import { MALLARD_BIN, ROOT, makeDataDir } from '../helpers/cli.ts';
import { RawImap } from '../helpers/imap-raw.ts';
import { freePort } from '../helpers/ports.ts';

export interface LogLine {
  msg?: string;
  worker?: number;
  workerPid?: number;
  supervisor?: boolean;
  session?: string;
  user?: string;
  [key: string]: unknown;
}

export interface ClusterOptions {
  workers: number;
  /** Accounts to create, name → password. */
  accounts: Record<string, string>;
  /** Creates the accounts in another store than the embedded one of the data directory. */
  createAccounts?(accounts: Record<string, string>): Promise<void>;
  /** More MALLARD_* settings. */
  env?: Record<string, string>;
}

async function createSqliteAccounts(dataDir: string, accounts: Record<string, string>): Promise<void> {
  const store = await SqliteStore.open(dataDir);
  for (const [username, password] of Object.entries(accounts)) {
    await store.createUser({ username, passwordHash: await hashPassword(password) });
  }
  await store.close();
}

export class Cluster {
  /** Client connections a test opened; `dispose` closes those still open. */
  readonly clients: RawImap[] = [];

  readonly lines: LogLine[] = [];
  private waiters: Array<() => void> = [];
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly ports: { imap: number; lmtp: number; admin: number },
  ) {
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) {
        this.output += `${part}\n`;
        try {
          this.lines.push(JSON.parse(part) as LogLine);
        } catch {
          // not a log line
        }
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    // 'close': after the last of its output was read.
    this.exited = new Promise((resolve) =>
      child.once('close', (code) => {
        resolve(code);
        for (const wake of this.waiters.splice(0)) wake(); // a waiting test learns it at once
      }),
    );
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const dataDir = makeDataDir('mallard-workers-');
    if (options.createAccounts) await options.createAccounts(options.accounts);
    else await createSqliteAccounts(dataDir, options.accounts);
    const ports = { imap: await freePort(), lmtp: await freePort(), admin: await freePort() };
    const child = spawn(process.execPath, [MALLARD_BIN, 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        MALLARD_CONFIG: '',
        MALLARD_DATA_DIR: dataDir,
        MALLARD_HOSTNAME: 'localhost',
        MALLARD_LOG_LEVEL: 'info',
        MALLARD_SERVER_WORKERS: String(options.workers),
        MALLARD_IMAP_HOST: '127.0.0.1',
        MALLARD_IMAP_PORT: String(ports.imap),
        MALLARD_IMAP_TLS_PORT: '0',
        MALLARD_LMTP_HOST: '127.0.0.1',
        MALLARD_LMTP_PORT: String(ports.lmtp),
        MALLARD_POP3_ENABLED: 'false',
        MALLARD_SMTP_ENABLED: 'false',
        MALLARD_SUBMISSION_ENABLED: 'false',
        MALLARD_WEB_ENABLED: 'false',
        MALLARD_MANAGESIEVE_ENABLED: 'false',
        MALLARD_ADMIN_HOST: '127.0.0.1',
        MALLARD_ADMIN_PORT: String(ports.admin),
        MALLARD_DKIM_ENABLED: 'false',
        MALLARD_DNS_SERVERS: '127.0.0.1:9',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const cluster = new Cluster(child, dataDir, ports);
    try {
      await cluster.waitFor((line) => line.msg === 'mallard started with workers', 60_000);
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** Resolves with the first log line (seen or to come) that `match` accepts. */
  async waitFor(match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = 0; ;) {
      for (; seen < this.lines.length; seen++) if (match(this.lines[seen]!)) return this.lines[seen]!;
      if (this.child.exitCode !== null) {
        await this.exited; // all its output read
        throw new Error(`mallard serve exited (${this.child.exitCode}):\n${this.output}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such log line within ${timeoutMs} ms:\n${this.output.slice(-4000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The worker (1..N) that logged in the `nth` session of `user` (0-based), from its log line. */
  async workerOfLogin(user: string, nth: number): Promise<number> {
    let seen = 0;
    const line = await this.waitFor((candidate) => {
      if (candidate.msg !== 'authenticated' || candidate.user !== user) return false;
      return seen++ === nth;
    });
    if (line.worker === undefined) throw new Error(`login #${nth} of ${user} names no worker`);
    return line.worker;
  }

  /** The pid of the worker in `slot` now (from its newest "worker ready"). */
  pidOf(slot: number): number {
    const ready = this.lines.filter((line) => line.msg === 'worker ready' && line.worker === slot);
    const pid = ready.at(-1)?.workerPid;
    if (pid === undefined) throw new Error(`worker ${slot} never became ready`);
    return pid;
  }

  async admin(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const token = fs.readFileSync(path.join(this.dataDir, 'admin.token'), 'utf8').trim();
    const response = await fetch(`http://127.0.0.1:${this.ports.admin}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async imap(localAddress?: string): Promise<RawImap> {
    const client = await RawImap.connect(this.ports.imap, { localAddress });
    this.clients.push(client);
    return client;
  }

  /**
   * Two sessions of `user`, logged in one after the other (so node:cluster's round robin gives
   * them to different workers), with the worker of each from the log; `loginsBefore` is how many
   * times `user` logged in before.
   */
  async twoSessions(user: string, password: string, loginsBefore = 0) {
    const first = await this.imap();
    await first.login(user, password);
    const second = await this.imap();
    await second.login(user, password);
    const workers = [
      await this.workerOfLogin(user, loginsBefore),
      await this.workerOfLogin(user, loginsBefore + 1),
    ];
    return { first, second, workers };
  }

  /** One message to `to` over LMTP, in a session of its own; the final reply. */
  async lmtpDeliver(to: string, subject: string): Promise<string> {
    const { client } = await SmtpLineClient.connect(this.ports.lmtp);
    try {
      await client.command('LHLO test.example');
      await client.command('MAIL FROM:<sender@example.net>');
      await client.command(`RCPT TO:<${to}>`);
      const [reply] = await client.data(Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`));
      return reply ?? '';
    } finally {
      client.close();
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  async dispose(): Promise<void> {
    for (const client of this.clients) client.close();
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
      await this.exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
