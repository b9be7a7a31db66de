/**
 * `npm run bench`: the same IMAP workloads against Mallard (`mallard serve` in its own process) and
 * Debian's Dovecot on 127.0.0.1, each workload on one server then the other, then a side-by-side table (markdown)
 * and the figures as JSON in the temporary directory. Also runs bench/store-append.ts (the sqlite
 * engine's append rate without IMAP), bench/delivery.ts (what one delivery costs an MTA:
 * `mallard deliver` beside dovecot-lda, and LMTP sessions to both servers) and bench/mongo-commands.ts
 * (database commands per operation on a 100,000-message mailbox of the mongodb engine, counted, not
 * timed). Figures, not tests: a workload that fails on one server shows its error in that cell and
 * the run goes on.
 *
 *   npm run bench -- delivery [--runs N]: only the delivery benchmark (bench/delivery.ts)
 *   npm run bench -- sieve [--runs N]: LMTP deliveries/s with a 50-rule Sieve script and without (bench/sieve.ts)
 *   npm run bench -- sending [--messages N]: submission msg/s with DATA and with BURL, beside Postfix (bench/sending.ts)
 *   npm run bench -- canary [...]: the hostile-user and memory benchmark instead (bench/canary.ts)
 *   npm run bench -- steady [...]: steady state and the login loop, Mallard with 1 and 2 workers beside
 *                                  Dovecot default and high-performance (bench/steady.ts)
 *   npm run bench -- idlers [--servers mallard,dovecot] [--connections N] [...]: memory and push delay
 *                                  with 10,000 sessions in IDLE, Mallard beside Dovecot (bench/idlers.ts)
 *   npm run bench -- footprint [...]: the idle server's memory by set-up and kind (bench/footprint.ts)
 *   npm run bench -- bigbox [...]: a 100,000-message INBOX, Mallard beside Dovecot (bench/bigbox.ts)
 *   npm run bench -- spam [...]: SMTP-in messages/s with no checks, own spam checks, rspamd, beside Postfix alone and with rspamd as its milter (bench/spam.ts)
 *   npm run bench -- sort [--messages N] [--repeats N]: SORT and THREAD=REFERENCES on a big INBOX,
 *                                  Mallard and Dovecot (bench/sort.ts)
 *   npm run bench -- backup [--mb N] [--size BYTES] [--encrypt]: backup/verify/restore MB/s and memory
 *                                  on an account of N MB (default 2048) beside tar -czf / tar -xzf
 *                                  of the same messages as a Maildir (bench/backup.ts)
 *   npm run bench -- import [--mb N] [--size BYTES]: IMAP import MB/s from Dovecot beside reading
 *                                  Dovecot alone (bench/import.ts)
 *   npm run bench -- qresync [--messages N] [--changes N] [--repeats N]: a QRESYNC reselect after
 *                                  N changes beside a full resync, Mallard and Dovecot (bench/qresync.ts)
 *   npm run bench [-- --messages N] [--connections N] [--append-seconds S] [--login-seconds S]
 *                    [--repeats N] [--only mallard|dovecot] [--no-store] [--no-delivery]
 *                    [--delivery-runs N] [--no-mongo] [--mongo-messages N] [--workloads append,logins,...]
 *
 * APPEND stops after --append-seconds on a slow server; the servers' mailboxes are then trimmed to
 * the smallest count (STORE \Deleted + EXPUNGE of the rest), so later workloads see the same messages.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  appendWorkload,
  fetchBodyWorkload,
  idleMemoryWorkload,
  inboxCount,
  loginWorkload,
  probeLiteralPlus,
  searchWorkload,
  selectFetchWorkload,
  trimMailbox,
  type Figure,
  type WorkloadOptions,
} from './imap.ts';
import { withTimeout } from './lib/imap-client.ts';
import { makeCorpus } from './lib/messages.ts';
import {
  dovecotInfo,
  startDovecotServer,
  startMallardServer,
  type BenchServer,
  type ServerName,
} from './lib/servers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// `npm run bench -- steady [options]`: steady state and logins, Mallard with workers beside
// Dovecot's default and high-performance modes (bench/steady.ts).
if (process.argv[2] === 'steady') {
  const { runSteadyBench } = await import('./steady.ts');
  await runSteadyBench(process.argv.slice(3));
  process.exit(process.exitCode ?? 0);
}

// `npm run bench -- idlers`: memory and push delay with 10,000 sessions in IDLE, beside Dovecot (bench/idlers.ts).
if (process.argv[2] === 'idlers') {
  const { runIdlersBench } = await import('./idlers.ts');
  await runIdlersBench(process.argv.slice(3));
  process.exit(process.exitCode ?? 0);
}

// `npm run bench -- footprint`: the idle server's memory, by set-up and kind (bench/footprint.ts).
if (process.argv[2] === 'footprint') {
  const { runFootprintBench } = await import('./footprint.ts');
  await runFootprintBench(process.argv.slice(3));
  process.exit(0);
}

// `npm run bench -- bigbox [options]`: a 100,000-message INBOX beside Dovecot (bench/bigbox.ts).
if (process.argv[2] === 'bigbox') {
  const { runBigboxBench } = await import('./bigbox.ts');
  await runBigboxBench(process.argv.slice(3));
  process.exit(process.exitCode ?? 0);
}

// `npm run bench -- spam [options]`: SMTP-in with no checks, own spam checks, rspamd, and Postfix (+ rspamd milter) (bench/spam.ts).
if (process.argv[2] === 'spam') {
  const { runSpamBench } = await import('./spam.ts');
  await runSpamBench(process.argv.slice(3));
  process.exit(process.exitCode ?? 0);
}

// `npm run bench -- sort [--messages N] [--repeats N]`: SORT (ARRIVAL, DATE, SUBJECT, FROM) and
// THREAD=REFERENCES on a 100,000-message INBOX, Mallard and Dovecot (bench/sort.ts).
if (process.argv[2] === 'sort') {
  const { runSortBench } = await import('./sort.ts');
  await runSortBench(process.argv.slice(3));
  process.exit(process.exitCode ?? 0);
}

// `npm run bench -- qresync [options]`: a QRESYNC reselect after 100 changes in a 100,000-message
// INBOX beside a full resync, Mallard and Dovecot (bench/qresync.ts).
if (process.argv[2] === 'qresync') {
  const { runQresyncBench } = await import('./qresync.ts');
  await runQresyncBench(process.argv.slice(3));
  process.exit(process.exitCode ?? 0);
}

// `npm run bench -- backup [--mb N] [--size BYTES] [--encrypt]`: backup, verify and restore MB/s and
// memory beside a file-level backup of the same messages (bench/backup.ts).
// `npm run bench -- import [--mb N] [--size BYTES]`: IMAP import MB/s from Dovecot beside reading
// Dovecot alone (bench/import.ts).
if (process.argv[2] === 'import') {
  const { runImportBench } = await import('./import.ts');
  await runImportBench(process.argv.slice(3));
  process.exit(0);
}
if (process.argv[2] === 'backup') {
  const { runBackupBench } = await import('./backup.ts');
  await runBackupBench(process.argv.slice(3));
  process.exit(process.exitCode ?? 0);
}

// `npm run bench -- delivery [--runs N]`: what one delivery costs an MTA (bench/delivery.ts), alone.
if (process.argv[2] === 'delivery') {
  // delivery.ts reads its options from process.argv and exits when done.
  process.argv.splice(2, 1);
  await import('./delivery.ts');
}

// `npm run bench -- sieve [--runs N]`: LMTP deliveries/s with a 50-rule Sieve script and without,
// beside Dovecot's LMTP with Pigeonhole (bench/sieve.ts).
if (process.argv[2] === 'sieve') {
  process.argv.splice(2, 1);
  await import('./sieve.ts');
  process.exit(0);
}

// `npm run bench -- sending [--messages N]`: submission with DATA and with BURL, to the queue, beside
// Postfix's smtpd (bench/sending.ts).
if (process.argv[2] === 'sending') {
  process.argv.splice(2, 1);
  await import('./sending.ts');
  process.exit(0);
}

// `npm run bench -- canary [options]`: the hostile-user and memory benchmark (bench/canary.ts).
if (process.argv[2] === 'canary') {
  const { runCanaryBench } = await import('./canary.ts');
  await runCanaryBench(process.argv.slice(3));
  process.exit(process.exitCode ?? 0);
}

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '1000' },
    'login-seconds': { type: 'string', default: '3' },
    'append-seconds': { type: 'string', default: '75' },
    repeats: { type: 'string', default: '5' },
    only: { type: 'string' },
    workloads: { type: 'string' },
    'no-store': { type: 'boolean', default: false },
    'no-mongo': { type: 'boolean', default: false },
    'mongo-messages': { type: 'string', default: '100000' },
    'no-delivery': { type: 'boolean', default: false },
    'delivery-runs': { type: 'string', default: '21' },
  },
  allowPositionals: false,
});

function intArg(name: string, text: string | undefined, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name}: expected an integer from ${min} to ${max}, got ${text}`);
    process.exit(2);
  }
  return value;
}

const MESSAGES = intArg('messages', args.messages, 1, 100_000);
const CONNECTIONS = intArg('connections', args.connections, 1, 5000);
const LOGIN_SECONDS = intArg('login-seconds', args['login-seconds'], 1, 60);
const APPEND_SECONDS = intArg('append-seconds', args['append-seconds'], 1, 600);
const REPEATS = intArg('repeats', args.repeats, 1, 20);
const ONLY = args.only?.toLowerCase();
if (ONLY && ONLY !== 'mallard' && ONLY !== 'dovecot') {
  console.error('--only: expected mallard or dovecot');
  process.exit(2);
}

const NOT_INSTALLED = 'not installed';

type Outcome = ({ ok: true; figure: Figure } | { ok: false; error: string }) & { seconds?: number };

interface Row {
  id: string;
  /** Given the number of messages the read workloads saw. */
  label: (messages: string) => string;
  better: 'higher' | 'lower';
  /** Absolute target for Mallard, when the issue sets one; otherwise the target is Dovecot's figure. */
  absolute?: { max: number; text: string };
  informational?: boolean;
}

