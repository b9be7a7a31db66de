/**
 * `npm run bench -- canary`: does one hostile user freeze everyone, and how much memory can
 * strangers make the server hold? Mallard (`mallard serve`, its own process) beside Debian's
 * Dovecot, in the same run, one server at a time.
 *
 * 1. Canary: a separate process (bench/canary-client.ts) sends NOOP on a logged-in session and a
 *    fresh connect + LOGIN every tenth operation, first alone (baseline), then while one hostile
 *    session runs the worst commands we know in a loop: a 1,024-byte pathological LIST pattern,
 *    LIST-STATUS over thousands of mailboxes, a 60 KB sequence set, UID FETCH 1:4294967295, a
 *    deeply nested SEARCH, a full-text SEARCH that matches nothing, a keyword flood (STORE of 300
 *    keywords on every message and back), and FETCH of a 50 MB message. Reported: the canary's
 *    p50/p99/max (issue 19's target: p99 ≤ 50 ms, max ≤ 250 ms on a 2-core machine).
 * 2. Memory (RSS, and PSS for Dovecot's many processes) before and during: 16 pre-login
 *    connections each announcing a 64 MB literal; N slow connections dripping a byte every 5 s
 *    (N = --slow, as many as the descriptor limit allows; and whether real logins still get in);
 *    300 MB of pipelined NOOPs whose answers are never read.
 *
 * Everything is on 127.0.0.1, so Mallard's per-address limit is raised for the run (the attackers
 * stand for many addresses); every other limit is the shipped default.
 *
 *   npm run bench -- canary [--seconds S] [--baseline-seconds S] [--mailboxes N] [--slow N]
 *                           [--slow-seconds S] [--only mallard|dovecot] [--no-memory]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ImapClient, expectOk, withTimeout, type CommandResult } from './lib/imap-client.ts';
import type { MemorySample } from './lib/memory.ts';
import { dovecotInfo, startDovecotServer, startMallardServer, type BenchServer } from './lib/servers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Options {
  seconds: number;
  baselineSeconds: number;
  mailboxes: number;
  slow: number;
  slowSeconds: number;
  only?: string;
  memory: boolean;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '30' },
      'baseline-seconds': { type: 'string', default: '10' },
      mailboxes: { type: 'string', default: '2000' },
      slow: { type: 'string', default: '2000' },
      'slow-seconds': { type: 'string', default: '75' },
      only: { type: 'string' },
      'no-memory': { type: 'boolean', default: false },
    },
  });
  const int = (name: string, text: string | undefined, min: number, max: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      console.error(`--${name}: expected an integer from ${min} to ${max}, got ${text}`);
      process.exit(2);
    }
    return value;
  };
  // Each slow connection costs a descriptor here and one on the server: keep half the limit free.
  const limit = descriptorLimit();
  return {
    seconds: int('seconds', values.seconds, 1, 600),
    baselineSeconds: int('baseline-seconds', values['baseline-seconds'], 1, 600),
    mailboxes: int('mailboxes', values.mailboxes, 0, 20_000),
    slow: Math.min(int('slow', values.slow, 0, 100_000), Math.floor(limit / 2) - 200),
    slowSeconds: int('slow-seconds', values['slow-seconds'], 1, 600),
    only: values.only?.toLowerCase(),
    memory: !values['no-memory'],
  };
}

function descriptorLimit(): number {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux
  }
  return 1024;
}

const log = (line: string) => console.log(line);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Latencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function latencies(values: number[]): Latencies {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
  };
}

// --- setup: what the hostile user has to work with ---

const BIG_MESSAGE_BYTES = 50 * 1024 * 1024;

function smallMessage(index: number): Buffer {
  return Buffer.from(
    `From: a${index}@example.test\r\nTo: bench@example.test\r\nSubject: message ${index}\r\n` +
      `Message-ID: <${index}@canary.bench>\r\n\r\n${'Some ordinary text. '.repeat(20)}\r\n`,
  );
}

function bigMessage(): Buffer {
  const head = 'From: big@example.test\r\nSubject: fifty megabytes\r\n\r\n';
  const line = 'abcdefghijklmnopqrstuvwxyz0123456789 the quick brown fox jumps over\r\n';
  const body = line.repeat(Math.ceil((BIG_MESSAGE_BYTES - head.length) / line.length));
  return Buffer.from(head + body);
}

async function login(server: BenchServer, timeoutMs = 30_000): Promise<ImapClient> {
  const client = await ImapClient.connect({ port: server.port, timeoutMs });
  await withTimeout(client.login(server.user, server.password), timeoutMs, 'LOGIN');
  return client;
}

async function prepare(server: BenchServer, opts: Options): Promise<void> {
  const started = performance.now();
  const client = await login(server);
  try {
    for (let from = 0; from < opts.mailboxes; from += 100) {
      const batch = [];
      for (let index = from; index < Math.min(opts.mailboxes, from + 100); index++) {
        batch.push(client.command(`CREATE "Hostile/Folder ${index}/aaaaaaaaaaaa"`, { timeoutMs: 120_000 }));
      }
      await Promise.all(batch);
    }
    expectOk(await client.command('CREATE Flood'), 'CREATE Flood');
    for (let index = 0; index < 200; index++) {
      const target = index < 50 ? 'Flood' : 'INBOX';
      expectOk(await client.command([`APPEND ${target} `, smallMessage(index)]), 'APPEND');
    }
    expectOk(await client.command(['APPEND INBOX ', bigMessage()], { timeoutMs: 300_000 }), 'APPEND 50 MB');
  } finally {
    await client.logout();
  }
  log(
    `  ${server.name}: ${opts.mailboxes} mailboxes, 200 messages and one of 50 MB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

// --- the hostile session ---

function hugeSequenceSet(): string {
  const numbers: string[] = [];
  let length = 0;
  for (let n = 1; length < 60_000; n += 2) {
    const text = String(n);
    numbers.push(text);
    length += text.length + 1;
  }
  return numbers.join(',');
}

const KEYWORDS = Array.from({ length: 300 }, (_, index) => `flood${index}`).join(' ');

/** The worst commands, each with the mailbox it needs selected. */
const HOSTILE: Array<{ name: string; select?: string; command: string; timeoutMs?: number }> = [
  { name: 'LIST 1,024-byte pattern', command: `LIST "" "${'*a'.repeat(511)}*b"` },
  { name: 'LIST-STATUS all mailboxes', command: 'LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN))' },
  { name: 'FETCH 60 KB sequence set', select: 'INBOX', command: `FETCH ${hugeSequenceSet()} (FLAGS)` },
  { name: 'UID FETCH 1:4294967295', select: 'INBOX', command: 'UID FETCH 1:4294967295 (FLAGS)' },
  {
    name: 'SEARCH nested 90 deep',
    select: 'INBOX',
    command: `UID SEARCH ${'('.repeat(90)}OR SUBJECT x FROM y${')'.repeat(90)}`,
  },
  { name: 'SEARCH TEXT (no match)', select: 'INBOX', command: 'UID SEARCH TEXT "zq-no-such-text"' },
  { name: 'STORE 300 keywords', select: 'Flood', command: `STORE 1:* +FLAGS.SILENT (${KEYWORDS})` },
  { name: 'STORE -300 keywords', select: 'Flood', command: `STORE 1:* -FLAGS.SILENT (${KEYWORDS})` },
  { name: 'FETCH 50 MB body', select: 'INBOX', command: 'FETCH * BODY.PEEK[]', timeoutMs: 300_000 },
];

