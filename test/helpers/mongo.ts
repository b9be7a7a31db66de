/**
 * Starts the MongoDB stand-in (mongo-java-server behind test/mongo-stand-in/MongoStandIn.java) for
 * tests of the mongodb store engine: no mongod can be installed on our machines. Builds it first
 * when needed (test/mongo-stand-in/build.sh locks, so parallel workers build it once).
 *
 * The stand-in lacks transactions, sessions, TTL and partial indexes, collation and more, and its
 * non-unique indexes are full scans: keep test data small and never benchmark on it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const STAND_IN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'mongo-stand-in');
const BUILD_DIR = path.join(STAND_IN_DIR, 'build');
const BUILD_STAMP = path.join(BUILD_DIR, '.built');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export interface MongoStandIn {
  /** `mongodb://127.0.0.1:<port>` (no database: see freshDatabaseUri). */
  uri: string;
  port: number;
  /** Closes its stdin and waits for a clean exit (the H2 file is closed properly). */
  stop(): Promise<void>;
  /** SIGKILL, as a crashed or unplugged database; resolves once the process is gone. */
  kill(): Promise<void>;
}

export interface MongoStandInOptions {
  /** Persist into this H2 file (the default is in memory); a restart on it keeps the data. */
  h2File?: string;
  /** Listen on this port (default: a free one). */
  port?: number;
}

/** Builds the stand-in unless it is built and up to date. */
export function ensureMongoStandInBuilt(): void {
  if (isBuilt()) return;
  const result = spawnSync('bash', [path.join(STAND_IN_DIR, 'build.sh')], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `building the MongoDB stand-in failed (${result.status}):\n${result.stdout}${result.stderr}`,
    );
  }
}

function isBuilt(): boolean {
  try {
    const built = fs.statSync(BUILD_STAMP).mtimeMs;
    return ['MongoStandIn.java', 'pom.xml'].every(
      (source) => fs.statSync(path.join(STAND_IN_DIR, source)).mtimeMs < built,
    );
  } catch {
    return false;
  }
}

/** Starts a stand-in and resolves once it listens. */
export async function startMongoStandIn(options: MongoStandInOptions = {}): Promise<MongoStandIn> {
  ensureMongoStandInBuilt();
  const args = [
    '-cp',
    `${path.join(BUILD_DIR, 'classes')}${path.delimiter}${path.join(BUILD_DIR, 'lib', '*')}`,
  ];
  // A small heap and quick start-up: the test data is small, and several stand-ins may run at once.
  args.unshift('-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC');
  args.push('MongoStandIn');
  if (options.port !== undefined) args.push('--port', String(options.port));
  if (options.h2File !== undefined) args.push('--h2', options.h2File);
  const child = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const port = await waitForPort(child, exited);
  const uri = `mongodb://127.0.0.1:${port}`;
  return {
    uri,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

function waitForPort(child: ChildProcess, exited: Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const fail = (reason: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`MongoDB stand-in ${reason}:\n${stdout}${stderr}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.stdin!.on('error', () => undefined); // it may be gone already
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (stderr += chunk));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^PORT (\d+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('error', (error) => fail(`could not be run (${error.message})`));
    void exited.then(() => fail(`exited (${child.exitCode ?? child.signalCode}) before listening`));
  });
}

let databaseCounter = 0;

/**
 * `base` with a database name of its own, so every test starts on an empty database (dropping
 * databases between tests costs more than making new ones). Keeps the hosts and the query string.
 */
export function freshDatabaseUri(base: string): string {
  const name = `mallard_test_${process.pid}_${++databaseCounter}_${randomBytes(4).toString('hex')}`;
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(base);
  if (!match) throw new Error(`not a MongoDB URI: ${base}`);
  return `${match[1]}/${name}${match[2] ?? ''}`;
}