const ROWS: Row[] = [
  { id: 'append', label: () => `APPEND ~10 KB messages, one connection`, better: 'higher' },
  { id: 'logins', label: () => 'connect + LOGIN + LOGOUT, 4 clients', better: 'higher' },
  {
    id: 'selectFetchFlags',
    label: (n) => `SELECT + FETCH 1:* (UID FLAGS), ${n} messages, median`,
    better: 'lower',
  },
  { id: 'fetchBody', label: (n) => `FETCH 1:* BODY.PEEK[], ${n} messages`, better: 'higher' },
  { id: 'search', label: (n) => `SEARCH TEXT "needle", ${n} messages, median`, better: 'lower' },
  {
    id: 'idleMemory',
    label: () => `memory per IDLE connection (${CONNECTIONS.toLocaleString('en')}), RSS`,
    better: 'lower',
    absolute: { max: 50, text: '< 50 KiB' },
  },
  {
    id: 'idlePss',
    label: () => `memory per IDLE connection (${CONNECTIONS.toLocaleString('en')}), PSS`,
    better: 'lower',
    informational: true,
  },
];

const results: Record<ServerName, Record<string, Outcome>> = { Mallard: {}, Dovecot: {} };
const problems: Record<ServerName, string[]> = { Mallard: [], Dovecot: [] };
const running = new Set<BenchServer>();