interface HostileStats {
  runs: number;
  statuses: Record<string, number>;
  maxMs: number;
  /** The slowest canary operation that overlapped a run of this command (see attribute()). */
  canaryWorstMs: number;
}

/** When each hostile command ran (wall clock, ms), to match the canary's slow operations. */
const hostileRuns: Array<{ name: string; start: number; end: number }> = [];

async function hostileLoop(server: BenchServer, stopAt: number): Promise<Record<string, HostileStats>> {
  const stats: Record<string, HostileStats> = {};
  let client = await login(server);
  let selected = '';
  while (performance.now() < stopAt) {
    for (const step of HOSTILE) {
      if (performance.now() >= stopAt) break;
      const entry = (stats[step.name] ??= { runs: 0, statuses: {}, maxMs: 0, canaryWorstMs: 0 });
      const started = performance.now();
      const wallClock = Date.now();
      let status: string;
      try {
        if (step.select && step.select !== selected) {
          expectOk(await client.command(`SELECT ${step.select}`, { collect: false }), 'SELECT');
          selected = step.select;
        }
        const result: CommandResult = await client.command(step.command, {
          timeoutMs: step.timeoutMs ?? 120_000,
          collect: false,
          keepLiterals: false,
        });
        status = result.status;
      } catch (error) {
        status = `error: ${(error as Error).message.slice(0, 60)}`;
        client.destroy();
        client = await login(server);
        selected = '';
      }
      entry.runs++;
      entry.statuses[status] = (entry.statuses[status] ?? 0) + 1;
      entry.maxMs = Math.max(entry.maxMs, performance.now() - started);
      hostileRuns.push({ name: step.name, start: wallClock, end: Date.now() });
    }
  }
  await client.logout();
  return stats;
}

