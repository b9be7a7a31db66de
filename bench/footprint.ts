/**
 * The idle server's own memory (issue 20), and where it goes:
 *
 *   npm run bench -- footprint [--settle 3]
 *
 * `mallard serve` (one worker) in a few set-ups, each started fresh, one session logged in and
 * left idle for `--settle` seconds, then its RSS and PSS (all processes) and its resident pages by
 * kind from /proc/PID/smaps: anonymous (the V8 heaps of the main thread and the store/parse threads,
 * sqlite's page cache, malloc), the database files mapped by sqlite's mmap (file pages: shared
 * with the kernel's page cache, counted in RSS as they are touched), the node binary and the
 * shared libraries. Dovecot idle, in its default configuration, is measured the same way beside it.
 *
 * Set-ups: the bundle (bin/dist, its threads built too: what `mallard serve` runs), the sources
 * through tsx in every thread (MALLARD_BUNDLE=0), and the bundle with the store on the event loop
 * (store.sqlite.thread false: no store threads at all).
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { expectOk, ImapClient } from './lib/imap-client.ts';
import { processMemory } from './lib/memory.ts';
import { startDovecotServer, startMallardServer, type BenchServer } from './lib/servers.ts';

interface Footprint {
  setup: string;
  rssMiB: number;
  pssMiB: number;
  /** Resident KiB by kind of mapping, all processes. */
  kinds: Record<string, number>;
}

const SETUPS: Array<{ name: string; env: NodeJS.ProcessEnv }> = [
  { name: 'Mallard, bundle (threads built)', env: {} },
  { name: 'Mallard, sources through tsx', env: { MALLARD_BUNDLE: '0' } },
  { name: 'Mallard, bundle, store on the event loop', env: { MALLARD_STORE_SQLITE_THREAD: 'false' } },
];

const mib = (kib: number) => Math.round(kib / 1024);

/** The kind of a mapping, from its smaps header line. */
function kindOf(header: string): string {
  const name = header.trim().split(/\s+/).slice(5).join(' ');
  if (name === '' || name.startsWith('[')) return 'anonymous';
  if (/\.db(-wal|-shm)?$/.test(name)) return 'database files (mmap)';
  if (name === process.execPath || /\/node$/.test(name)) return 'node binary';
  if (/\.so(\.|$)/.test(name) || /\.node$/.test(name)) return 'shared libraries';
  return 'other files';
}

function residentByKind(pids: number[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const pid of pids) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
    } catch {
      continue;
    }
    let kind = 'anonymous';
    for (const line of text.split('\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) kind = kindOf(line);
      else if (line.startsWith('Rss:')) kinds[kind] = (kinds[kind] ?? 0) + Number(/(\d+)/.exec(line)![1]);
    }
  }
  return kinds;
}

async function measure(server: BenchServer, setup: string, settle: number) {
  const pids = () => server.pids();
  const client = await ImapClient.connect({ port: server.port, timeoutMs: 30_000 });
  expectOk(await client.login(server.user, server.password), 'LOGIN');
  await new Promise((resolve) => setTimeout(resolve, settle * 1000));
  const sample = processMemory(pids());
  const kinds = residentByKind(pids());
  await client.logout();
  return { setup, rssMiB: mib(sample.rssKiB), pssMiB: mib(sample.pssKiB), kinds } satisfies Footprint;
}

export async function runFootprintBench(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({ args: argv, options: { settle: { type: 'string', default: '3' } } });
  const settle = Number(args.settle);
  console.log(`footprint: load ${os.loadavg().join(' ')}`);
  const results: Footprint[] = [];
  for (const { name, env } of SETUPS) {
    const server = await startMallardServer({ MALLARD_SERVER_WORKERS: '1', ...env });
    try {
      results.push(await measure(server, name, settle));
    } finally {
      await server.stop();
    }
  }
  const dovecot = await startDovecotServer();
  try {
    results.push(await measure(dovecot, 'Dovecot, default', settle));
  } finally {
    await dovecot.stop();
  }
  const kinds = [...new Set(results.flatMap((result) => Object.keys(result.kinds)))].sort();
  console.log('\nIdle server after one LOGIN: MiB\n');
  console.log(`| set-up | RSS | PSS | ${kinds.map((kind) => `${kind} (RSS)`).join(' | ')} |`);
  console.log(`| --- | ---: | ---: | ${kinds.map(() => '---:').join(' | ')} |`);
  for (const result of results) {
    const cells = kinds.map((kind) => String(mib(result.kinds[kind] ?? 0)));
    console.log(`| ${result.setup} | ${result.rssMiB} | ${result.pssMiB} | ${cells.join(' | ')} |`);
  }
  console.log(`\nload average after the runs: ${os.loadavg().join(' ')}`);
}