const log = (line: string) => console.log(line);

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').slice(0, 300);
}

function failAll(server: ServerName, error: string): void {
  for (const row of ROWS) results[server][row.id] = { ok: false, error };
}

interface StoreAppend {
  line: string;
  messagesPerSecond?: number;
  error?: string;
}

/** bench/store-append.ts in its own process (it opens its own store), bounded by a timeout. */
function runStoreAppend(): Promise<StoreAppend> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'run-ts.mjs'), 'bench/store-append.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < 100_000) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = output.split('\n').find((text) => text.startsWith('store-append')) ?? '';
      const rate = /(\d+) messages\/s/.exec(line);
      if (code === 0 && rate) resolve({ line, messagesPerSecond: Number(rate[1]) });
      else
        resolve({
          line,
          error: `store-append exited (${code ?? signal}): ${errorText(output.trim().split('\n').slice(-3).join(' ')) || 'no output'}`,
        });
    });
  });
}

/** bench/mongo-commands.ts in its own process: its table, or why it failed. */
function runMongoCommands(messages: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'run-ts.mjs'), 'bench/mongo-commands.ts', '--messages', messages],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < 100_000) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), 1_800_000);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const table = output.slice(output.indexOf('mongodb engine:'));
      if (code === 0 && output.includes('mongodb engine:')) resolve(table.trim());
      else
        resolve(
          `mongo-commands exited (${code ?? signal}): ${errorText(output.trim().split('\n').slice(-3).join(' '))}`,
        );
    });
  });
}