// --- the canary ---

interface CanaryResult {
  noop: Latencies;
  login: Latencies;
  all: Latencies;
  errors: string[];
  /** Each operation: wall-clock start and latency in ms. */
  at: Array<[number, number]>;
}

/**
 * Charges each canary operation to the hostile command it overlapped most, and keeps per command
 * the slowest canary operation charged to it: which commands make everyone else wait.
 */
function attribute(canary: CanaryResult, stats: Record<string, HostileStats>): void {
  for (const [start, latency] of canary.at) {
    const end = start + latency;
    let best: { name: string; overlap: number } | null = null;
    for (const run of hostileRuns) {
      const overlap = Math.min(end, run.end) - Math.max(start, run.start);
      if (overlap > 0 && (!best || overlap > best.overlap)) best = { name: run.name, overlap };
    }
    const entry = best ? stats[best.name] : undefined;
    if (entry) entry.canaryWorstMs = Math.max(entry.canaryWorstMs, latency);
  }
}

function runCanary(server: BenchServer, seconds: number): Promise<CanaryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin', 'run-ts.mjs'),
        'bench/canary-client.ts',
        '--port',
        String(server.port),
        '--user',
        server.user,
        '--password',
        server.password,
        '--seconds',
        String(seconds),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString().slice(0, 10_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 120) * 1000);
    child.once('close', () => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const raw = JSON.parse(line) as {
          noop: number[];
          login: number[];
          at: Array<[number, number]>;
          errors: string[];
        };
        resolve({
          at: raw.at,
          noop: latencies(raw.noop),
          login: latencies(raw.login),
          all: latencies([...raw.noop, ...raw.login]),
          errors: raw.errors,
        });
      } catch {
        reject(new Error(`canary printed no result: ${stderr.slice(0, 500) || stdout.slice(0, 500)}`));
      }
    });
  });
}

// --- memory attacks, on raw sockets ---

/** A TCP connection (a server whose accept queue is full may never complete it: 5 s at most). */
function connectRaw(port: number, timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timed out'));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Resolves with what the server said once `pattern` matches, or when the socket closes. */
function waitFor(socket: net.Socket, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', done);
      resolve(text);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (pattern.test(text)) done();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', onData);
    socket.once('close', done);
  });
}

/** Writes `total` bytes, honouring backpressure; stops when the server stops reading for `stallMs`. */
async function pour(socket: net.Socket, total: number, chunk: Buffer, stallMs = 5000): Promise<number> {
  let written = 0;
  while (written < total && !socket.destroyed) {
    written += chunk.length;
    if (socket.write(chunk)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const finish = (value: boolean) => {
        clearTimeout(timer);
        socket.off('drain', done);
        socket.off('close', done);
        resolve(value);
      };
      const done = () => finish(true);
      const timer = setTimeout(() => finish(false), stallMs);
      socket.once('drain', done);
      socket.once('close', done);
    });
    if (!drained) break;
  }
  return written;
}

interface MemoryFigure {
  before: MemorySample;
  during: MemorySample;
  note: string;
}

async function preloginLiterals(server: BenchServer): Promise<MemoryFigure> {
  const before = server.memory();
  const literal = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const sockets: net.Socket[] = [];
  let continued = 0;
  await Promise.all(
    Array.from({ length: 16 }, async (_, index) => {
      const socket = await connectRaw(server.port);
      socket.on('error', () => undefined);
      sockets.push(socket);
      await waitFor(socket, /^\* OK.*\r\n/m);
      if (index % 2 === 0) {
        socket.write(`a LOGIN {${literal}}\r\n`);
        const answer = await waitFor(socket, /^(\+|a NO|a BAD).*\r\n/m);
        if (/^\+/m.test(answer)) {
          continued++;
          await pour(socket, literal, chunk);
        }
      } else {
        socket.write(`a LOGIN {${literal}+}\r\n`);
        await pour(socket, literal, chunk);
      }
    }),
  );
  const during = server.memory();
  const open = sockets.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
  for (const socket of sockets) socket.destroy();
  return { before, during, note: `"+" given to ${continued}/8 synchronising; ${open}/16 still open` };
}

