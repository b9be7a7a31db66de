/**
 * Steady state and the login loop with many clients (issue 20), Mallard beside Dovecot in the same
 * run, each server in turn and the rounds repeated (the machines are shared: alternate, repeat):
 *
 *   npm run bench -- steady [--clients 50] [--login-clients 50] [--seconds 20] [--login-seconds 10]
 *                           [--messages 500] [--repeats 2] [--profile DIR]
 *                           [--servers mallard-1,mallard-2,dovecot,dovecot-hp,mallard-1-event-loop]
 *
 * Servers: `mallard-N` is `mallard serve` with server.workers = N (the store on its own threads);
 * `mallard-1-event-loop` the single process with the store on the event loop; `dovecot` Debian's
 * Dovecot as configured by default (a login process per connection, `service_count = 1`);
 * `dovecot-hp` its high-performance mode (imap-login `service_count = 0`, `process_min_avail` = the
 * number of cores).
 *
 * Steady: each client logs in once, selects INBOX and loops UID FETCH of a random message (flags
 * and body), UID STORE of a flag on it (a durable write), NOOP. Logins: connect + LOGIN + LOGOUT in
 * a loop. Reported: commands/s, logins/s, the NOOP latency, the CPU used by all of the server's
 * processes (from /proc, reaped children included, percent of one core: the same measure for both)
 * and the load average after each run. `--profile DIR`: V8 CPU profiles of Mallard's processes and
 * threads (`--cpu-prof`), written to DIR when each server stops.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loginWorkload } from './imap.ts';
import { expectOk, ImapClient } from './lib/imap-client.ts';
import { TICKS_PER_SECOND } from './lib/memory.ts';
import { startDovecotServer, startMallardServer, type BenchServer } from './lib/servers.ts';

const ALL_SERVERS = ['mallard-1', 'mallard-2', 'dovecot', 'dovecot-hp'] as const;

export async function runSteadyBench(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string', default: '50' },
      'login-clients': { type: 'string', default: '50' },
      seconds: { type: 'string', default: '20' },
      'login-seconds': { type: 'string', default: '10' },
      messages: { type: 'string', default: '500' },
      repeats: { type: 'string', default: '2' },
      servers: { type: 'string', default: ALL_SERVERS.join(',') },
      profile: { type: 'string' },
    },
  });
  const options: SteadyOptions = {
    clients: Number(args.clients),
    loginClients: Number(args['login-clients']),
    seconds: Number(args.seconds),
    loginSeconds: Number(args['login-seconds']),
    messages: Number(args.messages),
    profileDir: args.profile,
  };
  const names = args.servers.split(',').filter(Boolean);
  const figures: Figures[] = [];
  for (let repeat = 0; repeat < Number(args.repeats); repeat++) {
    for (const name of names) {
      const figure = await measure(name, options).catch((error: unknown): Figures => ({
        ...EMPTY,
        server: name,
        error: (error as Error).message,
      }));
      figures.push(figure);
      console.error(JSON.stringify(figure));
    }
  }
  printTable(figures, options);
}

interface SteadyOptions {
  clients: number;
  loginClients: number;
  seconds: number;
  loginSeconds: number;
  messages: number;
  profileDir?: string;
}

interface Figures {
  server: string;
  commandsPerSecond: number;
  noopP50: number;
  noopP99: number;
  steadyCpu: number;
  steadyLoad: string;
  loginsPerSecond: number;
  loginCpu: number;
  loginLoad: string;
  failures: number;
  /** What the login loop said of its failures (the first one's message). */
  loginNote?: string;
  error?: string;
}

const EMPTY: Omit<Figures, 'server'> = {
  commandsPerSecond: NaN,
  noopP50: NaN,
  noopP99: NaN,
  steadyCpu: NaN,
  steadyLoad: '',
  loginsPerSecond: NaN,
  loginCpu: NaN,
  loginLoad: '',
  failures: 0,
};

function startServer(name: string, profileDir?: string): Promise<BenchServer> {
  const cores = os.availableParallelism();
  const workers = /^mallard-(\d+)$/.exec(name);
  if (workers) return startMallardServer({ MALLARD_SERVER_WORKERS: workers[1] }, profileDir);
  if (name === 'mallard-1-event-loop') {
    return startMallardServer(
      { MALLARD_SERVER_WORKERS: '1', MALLARD_STORE_SQLITE_THREAD: 'false' },
      profileDir,
    );
  }
  if (name === 'dovecot') return startDovecotServer();
  if (name === 'dovecot-hp') {
    return startDovecotServer(
      `service imap-login {\n  service_count = 0\n  process_min_avail = ${cores}\n}\n`,
    );
  }
  throw new Error(`unknown server ${name} (known: ${ALL_SERVERS.join(', ')}, mallard-1-event-loop)`);
}

