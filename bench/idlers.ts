/**
 * Many sessions in IDLE (issue 20): the whole server's memory with them open, and how soon a new
 * message is pushed to every one of them:
 *
 *   npm run bench -- idlers [--connections 10000] [--workers 2] [--settle 3]
 *
 * `mallard serve` with `server.workers` processes (all of them measured: RSS and PSS from /proc);
 * every connection logs in as the bench user, selects INBOX and IDLEs. Then one more session
 * APPENDs a message; from its tagged OK (the acknowledgement) to the `* n EXISTS` each idler
 * receives is the push delay (median, 99th percentile, slowest, and how many never got it within
 * 10 s). Dovecot is not run here: a process per IMAP session makes 10,000 of them several GB.
 * The load average is printed with the figures (the machines are shared).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { expectOk, ImapClient } from './lib/imap-client.ts';
import { processMemory } from './lib/memory.ts';
import { startMallardServer } from './lib/servers.ts';

interface Idler {
  client: ImapClient;
  /** performance.now() when the EXISTS of the pushed message came, else null. */
  pushedAt: number | null;
  done(): Promise<unknown>;
}

const mib = (kib: number) => (kib / 1024).toFixed(1);
const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

export async function runIdlersBench(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      connections: { type: 'string', default: '10000' },
      workers: { type: 'string', default: String(os.availableParallelism()) },
      // Seconds between the last idler in and the memory reading; past a minute, the store's writer
      // threads have stopped (nothing was written meanwhile).
      settle: { type: 'string', default: '3' },
    },
  });
  const connections = Number(args.connections);
  console.log(
    `idlers: ${connections} connections, server.workers ${args.workers}; load ${os.loadavg().join(' ')}`,
  );
  const server = await startMallardServer({
    MALLARD_SERVER_WORKERS: args.workers,
    MALLARD_IMAP_MAX_CONNECTIONS_PER_USER: String(connections + 100),
    MALLARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS: String(connections + 100),
    MALLARD_LIMITS_MAX_PRELOGIN_CONNECTIONS: String(connections + 100),
  });
  const idlers: Idler[] = [];
  let failures = 0;
  let firstFailure = '';
  try {
    const open = async (): Promise<Idler> => {
      const client = await ImapClient.connect({ port: server.port, timeoutMs: 60_000 });
      expectOk(await client.login(server.user, server.password), 'LOGIN');
      expectOk(await client.command('SELECT INBOX', { timeoutMs: 60_000 }), 'SELECT');
      const idler: Idler = { client, pushedAt: null, done: async () => undefined };
      const idle = await client.idle(60_000, (response) => {
        if (idler.pushedAt === null && / EXISTS$/.test(response.text)) idler.pushedAt = performance.now();
      });
      idler.done = idle.done;
      return idler;
    };
    // Warm up (code loaded in every worker), then the baseline.
    const warm = await Promise.all(Array.from({ length: 10 }, open));
    await Promise.all(warm.map(async (idler) => (await idler.done(), idler.client.logout())));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const before = server.memory();
    let started = performance.now();
    for (let start = 0; start < connections && failures <= 50; start += 100) {
      const batch = await Promise.allSettled(
        Array.from({ length: Math.min(100, connections - start) }, open),
      );
      for (const result of batch) {
        if (result.status === 'fulfilled') idlers.push(result.value);
        else {
          failures++;
          firstFailure ||= (result.reason as Error).message;
        }
      }
    }
    const openSeconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, Number(args.settle) * 1000));
    const after = server.memory();
    // Per process: the supervisor and each worker.
    const perProcess = server
      .pids()
      .map((pid) => {
        const sample = processMemory([pid]);
        return `${pid}: RSS ${mib(sample.rssKiB)} / PSS ${mib(sample.pssKiB)} MiB`;
      })
      .join('; ');
    // One message, appended by another session; its tagged OK is the acknowledgement.
    const sender = await ImapClient.connect({ port: server.port, timeoutMs: 60_000 });
    expectOk(await sender.login(server.user, server.password), 'LOGIN');
    const message = Buffer.from('From: a@example.net\r\nSubject: pushed\r\n\r\nto every idler\r\n');
    started = performance.now();
    expectOk(await sender.command(['APPEND INBOX ', message], { timeoutMs: 60_000 }), 'APPEND');
    const acknowledged = performance.now();
    const deadline = acknowledged + 10_000;
    while (idlers.some((idler) => idler.pushedAt === null) && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await sender.logout();
    const delays = idlers
      .filter((idler) => idler.pushedAt !== null)
      .map((idler) => idler.pushedAt! - acknowledged)
      .sort((a, b) => a - b);
    const missed = idlers.length - delays.length;
    console.log('');
    console.log(
      `| ${idlers.length.toLocaleString('en')} connections in IDLE, server.workers ${args.workers} | Mallard |`,
    );
    console.log('| --- | ---: |');
    console.log(`| opened in (s) | ${openSeconds.toFixed(1)} |`);
    console.log(`| server processes | ${before.processes} → ${after.processes} |`);
    console.log(
      `| RSS, whole server (MiB): idle → with the idlers | ${mib(before.rssKiB)} → ${mib(after.rssKiB)} |`,
    );
    console.log(
      `| PSS, whole server (MiB): idle → with the idlers | ${mib(before.pssKiB)} → ${mib(after.pssKiB)} |`,
    );
    console.log(
      `| PSS per connection (KiB) | ${((after.pssKiB - before.pssKiB) / Math.max(1, idlers.length)).toFixed(1)} |`,
    );
    console.log(`| APPEND acknowledged in (ms) | ${(acknowledged - started).toFixed(1)} |`);
    console.log(
      `| push after the acknowledgement, ms: median / p99 / slowest | ${quantile(delays, 0.5).toFixed(0)} / ${quantile(delays, 0.99).toFixed(0)} / ${(delays.at(-1) ?? NaN).toFixed(0)} |`,
    );
    console.log(`| idlers not pushed to within 10 s | ${missed} |`);
    console.log(`| per process, with the idlers | ${perProcess} |`);
    console.log(`| failed to open | ${failures}${firstFailure ? ` (first: ${firstFailure})` : ''} |`);
    console.log(
      `| load average | ${os
        .loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')} |`,
    );
  } finally {
    for (let start = 0; start < idlers.length; start += 500)
      await Promise.all(idlers.slice(start, start + 500).map((idler) => idler.client.destroy()));
    await server.stop();
  }
}