async function slowConnections(server: BenchServer, count: number, seconds: number): Promise<MemoryFigure> {
  const before = server.memory();
  const sockets = new Set<net.Socket>();
  let failedToConnect = 0;
  const started = performance.now();
  for (let from = 0; from < count; from += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - from) }, async () => {
        try {
          const socket = await connectRaw(server.port);
          socket.on('error', () => undefined);
          socket.on('data', () => undefined);
          socket.once('close', () => sockets.delete(socket));
          socket.write('a'); // the start of a command that never ends
          sockets.add(socket);
        } catch {
          failedToConnect++;
        }
      }),
    );
  }
  const drip = setInterval(() => {
    for (const socket of sockets) socket.write('a');
  }, 5000);
  await sleep(2000);
  const during = server.memory();
  const openAfterConnect = sockets.size;
  // Can a real user log in meanwhile?
  let logins = 0;
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      const client = await login(server, 10_000);
      logins++;
      await client.logout();
    } catch {
      // counted as a failure
    }
  }
  const waitMs = seconds * 1000 - (performance.now() - started);
  if (waitMs > 0) await sleep(waitMs);
  const openAtEnd = sockets.size;
  clearInterval(drip);
  for (const socket of sockets) socket.destroy();
  return {
    before,
    during,
    note:
      `${count} opened (${failedToConnect} failed), ${openAfterConnect} open after 2 s, ` +
      `${openAtEnd} still open after ${seconds} s; real logins meanwhile: ${logins}/10`,
  };
}

async function pipelinedInput(server: BenchServer): Promise<MemoryFigure> {
  const socket = await connectRaw(server.port);
  socket.on('error', () => undefined);
  await waitFor(socket, /^\* OK.*\r\n/m);
  socket.write(`a LOGIN "${server.user}" "${server.password}"\r\n`);
  await waitFor(socket, /^a (OK|NO|BAD).*\r\n/m);
  socket.pause(); // the answers are never read
  const before = server.memory();
  const chunk = Buffer.from('n NOOP\r\n'.repeat(131_072));
  const written = await pour(socket, 300 * 1024 * 1024, chunk);
  const during = server.memory();
  socket.destroy();
  return {
    before,
    during,
    note: `${(written / 1048576).toFixed(0)} MB of 300 MB taken before the server stopped reading`,
  };
}

// --- the run ---

interface ServerFigures {
  baseline?: CanaryResult;
  attacked?: CanaryResult;
  hostile?: Record<string, HostileStats>;
  memory: Record<string, MemoryFigure | string>;
  error?: string;
}

const MEMORY_ROWS = ['16 pre-login 64 MB literals', 'slow connections', '300 MB pipelined, unread'];

async function measure(server: BenchServer, opts: Options): Promise<ServerFigures> {
  const figures: ServerFigures = { memory: {} };
  log(`\n${server.name} on 127.0.0.1:${server.port}`);
  await prepare(server, opts);
  log(`  canary alone for ${opts.baselineSeconds} s…`);
  figures.baseline = await runCanary(server, opts.baselineSeconds);
  log(`  canary beside the hostile session for ${opts.seconds} s…`);
  const stopAt = performance.now() + opts.seconds * 1000;
  const [attacked, hostile] = await Promise.all([
    runCanary(server, opts.seconds),
    hostileLoop(server, stopAt),
  ]);
  figures.attacked = attacked;
  figures.hostile = hostile;
  attribute(attacked, hostile);
  hostileRuns.length = 0;
  log(
    `  canary: p50 ${attacked.all.p50.toFixed(1)} ms, p99 ${attacked.all.p99.toFixed(1)} ms, max ${attacked.all.max.toFixed(1)} ms`,
  );
  if (!opts.memory) return figures;
  const attacks: Array<[string, () => Promise<MemoryFigure>]> = [
    [MEMORY_ROWS[0]!, () => preloginLiterals(server)],
    [MEMORY_ROWS[1]!, () => slowConnections(server, opts.slow, opts.slowSeconds)],
    [MEMORY_ROWS[2]!, () => pipelinedInput(server)],
  ];
  for (const [name, attack] of attacks) {
    log(`  ${name}…`);
    try {
      figures.memory[name] = await withTimeout(attack(), 600_000, name);
      await sleep(3000); // let the server let go of the connections before the next attack
    } catch (error) {
      figures.memory[name] = `error: ${(error as Error).message}`;
    }
  }
  return figures;
}

const ms = (value: number) => (Number.isNaN(value) ? '—' : `${value.toFixed(1)}`);
const latencyCell = (value?: Latencies) =>
  value ? `${ms(value.p50)} / ${ms(value.p99)} / ${ms(value.max)} (${value.count})` : '—';