interface Delivery {
  /** The markdown table bench/delivery.ts printed. */
  table: string[];
  figures?: unknown;
  error?: string;
}

/** bench/delivery.ts in its own process (it starts its own servers), bounded by a timeout. */
function runDelivery(runs: number): Promise<Delivery> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'run-ts.mjs'), 'bench/delivery.ts', '--runs', String(runs)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < 200_000) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const lines = output.split('\n');
      const table = lines.filter((line) => line.startsWith('|'));
      const json = lines.find((line) => line.startsWith('delivery-json '));
      if (code === 0 && json) resolve({ table, figures: JSON.parse(json.slice('delivery-json '.length)) });
      else
        resolve({
          table,
          error: `delivery bench exited (${code ?? signal}): ${errorText(lines.slice(-4).join(' ')) || 'no output'}`,
        });
    });
  });
}

/** The number of messages every server holds for the read workloads (after equalize). */
let mailboxSize: number | undefined;

/** Trims every mailbox to the smallest non-empty one, so that all servers are read the same data. */
async function equalize(servers: BenchServer[]): Promise<void> {
  const counts = new Map<BenchServer, number>();
  for (const server of servers) {
    try {
      counts.set(server, await withTimeout(inboxCount(server), 60_000, 'EXAMINE'));
    } catch (error) {
      log(`  ${server.name}: could not count INBOX: ${errorText(error)}`);
    }
  }
  const nonEmpty = [...counts.values()].filter((count) => count > 0);
  mailboxSize = nonEmpty.length > 0 ? Math.min(...nonEmpty) : 0;
  for (const [server, count] of counts) {
    if (count <= mailboxSize) continue;
    log(
      `  ${server.name}: expunging messages ${mailboxSize + 1}–${count} so that every server holds ${mailboxSize}`,
    );
    try {
      await withTimeout(trimMailbox(server, mailboxSize), 240_000, 'trim');
    } catch (error) {
      log(`  ${server.name}: trimming failed: ${errorText(error)}`);
    }
  }
}

const WORKLOADS: Array<[string, (server: BenchServer, options: WorkloadOptions) => Promise<Figure>, number]> =
  [
    ['append', appendWorkload, APPEND_SECONDS * 1000 + 120_000],
    ['logins', loginWorkload, 60_000 + LOGIN_SECONDS * 1000],
    ['selectFetchFlags', selectFetchWorkload, 120_000],
    ['fetchBody', fetchBodyWorkload, 240_000],
    ['search', searchWorkload, 240_000],
    ['idleMemory', idleMemoryWorkload, 240_000],
  ];

/**
 * Each workload runs on every server before the next workload starts (servers alternate rather
 * than one running all its workloads first), so a change in the machine's load during the run
 * touches both sides alike. Only one server is busy at a time; the other one waits idle.
 */
