/**
 * Many sessions in IDLE (issue 20): the whole server's memory with them open, and how soon a new
 * message is pushed to every one of them, Mallard beside Dovecot in the same run:
 *
 *   npm run bench -- idlers [--servers mallard,dovecot] [--connections 10000] [--workers 2] [--settle 30]
 *
 * Each server in turn (one table, a column per server): every connection logs in as the bench
 * user, selects INBOX and IDLEs. Then one more session APPENDs a message; from its tagged OK (the
 * acknowledgement) to the `* n EXISTS` each idler receives is the push delay (median, 99th
 * percentile, slowest, and how many never got it within 10 s; an idler may have it before the OK,
 * so the delays from the APPEND's start are printed too). The load average is printed with the
 * figures (the machines are shared).
 *
 * Mallard: `mallard serve` with `server.workers` processes (--workers). Dovecot: its login
 * processes in high-performance mode (imap-login `service_count = 0`, a few long-lived login
 * processes), and, as Dovecot always has it, one imap process per session: 10,000 sessions are
 * 10,000 processes (bench/lib/servers.ts, dovecotConnectionLimits, raises the limits that would
 * refuse them). Its IDLE settings are its defaults: on a maildir it waits on inotify, which Linux
 * allows a user `fs.inotify.max_user_instances` times (128 by default); the imap processes all run
 * as one user, and past that limit Dovecot logs a warning and checks the mailbox every
 * `mailbox_idle_check_interval` (30 s) instead. So for Dovecot's turn the bench raises that limit
 * when it may (root), as Dovecot's warning asks, and puts it back after; it prints the limit and
 * the warnings Dovecot logged. All the sessions share one maildir INBOX: at the new message every
 * imap process wakes and syncs it itself, under the maildir's lock, which on a busy machine can
 * keep them from telling their clients for more than a minute (`* NO Mailbox is locked`).
 *
 * The whole server is all its processes (Dovecot's master, log, config, anvil, stats, auth, login
 * and imap processes; Mallard's supervisor and workers): RSS and PSS from /proc (bench/lib/memory.ts).
 * 10,000 sessions need as many open files in the bench process (`ulimit -n`, checked first).
 */
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { expectOk, ImapClient } from './lib/imap-client.ts';
import { processMemory, TICKS_PER_SECOND, type MemorySample } from './lib/memory.ts';
import {
  dovecotConnectionLimits,
  dovecotInfo,
  startDovecotServer,
  startMallardServer,
  type BenchServer,
} from './lib/servers.ts';

interface Idler {
  client: ImapClient;
  /** performance.now() when the EXISTS of the pushed message came, else null. */
  pushedAt: number | null;
  /** The first untagged NO, BAD or BYE while idling (Dovecot's `* NO Mailbox is locked, ...`). */
  trouble: string | null;
  done(): Promise<unknown>;
}

interface Options {
  connections: number;
  workers: string;
  settleSeconds: number;
}

/** The figures of one server, one cell per row of the table. */
type Column = Map<string, string>;

const ROWS = [
  'sessions in IDLE',
  'opened in (s)',
  'server processes: idle → with the idlers',
  'RSS, whole server (MiB): idle → with the idlers',
  'PSS, whole server (MiB): idle → with the idlers',
  'PSS per connection (KiB)',
  'CPU of the whole server (s): opening the idlers / the push',
  'APPEND acknowledged in (ms)',
  'push after the acknowledgement, ms: median / p99 / slowest (of every idler)',
  'push after the APPEND was sent, ms: median / p99 / slowest',
  'idlers not pushed to within 10 s / within 60 s',
  'idlers told NO, BAD or BYE meanwhile',
  'processes, with the idlers',
  'failed to open',
  'warnings and errors the server logged',
  'load average after the push',
];

const PUSH_WAIT_MS = 10_000;
/** When some idlers were not pushed to within PUSH_WAIT_MS: how long to wait, to tell late from never. */
const LATE_PUSH_WAIT_MS = 60_000;

const mib = (kib: number) => (kib / 1024).toFixed(1);
const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const milliseconds = (value: number) =>
  value === Infinity
    ? `> ${LATE_PUSH_WAIT_MS}`
    : value > PUSH_WAIT_MS
      ? `${value.toFixed(0)} (late)`
      : value.toFixed(0);
const loadAverage = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readProc(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The bench process's own open-file limit: one descriptor per connection it holds. */
function openFileLimit(): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readProc('/proc/self/limits'));
  return !match || match[1] === 'unlimited' ? Infinity : Number(match[1]);
}

const INOTIFY_INSTANCES = '/proc/sys/fs/inotify/max_user_instances';