function message(index: number): Buffer {
  const body = `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(60)}${index}\r\n`;
  return Buffer.from(`From: a@example.test\r\nSubject: steady ${index}\r\n\r\n${body}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

const loadAverage = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** The server's CPU over `seconds` since `before` (ticks), in percent of one core. */
const cpuPercent = (server: BenchServer, before: number, seconds: number) =>
  Math.round(((server.cpuTicks() - before) / TICKS_PER_SECOND / seconds) * 100);

async function measure(name: string, options: SteadyOptions): Promise<Figures> {
  const server = await startServer(name, options.profileDir);
  try {
    const steady = await steadyRun(server, options);
    const loginBefore = server.cpuTicks();
    const loginStarted = performance.now();
    const logins = await loginWorkload(server, options);
    const loginSeconds = (performance.now() - loginStarted) / 1000;
    return {
      server: name,
      ...steady,
      loginsPerSecond: logins.value,
      loginCpu: cpuPercent(server, loginBefore, loginSeconds),
      loginLoad: loadAverage(),
      failures: steady.failures + Number((logins.extra as { failures?: number } | undefined)?.failures ?? 0),
      ...(logins.detail?.includes('failed') ? { loginNote: logins.detail } : {}),
    };
  } finally {
    await server.stop();
  }
}

async function steadyRun(server: BenchServer, options: SteadyOptions) {
  const loader = await ImapClient.connect({ port: server.port });
  expectOk(await loader.login(server.user, server.password), 'LOGIN');
  for (let index = 0; index < options.messages; index++) {
    expectOk(await loader.command(['APPEND INBOX ', message(index)]), 'APPEND');
  }
  await loader.logout();
  const clients = await Promise.all(
    Array.from({ length: options.clients }, async () => {
      const client = await ImapClient.connect({ port: server.port });
      expectOk(await client.login(server.user, server.password), 'LOGIN');
      expectOk(await client.command('SELECT INBOX'), 'SELECT');
      return client;
    }),
  );
  const before = server.cpuTicks();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let commands = 0;
  let failures = 0;
  const noops: number[] = [];
  await Promise.all(
    clients.map(async (client, clientIndex) => {
      for (let round = 0; performance.now() < deadline; round++) {
        const uid = 1 + Math.floor(Math.random() * options.messages);
        const fetched = await client.command(`UID FETCH ${uid} (FLAGS BODY.PEEK[])`);
        const sign = (round + clientIndex) % 2 === 0 ? '+' : '-';
        const stored = await client.command(`UID STORE ${uid} ${sign}FLAGS.SILENT (\\Flagged)`);
        const noopStarted = performance.now();
        const noop = await client.command('NOOP');
        noops.push(performance.now() - noopStarted);
        for (const result of [fetched, stored, noop]) if (result.status !== 'OK') failures++;
        commands += 3;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const steadyCpu = cpuPercent(server, before, seconds);
  const steadyLoad = loadAverage();
  await Promise.all(clients.map((client) => client.logout()));
  noops.sort((a, b) => a - b);
  return {
    commandsPerSecond: Math.round(commands / seconds),
    noopP50: Math.round(percentile(noops, 50) * 10) / 10,
    noopP99: Math.round(percentile(noops, 99) * 10) / 10,
    steadyCpu,
    steadyLoad,
    failures,
  };
}

function printTable(figures: Figures[], options: SteadyOptions): void {
  console.log(
    `\nSteady state: ${options.clients} clients, ${options.seconds} s, ${options.messages} messages; ` +
      `login loop: ${options.loginClients} clients, ${options.loginSeconds} s; ${os.availableParallelism()} cores\n`,
  );
  console.log(
    '| server | commands/s | NOOP p50 / p99 (ms) | CPU (steady) | load (steady) | logins/s | CPU (logins) | load (logins) | failures |',
  );
  console.log('|---|---:|---:|---:|---|---:|---:|---|---:|');
  for (const f of figures) {
    if (f.error) {
      console.log(`| ${f.server} | failed: ${f.error} |||||||| |`);
      continue;
    }
    console.log(
      `| ${f.server} | ${f.commandsPerSecond} | ${f.noopP50} / ${f.noopP99} | ${f.steadyCpu}% | ${f.steadyLoad} | ` +
        `${f.loginsPerSecond} | ${f.loginCpu}% | ${f.loginLoad} | ${f.failures} |`,
    );
  }
}