async function runWorkloads(servers: BenchServer[], options: WorkloadOptions): Promise<void> {
  const selected = args.workloads?.split(',').map((name) => name.trim());
  for (const [id, workload, timeoutMs] of WORKLOADS) {
    if (selected && !selected.includes(id)) continue;
    if (mailboxSize === undefined && id !== 'append' && id !== 'logins') await equalize(servers);
    log(`\n${id}`);
    for (const server of servers) {
      if (!server.alive() && server.restart) {
        log(`  ${server.name} is not running (crashed?): restarting it`);
        await server
          .restart()
          .catch((error: unknown) => log(`  ${server.name} restart failed: ${errorText(error)}`));
      }
      const started = performance.now();
      let outcome: Outcome;
      try {
        const figure = await withTimeout(workload(server, options), timeoutMs, `${id} workload`);
        outcome = { ok: true, figure };
      } catch (error) {
        outcome = { ok: false, error: errorText(error) };
      }
      const took = ((performance.now() - started) / 1000).toFixed(1);
      outcome.seconds = Number(took);
      results[server.name][id] = outcome;
      const text = outcome.ok
        ? `${outcome.figure.value} ${outcome.figure.unit} (${outcome.figure.detail})`
        : `ERROR ${outcome.error}`;
      log(`  ${server.name.padEnd(7)} ${text} [${took} s]`);
      if (id === 'idleMemory') {
        results[server.name].idlePss = outcome.ok
          ? {
              ok: true,
              figure: {
                value: Number(outcome.figure.extra?.pssPerConnection ?? NaN),
                unit: 'KiB/conn',
                detail: 'proportional set size: shared pages divided among the processes mapping them',
              },
            }
          : outcome;
      }
    }
  }
}

function format(outcome: Outcome | undefined): string {
  if (!outcome) return '—';
  if (!outcome.ok) {
    if (outcome.error === NOT_INSTALLED) return NOT_INSTALLED;
    return `error: ${outcome.error.slice(0, 120).replace(/\|/g, '\\|')}`;
  }
  const { value, unit } = outcome.figure;
  return `${value.toLocaleString('en', { maximumFractionDigits: 1 })} ${unit}`;
}

function verdict(
  row: Row,
  mallard: Outcome | undefined,
  dovecot: Outcome | undefined,
): [string, string, string] {
  const m = mallard?.ok ? mallard.figure.value : undefined;
  const d = dovecot?.ok ? dovecot.figure.value : undefined;
  const ratio = m !== undefined && d !== undefined && d !== 0 ? `${(m / d).toFixed(2)}×` : '—';
  if (row.informational) return [ratio, '—', '—'];
  if (row.absolute) {
    return [ratio, row.absolute.text, m === undefined ? '—' : m < row.absolute.max ? 'yes' : '**no**'];
  }
  const target = row.better === 'higher' ? '≥ Dovecot' : '≤ Dovecot';
  if (m === undefined || d === undefined) return [ratio, target, '—'];
  const met = row.better === 'higher' ? m >= d : m <= d;
  return [ratio, target, met ? 'yes' : '**no**'];
}