/**
 * Runs `work` with at least `minimum` inotify instances allowed per user, raised when root may
 * (Dovecot's own warning asks for it: its imap processes all run as one user, and past the limit
 * they check the mailbox every 30 s instead of waiting on inotify), and put back afterwards. An
 * idle imap process holds one, but with one per session allowed Dovecot still logged the warning
 * for many sessions as they started (instances in use while they start, or not yet freed after),
 * so the caller asks for twice as many.
 */
async function withInotifyInstances<T>(minimum: number, work: () => Promise<T>): Promise<T> {
  const current = Number(readProc(INOTIFY_INSTANCES).trim());
  if (!(current < minimum)) return work();
  try {
    fs.writeFileSync(INOTIFY_INSTANCES, String(minimum));
    console.log(`  fs.inotify.max_user_instances raised from ${current} to ${minimum} for this server`);
  } catch (error) {
    console.log(
      `  warning: fs.inotify.max_user_instances is ${current} and could not be raised (${(error as Error).message}): ` +
        'the idlers past it are pushed to only by a check every 30 s',
    );
    return work();
  }
  try {
    return await work();
  } finally {
    fs.writeFileSync(INOTIFY_INSTANCES, String(current));
  }
}

/**
 * Memory by process: each one when there are few (Mallard's supervisor and workers), else grouped
 * by command name (Dovecot's thousands of `imap` processes).
 */
function processBreakdown(pids: number[]): string {
  const command = (pid: number) => readProc(`/proc/${pid}/comm`).trim() || '?';
  if (pids.length <= 10) {
    return pids
      .map((pid) => {
        const sample = processMemory([pid]);
        return `${command(pid)} ${pid}: RSS ${mib(sample.rssKiB)} / PSS ${mib(sample.pssKiB)} MiB`;
      })
      .join('; ');
  }
  const groups = new Map<string, number[]>();
  for (const pid of pids) groups.set(command(pid), [...(groups.get(command(pid)) ?? []), pid]);
  return [...groups]
    .map(([name, members]) => ({ name, sample: processMemory(members) }))
    .sort((a, b) => b.sample.pssKiB - a.sample.pssKiB)
    .map(({ name, sample }) => {
      const each = sample.processes > 1 ? `, ${(sample.pssKiB / sample.processes).toFixed(0)} KiB each` : '';
      return `${name} ×${sample.processes}: PSS ${mib(sample.pssKiB)} MiB${each}`;
    })
    .join('; ');
}

/**
 * How many lines the server logged at warning level or above, by kind: Dovecot's lines without
 * their date and process prefix (`imap(user)<pid><session>: `) and with N for numbers, so that
 * thousands of one warning read as one.
 */
function summarizeProblems(lines: string[]): string {
  const kinds = new Map<string, number>();
  for (const line of lines) {
    const text = line
      .replace(/^\w{3} \d\d \d\d:\d\d:\d\d [^:]*?: /, '')
      .replace(/\d+(\.\d+)?/g, 'N')
      .slice(0, 200);
    kinds.set(text, (kinds.get(text) ?? 0) + 1);
  }
  const shown = [...kinds]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([text, count]) => `${count} × ${text}`);
  return [String(lines.length), ...shown].join('; ');
}

function summarizeTrouble(idlers: Idler[]): string {
  const troubled = idlers.filter((idler) => idler.trouble !== null);
  return troubled.length === 0 ? '0' : `${troubled.length} (first: ${troubled[0]!.trouble!.slice(0, 200)})`;
}

/** Logs in, selects INBOX and IDLEs; `pushedAt` is set by the first EXISTS after that. */
async function openIdler(server: BenchServer): Promise<Idler> {
  const client = await ImapClient.connect({ port: server.port, timeoutMs: 60_000 });
  try {
    expectOk(await client.login(server.user, server.password), 'LOGIN');
    expectOk(await client.command('SELECT INBOX', { timeoutMs: 60_000 }), 'SELECT');
    const idler: Idler = { client, pushedAt: null, trouble: null, done: async () => undefined };
    const idle = await client.idle(60_000, (response) => {
      if (idler.pushedAt === null && / EXISTS$/.test(response.text)) idler.pushedAt = performance.now();
      if (idler.trouble === null && /^\* (NO|BAD|BYE) /.test(response.text)) idler.trouble = response.text;
    });
    idler.done = idle.done;
    return idler;
  } catch (error) {
    client.destroy();
    throw error;
  }
}

