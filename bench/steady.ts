/**
 * Steady state with many clients (issue 20's "50 clients, no reconnects"), Mallard only, with the
 * embedded store on the event loop (store.sqlite.thread=false) and on its own threads (true),
 * alternated and repeated, so both are measured in the same run on the same machine:
 *
 *   node bin/run-ts.mjs bench/steady.ts [--clients 50] [--seconds 20] [--messages 500] [--repeats 2]
 *
 * Each client logs in once, selects INBOX and loops: UID FETCH of a random message (flags and
 * body), UID STORE of a flag on it (a durable write), NOOP. Reported: commands/s, the NOOP latency
 * (what every other session feels), and the CPU of the server's main thread and whole process,
 * from /proc (percent of one core).
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { expectOk, ImapClient } from './lib/imap-client.ts';
import { startMallardServer } from './lib/servers.ts';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    messages: { type: 'string', default: '500' },
    repeats: { type: 'string', default: '2' },
  },
});
const CLIENTS = Number(args.clients);
const SECONDS = Number(args.seconds);
const MESSAGES = Number(args.messages);
const REPEATS = Number(args.repeats);
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a thread or process, in clock ticks. */
function cpuTicks(statFile: string): number {
  const text = fs.readFileSync(statFile, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function message(index: number): Buffer {
  const body = `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(60)}${index}\r\n`;
  return Buffer.from(`From: a@example.test\r\nSubject: steady ${index}\r\n\r\n${body}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

interface RunFigures {
  thread: boolean;
  commandsPerSecond: number;
  writesPerSecond: number;
  noopP50: number;
  noopP99: number;
  noopMax: number;
  mainThreadCpu: number;
  processCpu: number;
  failures: number;
}

async function run(thread: boolean): Promise<RunFigures> {
  const server = await startMallardServer({ MALLARD_STORE_SQLITE_THREAD: String(thread) });
  try {
    const loader = await ImapClient.connect({ port: server.port });
    expectOk(await loader.login(server.user, server.password), 'LOGIN');
    for (let index = 0; index < MESSAGES; index++) {
      expectOk(await loader.command(['APPEND INBOX ', message(index)]), 'APPEND');
    }
    await loader.logout();
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const client = await ImapClient.connect({ port: server.port });
        expectOk(await client.login(server.user, server.password), 'LOGIN');
        expectOk(await client.command('SELECT INBOX'), 'SELECT');
        return client;
      }),
    );
    const pid = server.pid();
    const mainBefore = cpuTicks(`/proc/${pid}/task/${pid}/stat`);
    const processBefore = cpuTicks(`/proc/${pid}/stat`);
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    let commands = 0;
    let writes = 0;
    let failures = 0;
    const noops: number[] = [];
    await Promise.all(
      clients.map(async (client, clientIndex) => {
        let round = 0;
        while (performance.now() < deadline) {
          const uid = 1 + Math.floor(Math.random() * MESSAGES);
          const fetched = await client.command(`UID FETCH ${uid} (FLAGS BODY.PEEK[])`);
          const sign = (round + clientIndex) % 2 === 0 ? '+' : '-';
          const stored = await client.command(`UID STORE ${uid} ${sign}FLAGS.SILENT (\\Flagged)`);
          const noopStarted = performance.now();
          const noop = await client.command('NOOP');
          noops.push(performance.now() - noopStarted);
          for (const result of [fetched, stored, noop]) if (result.status !== 'OK') failures++;
          commands += 3;
          writes += 1;
          round++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const mainCpu = (cpuTicks(`/proc/${pid}/task/${pid}/stat`) - mainBefore) / TICKS_PER_SECOND / seconds;
    const processCpu = (cpuTicks(`/proc/${pid}/stat`) - processBefore) / TICKS_PER_SECOND / seconds;
    await Promise.all(clients.map((client) => client.logout()));
    noops.sort((a, b) => a - b);
    return {
      thread,
      commandsPerSecond: Math.round(commands / seconds),
      writesPerSecond: Math.round(writes / seconds),
      noopP50: Math.round(percentile(noops, 50) * 10) / 10,
      noopP99: Math.round(percentile(noops, 99) * 10) / 10,
      noopMax: Math.round((noops.at(-1) ?? NaN) * 10) / 10,
      mainThreadCpu: Math.round(mainCpu * 100),
      processCpu: Math.round(processCpu * 100),
      failures,
    };
  } finally {
    await server.stop();
  }
}

const figures: RunFigures[] = [];
for (let repeat = 0; repeat < REPEATS; repeat++) {
  for (const thread of [false, true]) {
    const figure = await run(thread);
    figures.push(figure);
    console.error(JSON.stringify(figure));
  }
}
console.log(
  `\nSteady state, ${CLIENTS} clients, ${SECONDS} s, ${MESSAGES} messages (load ${fs.readFileSync('/proc/loadavg', 'utf8').trim()})\n`,
);
console.log(
  '| store | commands/s | STOREs/s | NOOP p50 / p99 / max (ms) | main thread CPU | process CPU | failures |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const f of figures) {
  console.log(
    `| ${f.thread ? 'own threads' : 'event loop'} | ${f.commandsPerSecond} | ${f.writesPerSecond} | ` +
      `${f.noopP50} / ${f.noopP99} / ${f.noopMax} | ${f.mainThreadCpu}% | ${f.processCpu}% | ${f.failures} |`,
  );
}
