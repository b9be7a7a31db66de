/**
 * Helpers of the MongoDB process tests: `mallard serve` as a separate OS process on a MongoDB URI
 * (real TCP on free loopback ports), a store opened on the same URI for setting up users, and a
 * raw LMTP/POP3 line client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashPassword } from '../../server/auth/password.ts';
import { loadConfig } from '../../server/config/load.ts';
import { openStore } from '../../server/main.ts';
import type { Store } from '../../server/store/types.ts';
import { MALLARD_BIN, makeDataDir, ROOT } from '../helpers/cli.ts';
import { freePort } from '../helpers/ports.ts';

const START_TIMEOUT_MS = 90_000;

export interface ServerProcess {
  imapPort: number;
  pop3Port: number;
  lmtpPort: number;
  smtpPort: number;
  dataDir: string;
  child: ChildProcess;
  /** Everything the process printed so far (logs at warn and above). */
  output(): string;
  stop(): Promise<void>;
}

/** The environment of a server (or CLI) process on the MongoDB at `uri`. */
export function mongoEnv(uri: string, dataDir: string): Record<string, string> {
  return {
    MALLARD_CONFIG: '',
    MALLARD_DATA_DIR: dataDir,
    MALLARD_STORE_ENGINE: 'mongodb',
    MALLARD_STORE_MONGODB_URI: uri,
    MALLARD_HOSTNAME: 'localhost',
    MALLARD_LOG_LEVEL: process.env.MALLARD_TEST_LOG ?? 'warn',
  };
}

/**
 * Starts `mallard serve` and waits until IMAP greets: on the MongoDB at `uri`, or (`sqliteDataDir`)
 * on the embedded store of that data directory, which is then left in place on stop().
 */
export async function startServerProcess(
  uri: string | { sqliteDataDir: string },
  extraEnv: Record<string, string> = {},
): Promise<ServerProcess> {
  // The free ports are chosen before the server binds them: another test may take one meanwhile.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePorts(uri, extraEnv);
    } catch (error) {
      if (attempt >= 3 || !/EADDRINUSE|in use/.test(String(error))) throw error;
    }
  }
}

async function startOnFreePorts(
  uri: string | { sqliteDataDir: string },
  extraEnv: Record<string, string>,
): Promise<ServerProcess> {
  const sqlite = typeof uri === 'string' ? null : uri.sqliteDataDir;
  const dataDir = sqlite ?? makeDataDir('mallard-mongo-');
  const storeEnv =
    sqlite === null
      ? mongoEnv(uri as string, dataDir)
      : { ...mongoEnv('', dataDir), MALLARD_STORE_ENGINE: 'sqlite' };
  const [imapPort, pop3Port, lmtpPort, smtpPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env = {
    ...process.env,
    ...storeEnv,
    MALLARD_IMAP_HOST: '127.0.0.1',
    MALLARD_IMAP_PORT: String(imapPort),
    MALLARD_IMAP_TLS_PORT: '0',
    MALLARD_POP3_HOST: '127.0.0.1',
    MALLARD_POP3_PORT: String(pop3Port),
    MALLARD_POP3_TLS_PORT: '0',
    MALLARD_LMTP_HOST: '127.0.0.1',
    MALLARD_LMTP_PORT: String(lmtpPort),
    MALLARD_SMTP_HOST: '127.0.0.1',
    MALLARD_SMTP_PORT: String(smtpPort),
    MALLARD_SUBMISSION_ENABLED: 'false',
    MALLARD_WEB_ENABLED: 'false',
    MALLARD_MANAGESIEVE_ENABLED: 'false',
    MALLARD_ADMIN_PORT: '0',
    // One process: the tests measure its memory and kill it as a crash would (test/workers/ runs
    // worker processes).
    MALLARD_SERVER_WORKERS: '1',
    ...extraEnv,
  };
  const child = spawn(process.execPath, [MALLARD_BIN, 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await greets(imapPort))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`mallard serve exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mallard serve did not start within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(200);
  }
  return {
    imapPort,
    pop3Port,
    lmtpPort,
    smtpPort,
    dataDir,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      if (sqlite === null) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Whether an IMAP server on `port` sends its greeting. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('* OK')));
    socket.once('error', () => done(false));
  });
}

/** The store on `uri`, opened in this process as the server would (for users and checks). */
export async function openMongo(uri: string): Promise<Store> {
  const dataDir = makeDataDir('mallard-mongo-cli-');
  try {
    return await openStore(loadConfig({ env: mongoEnv(uri, dataDir) }));
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function addUser(store: Store, username: string, password: string): Promise<string> {
  const user = await store.createUser({ username, passwordHash: await hashPassword(password) });
  return user.id;
}

/** A line client for POP3, LMTP and SMTP: send a line, read the reply lines. */
export class TextClient {
  private buffer = '';
  private waiter: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<TextClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new TextClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Reads lines until one matches `last`; returns them joined. */
  async read(last: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      const index = lines.slice(0, -1).findIndex((line) => last.test(line));
      if (index >= 0) {
        const taken = lines.slice(0, index + 1).join('\r\n') + '\r\n';
        this.buffer = this.buffer.slice(taken.length);
        return taken;
      }
      if (this.closed)
        throw new Error(`connection closed waiting for ${last}; got ${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${last}; got ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  /** Sends one line and reads the reply through a line matching `last`. */
  async send(line: string, last: RegExp, timeoutMs?: number): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.read(last, timeoutMs);
  }

  write(data: string): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** An SMTP/LMTP reply's final line (three digits and a space). */
export const FINAL = /^\d{3} /;