/** Opens `connections` idlers, a hundred at a time; stops early past 50 failures. */
async function openIdlers(server: BenchServer, connections: number) {
  const idlers: Idler[] = [];
  let failures = 0;
  let firstFailure = '';
  for (let start = 0; start < connections && failures <= 50; start += 100) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(100, connections - start) }, () => openIdler(server)),
    );
    for (const result of batch) {
      if (result.status === 'fulfilled') idlers.push(result.value);
      else {
        failures++;
        firstFailure ||= (result.reason as Error).message;
      }
    }
  }
  return { idlers, failures, firstFailure };
}

/** One message APPENDed by another session; the delays from its tagged OK to each idler's EXISTS. */
async function pushOneMessage(server: BenchServer, idlers: Idler[]) {
  const sender = await ImapClient.connect({ port: server.port, timeoutMs: 60_000 });
  expectOk(await sender.login(server.user, server.password), 'LOGIN');
  const ticks = server.cpuTicks();
  const message = Buffer.from('From: a@example.net\r\nSubject: pushed\r\n\r\nto every idler\r\n');
  const started = performance.now();
  expectOk(await sender.command(['APPEND INBOX ', message], { timeoutMs: 60_000 }), 'APPEND');
  const acknowledged = performance.now();
  const waitForPushes = async (until: number) => {
    while (idlers.some((idler) => idler.pushedAt === null) && performance.now() < until) await sleep(20);
  };
  await waitForPushes(acknowledged + PUSH_WAIT_MS);
  const cpuSeconds = (server.cpuTicks() - ticks) / TICKS_PER_SECOND;
  const late = (limit: number) =>
    idlers.filter((idler) => idler.pushedAt === null || idler.pushedAt - acknowledged > limit).length;
  const missed = late(PUSH_WAIT_MS);
  if (missed > 0) await waitForPushes(acknowledged + LATE_PUSH_WAIT_MS);
  await sender.logout();
  // Every idler, those never pushed to as Infinity: a median of the few that were would flatter.
  const delays = idlers
    .map((idler) => (idler.pushedAt === null ? Infinity : idler.pushedAt - acknowledged))
    .sort((a, b) => a - b);
  return {
    appendMs: acknowledged - started,
    cpuSeconds,
    delays,
    missed,
    neverPushed: late(LATE_PUSH_WAIT_MS),
  };
}

async function closeIdlers(idlers: Idler[]): Promise<void> {
  for (let start = 0; start < idlers.length; start += 500)
    await Promise.all(idlers.slice(start, start + 500).map((idler) => idler.client.destroy()));
}

/**
 * Waits until the server is back to `count` processes: Dovecot's imap processes take a while to
 * exit after their clients have gone (10,000 of them, tens of seconds; those stuck waiting for a
 * mailbox lock are left to the SIGTERM after two minutes), and stopping the server
 * meanwhile would remove the maildir under them.
 */
async function waitForProcesses(server: BenchServer, count: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (server.pids().length > count && performance.now() < deadline) await sleep(500);
}

/** The whole measurement on one server, already started; the column of its figures. */
async function measure(server: BenchServer, options: Options): Promise<Column> {
  // Warm up (code loaded in every worker, Dovecot's login processes started), then the baseline.
  const warm = await Promise.all(Array.from({ length: 10 }, () => openIdler(server)));
  await Promise.all(warm.map(async (idler) => (await idler.done(), idler.client.logout())));
  await sleep(2000);
  const before = server.memory();
  const started = performance.now();
  const ticks = server.cpuTicks();
  const { idlers, failures, firstFailure } = await openIdlers(server, options.connections);
  try {
    const openSeconds = (performance.now() - started) / 1000;
    const openCpuSeconds = (server.cpuTicks() - ticks) / TICKS_PER_SECOND;
    await sleep(options.settleSeconds * 1000);
    const after: MemorySample = server.memory();
    const breakdown = processBreakdown(server.pids());
    const push = await pushOneMessage(server, idlers);
    const { delays } = push;
    const problems = server.problems();
    return new Map([
      [ROWS[0]!, idlers.length.toLocaleString('en')],
      [ROWS[1]!, openSeconds.toFixed(1)],
      [ROWS[2]!, `${before.processes} → ${after.processes}`],
      [ROWS[3]!, `${mib(before.rssKiB)} → ${mib(after.rssKiB)}`],
      [ROWS[4]!, `${mib(before.pssKiB)} → ${mib(after.pssKiB)}`],
      [ROWS[5]!, ((after.pssKiB - before.pssKiB) / Math.max(1, idlers.length)).toFixed(1)],
      [ROWS[6]!, `${openCpuSeconds.toFixed(1)} / ${push.cpuSeconds.toFixed(2)}`],
      [ROWS[7]!, push.appendMs.toFixed(1)],
      [
        ROWS[8]!,
        [quantile(delays, 0.5), quantile(delays, 0.99), delays.at(-1) ?? NaN].map(milliseconds).join(' / '),
      ],
      [
        ROWS[9]!,
        [quantile(delays, 0.5), quantile(delays, 0.99), delays.at(-1) ?? NaN]
          .map((delay) => milliseconds(delay + push.appendMs))
          .join(' / '),
      ],
      [ROWS[10]!, push.missed > 0 ? `${push.missed} / ${push.neverPushed}` : '0 / 0'],
      [ROWS[11]!, summarizeTrouble(idlers)],
      [ROWS[12]!, breakdown],
      [ROWS[13]!, `${failures}${firstFailure ? ` (first: ${firstFailure})` : ''}`],
      [ROWS[14]!, summarizeProblems(problems)],
      [ROWS[15]!, loadAverage()],
    ]);
  } finally {
    await closeIdlers(idlers);
    await waitForProcesses(server, before.processes, 120_000);
  }
}