/** Log lines grouped by their text without time, process and session ids: `(×count) first line`. */
function summarizeProblems(lines: string[], limit = 30): string[] {
  const groups = new Map<string, { count: number; example: string }>();
  for (const line of lines) {
    const key = line
      .replace(/^\w{3} +\d+ [\d:]+ /, '')
      .replace(/<\d+><[^>]*>/g, '')
      .replace(/"(time|pid|hostname|session|id|reference|ref)":("[^"]*"|\d+),?/g, '')
      .replace(/\d+/g, 'N');
    const group = groups.get(key);
    if (group) group.count++;
    else groups.set(key, { count: 1, example: line });
  }
  const result = [...groups.values()].slice(0, limit).map(({ count, example }) => `(×${count}) ${example}`);
  if (groups.size > limit) result.push(`… and ${groups.size - limit} other kinds`);
  return result;
}

async function stopAll(): Promise<void> {
  await Promise.allSettled([...running].map((server) => server.stop()));
  running.clear();
}

async function main(): Promise<void> {
  const began = performance.now();
  const dovecot = dovecotInfo();
  log(`# Mallard benchmarks — ${new Date().toISOString()}`);
  log(
    `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}; ` +
      (dovecot.installed ? `dovecot ${dovecot.version}` : 'dovecot: not installed'),
  );
  const loadBefore = os.loadavg().map((value) => Number(value.toFixed(2)));
  log(`load average ${loadBefore.join(' ')} (other work on this machine skews every figure)`);

  let storeAppend: StoreAppend | undefined;
  if (!args['no-store']) {
    log('\nstore-append (sqlite engine, no IMAP)…');
    storeAppend = await runStoreAppend();
    log(`  ${storeAppend.error ?? storeAppend.line}`);
  }

  if (!args['no-mongo']) {
    log(
      `\nmongo-commands (mongodb engine on the stand-in, ${args['mongo-messages']} messages; counted, not timed)…`,
    );
    log(await runMongoCommands(args['mongo-messages']!));
  }

  let delivery: Delivery | undefined;
  if (!args['no-delivery']) {
    log('\ndelivery per message (mallard deliver, dovecot-lda, LMTP)…');
    delivery = await runDelivery(intArg('delivery-runs', args['delivery-runs'], 1, 200));
    if (delivery.error) log(`  ${delivery.error}`);
  }

  const corpusStarted = performance.now();
  const corpus = makeCorpus({ count: MESSAGES });
  log(
    `\ncorpus: ${corpus.messages.length} messages, ${(corpus.totalBytes / 1e6).toFixed(1)} MB, ` +
      `${corpus.needleCount} with "needle" (${((performance.now() - corpusStarted) / 1000).toFixed(1)} s)`,
  );

  const servers: BenchServer[] = [];
  const wanted = (name: string) => !ONLY || ONLY === name;
  if (wanted('dovecot')) {
    if (!dovecot.installed) failAll('Dovecot', NOT_INSTALLED);
    else {
      try {
        const server = await startDovecotServer();
        running.add(server);
        servers.push(server);
      } catch (error) {
        failAll('Dovecot', `did not start: ${errorText(error)}`);
      }
    }
  }
  if (wanted('mallard')) {
    try {
      const server = await startMallardServer();
      running.add(server);
      servers.push(server);
    } catch (error) {
      failAll('Mallard', `did not start: ${errorText(error)}`);
      log(`Mallard did not start: ${errorText(error)}`);
    }
  }

  // LITERAL+ pipelining only when every server advertises it, so both see the same traffic.
  let literalPlus = true;
  for (const server of servers) {
    try {
      const has = await withTimeout(probeLiteralPlus(server), 30_000, 'capability probe');
      if (!has) log(`${server.name} does not advertise LITERAL+: APPEND uses synchronising literals`);
      literalPlus &&= has;
    } catch (error) {
      log(`${server.name}: capability probe failed: ${errorText(error)}`);
    }
  }

  const options: WorkloadOptions = {
    messages: corpus.messages,
    literalPlus,
    appendSeconds: APPEND_SECONDS,
    loginSeconds: LOGIN_SECONDS,
    loginClients: 4,
    repeats: REPEATS,
    idleConnections: CONNECTIONS,
    log,
  };
  for (const server of servers) log(`${server.name} on 127.0.0.1:${server.port}`);
  if (servers.length > 0) await runWorkloads(servers, options);
  for (const server of servers) {
    problems[server.name] = server.problems();
    await server.stop();
    running.delete(server);
  }

  // The table.
  const mallardSearch = results.Mallard.search;
  const dovecotSearch = results.Dovecot.search;
  const lines = [
    '| workload | Mallard | Dovecot | Mallard ÷ Dovecot | target | met |',
    '|---|---:|---:|---:|---|---|',
  ];
  const readSize = (mailboxSize ?? MESSAGES).toLocaleString('en');
  for (const row of ROWS) {
    const [ratio, target, met] = verdict(row, results.Mallard[row.id], results.Dovecot[row.id]);
    lines.push(
      `| ${row.label(readSize)} | ${format(results.Mallard[row.id])} | ${format(results.Dovecot[row.id])} | ${ratio} | ${target} | ${met} |`,
    );
  }
  if (storeAppend) {
    const cell = storeAppend.messagesPerSecond
      ? `${storeAppend.messagesPerSecond.toLocaleString('en')} msg/s`
      : `error: ${storeAppend.error ?? ''}`;
    lines.push(`| store append (sqlite engine, no IMAP) | ${cell} | — | — | — | — |`);
  }
  log('\n## Results\n');
  log(lines.join('\n'));
  log('\nratio = Mallard ÷ Dovecot: above 1 is better for rates, below 1 is better for times and memory.');

  if (delivery && delivery.table.length > 0) {
    log('\n## Delivery per message (what an MTA pays)\n');
    log(delivery.table.join('\n'));
  }

  const matches = (outcome: Outcome | undefined) =>
    outcome?.ok ? Number(outcome.figure.extra?.matches) : undefined;
  const m = matches(mallardSearch);
  const d = matches(dovecotSearch);
  const expected = corpus.hasNeedle.slice(0, mailboxSize ?? MESSAGES).filter(Boolean).length;
  log(
    `SEARCH TEXT "needle" matches: Mallard ${m ?? '—'}, Dovecot ${d ?? '—'}, expected ${expected}` +
      (m !== undefined && d !== undefined ? (m === d ? ' (same)' : ' (DIFFERENT)') : ''),
  );

  const bytesOf = (outcome: Outcome | undefined) =>
    outcome?.ok ? Number(outcome.figure.extra?.bytes) : undefined;
  const mb = bytesOf(results.Mallard.fetchBody);
  const db = bytesOf(results.Dovecot.fetchBody);
  const expectedBytes = corpus.messages
    .slice(0, mailboxSize ?? MESSAGES)
    .reduce((sum, message) => sum + message.length, 0);
  log(
    `FETCH BODY.PEEK[] bytes per run: Mallard ${mb ?? '—'}, Dovecot ${db ?? '—'}, appended ${expectedBytes}` +
      (mb !== undefined && db !== undefined ? (mb === db ? ' (same)' : ' (DIFFERENT)') : ''),
  );

  log('\n## Details\n');
  for (const row of ROWS) {
    for (const name of ['Mallard', 'Dovecot'] as const) {
      const outcome = results[name][row.id];
      if (outcome?.ok) log(`- ${row.id} / ${name}: ${outcome.figure.detail}`);
    }
  }
  for (const name of ['Mallard', 'Dovecot'] as const) {
    if (problems[name].length === 0) continue;
    log(`\n## ${name} log: warnings and errors (${problems[name].length} lines)\n`);
    for (const line of summarizeProblems(problems[name])) log(`    ${line}`);
  }

  const json = {
    date: new Date().toISOString(),
    seconds: Number(((performance.now() - began) / 1000).toFixed(1)),
    host: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.release()}` },
    dovecot: dovecot.installed ? dovecot.version : 'not installed',
    options: {
      messages: MESSAGES,
      connections: CONNECTIONS,
      loginSeconds: LOGIN_SECONDS,
      repeats: REPEATS,
      literalPlus,
    },
    corpus: { messages: corpus.messages.length, bytes: corpus.totalBytes, needleCount: corpus.needleCount },
    results,
    storeAppend: storeAppend ?? null,
    delivery: delivery ? (delivery.figures ?? { error: delivery.error }) : null,
    problems: {
      Mallard: summarizeProblems(problems.Mallard),
      Dovecot: summarizeProblems(problems.Dovecot),
    },
  };
  const dir = path.join(os.tmpdir(), 'mallard-bench');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'latest.json');
  fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  log(`\nJSON: ${file}`);
  log(`total ${((performance.now() - began) / 1000).toFixed(0)} s`);
}

const interrupt = (signal: NodeJS.Signals) => {
  console.error(`\n${signal}: stopping the servers`);
  void stopAll().finally(() => process.exit(130));
};
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);

try {
  await main();
} catch (error) {
  console.error('bench failed:', error);
  process.exitCode = 1;
} finally {
  await stopAll();
}
// Sockets that a timed-out workload left behind must not keep the run alive.
process.exit(process.exitCode ?? 0);