const mib = (kib: number) => `${(kib / 1024).toFixed(0)}`;

function memoryCell(figure: MemoryFigure | string | undefined): string {
  if (!figure) return '—';
  if (typeof figure === 'string') return figure.replace(/\|/g, '\\|');
  const { before, during } = figure;
  const rss = `RSS ${mib(before.rssKiB)} → ${mib(during.rssKiB)} MiB (+${mib(during.rssKiB - before.rssKiB)})`;
  const pss =
    before.processes > 1 || during.processes > 1
      ? `, PSS +${mib(during.pssKiB - before.pssKiB)} MiB in ${during.processes} processes`
      : '';
  return `${rss}${pss}; ${figure.note}`;
}

function report(results: Record<string, ServerFigures>, opts: Options): void {
  const names = Object.keys(results);
  const row = (label: string, cell: (figures: ServerFigures) => string) =>
    `| ${label} | ${names.map((name) => cell(results[name]!)).join(' | ')} |`;
  const lines = [
    `| canary, ms: p50 / p99 / max (samples) | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
    row(`NOOP, alone (${opts.baselineSeconds} s)`, (f) => latencyCell(f.baseline?.noop)),
    row('connect + LOGIN, alone', (f) => latencyCell(f.baseline?.login)),
    row(`NOOP, beside the hostile session (${opts.seconds} s)`, (f) => latencyCell(f.attacked?.noop)),
    row('connect + LOGIN, beside it', (f) => latencyCell(f.attacked?.login)),
    row('**all canary operations, beside it** (target p99 ≤ 50, max ≤ 250)', (f) =>
      latencyCell(f.attacked?.all),
    ),
    row('canary errors', (f) =>
      f.attacked?.errors.length ? f.attacked.errors.slice(0, 2).join('; ').replace(/\|/g, '\\|') : 'none',
    ),
  ];
  for (const step of HOSTILE) {
    lines.push(
      row(`hostile: ${step.name} (runs: answers; slowest ms; canary's worst ms meanwhile)`, (f) => {
        const stats = f.hostile?.[step.name];
        if (!stats) return '—';
        const statuses = Object.entries(stats.statuses)
          .map(([status, n]) => `${n} ${status}`)
          .join(', ');
        return `${stats.runs}: ${statuses.replace(/\|/g, '\\|')}; ${stats.maxMs.toFixed(0)}; ${stats.canaryWorstMs.toFixed(0)}`;
      }),
    );
  }
  log('\n' + lines.join('\n'));
  if (!opts.memory) return;
  const memoryLines = [
    `| memory attack | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
    ...MEMORY_ROWS.map((name) =>
      row(name === 'slow connections' ? `${opts.slow} slow connections (1 byte / 5 s)` : name, (f) =>
        memoryCell(f.memory[name]),
      ),
    ),
  ];
  log('\n' + memoryLines.join('\n'));
}

export async function runCanaryBench(argv: string[]): Promise<void> {
  const opts = options(argv);
  const dovecot = dovecotInfo();
  log(`# Mallard canary benchmark — ${new Date().toISOString()}`);
  log(
    `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; ` +
      (dovecot.installed ? `dovecot ${dovecot.version}` : 'dovecot: not installed') +
      `; load average ${os
        .loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
  );
  const results: Record<string, ServerFigures> = {};
  const wanted = (name: string) => !opts.only || opts.only === name;
  const starters: Array<[string, () => Promise<BenchServer>]> = [];
  if (wanted('mallard')) {
    starters.push([
      'Mallard',
      () =>
        startMallardServer({
          // One loopback address plays every attacker: the per-address limit would stop them all.
          MALLARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: '1000000',
        }),
    ]);
  }
  if (wanted('dovecot') && dovecot.installed) {
    // The configuration of the other benchmarks (bench/lib/servers.ts), nothing tuned for this one.
    starters.push(['Dovecot', () => startDovecotServer()]);
  }
  for (const [name, start] of starters) {
    let server: BenchServer | undefined;
    try {
      server = await start();
      results[name] = await measure(server, opts);
      const problems = server.problems().slice(-5);
      if (problems.length) log(`  ${name} logged:\n    ${problems.join('\n    ').slice(0, 2000)}`);
    } catch (error) {
      results[name] = { memory: {}, error: (error as Error).message };
      log(`  ${name}: ${(error as Error).message}`);
    } finally {
      await server?.stop();
    }
  }
  report(results, opts);
  const file = path.join(os.tmpdir(), `mallard-canary-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
  log(`\nfigures as JSON: ${file}`);
}