function startServer(name: string, options: Options): Promise<BenchServer> {
  const limit = String(options.connections + 100);
  if (name === 'mallard') {
    return startMallardServer({
      MALLARD_SERVER_WORKERS: options.workers,
      MALLARD_IMAP_MAX_CONNECTIONS_PER_USER: limit,
      MALLARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: limit,
      MALLARD_LIMITS_MAX_PRELOGIN_CONNECTIONS: limit,
    });
  }
  if (name === 'dovecot') return startDovecotServer(dovecotConnectionLimits(options.connections));
  throw new Error(`unknown server ${name} (known: mallard, dovecot)`);
}

const HEADINGS: Record<string, (options: Options) => string> = {
  mallard: (options) => `Mallard, server.workers ${options.workers}`,
  dovecot: () =>
    'Dovecot, high-performance login (imap-login service_count = 0), an imap process per session',
};

function printTable(names: string[], columns: Column[], options: Options): void {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  console.log('');
  console.log(
    `| ${options.connections.toLocaleString('en')} connections in IDLE | ${names.map((name) => HEADINGS[name]!(options)).join(' | ')} |`,
  );
  console.log(`| --- |${names.map(() => ' ---: |').join('')}`);
  for (const row of ROWS)
    console.log(`| ${row} | ${columns.map((column) => cell(column.get(row) ?? '')).join(' | ')} |`);
}

export async function runIdlersBench(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      servers: { type: 'string', default: 'mallard,dovecot' },
      connections: { type: 'string', default: '10000' },
      workers: { type: 'string', default: String(os.availableParallelism()) },
      // Seconds between the last idler in and the memory reading: what the server holds at rest,
      // once V8's memory reducer has run (it collects and shrinks a heap some seconds after
      // allocation stops). Past a minute, the store's writer threads have stopped too.
      settle: { type: 'string', default: '30' },
    },
  });
  const options: Options = {
    connections: Number(args.connections),
    workers: args.workers,
    settleSeconds: Number(args.settle),
  };
  const names = args.servers
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((name) => !(name in HEADINGS));
  if (unknown.length > 0 || !Number.isInteger(options.connections) || options.connections < 1) {
    console.error(
      `idlers: --servers takes mallard,dovecot (got ${args.servers}); --connections a positive integer`,
    );
    process.exitCode = 2;
    return;
  }
  const dovecot = dovecotInfo();
  console.log(
    `idlers: ${options.connections} connections, servers ${names.join(', ')}${dovecot.installed ? ` (Dovecot ${dovecot.version})` : ''}; open files allowed ${openFileLimit()}; fs.inotify.max_user_instances ${readProc(INOTIFY_INSTANCES).trim() || '?'}; load ${loadAverage()}`,
  );
  if (openFileLimit() < options.connections + 100)
    console.log(`  warning: raise the open-file limit (ulimit -n) above ${options.connections + 100}`);
  const columns: Column[] = [];
  for (const name of names) {
    console.log(`  ${name}: ${options.connections} idlers…`);
    let column: Column;
    if (name === 'dovecot' && !dovecot.installed) column = new Map([[ROWS[0]!, 'not installed']]);
    else {
      try {
        const run = async () => {
          const server = await startServer(name, options);
          try {
            return await measure(server, options);
          } finally {
            // A failure to clean up after the figures are in does not lose them.
            await server.stop().catch((error: Error) => console.log(`  ${name}: stop: ${error.message}`));
          }
        };
        column =
          name === 'dovecot' ? await withInotifyInstances(2 * options.connections + 1000, run) : await run();
      } catch (error) {
        column = new Map([[ROWS[0]!, `failed: ${(error as Error).message.slice(0, 300)}`]]);
      }
    }
    columns.push(column);
    console.log(`  ${name}: done; load ${loadAverage()}`);
  }
  printTable(names, columns, options);
}
