/**
 * A big INBOX (issue 20): Mallard beside Dovecot on one mailbox of 100,000 messages, same messages
 * and flags on both, each server in turn and the rounds repeated (the machines are shared):
 *
 *   npm run bench -- bigbox [--messages 100000] [--repeats 7] [--rounds 2] [--workers 1] [--profile DIR]
 *
 * Per server: SELECT cold (the first after the server started: Mallard reads the mailbox, Dovecot
 * builds its index) and warm; `FETCH 1:* (FLAGS)`, `UID FETCH 1:* (UID FLAGS)`, `UID SEARCH UNSEEN`
 * with the mailbox selected, `STATUS INBOX (MESSAGES UNSEEN)` from a second session; the median wall
 * time of `--repeats` runs, and the CPU each command cost the server's processes (all of them, from
 * /proc, the same measure for both); memory (RSS and PSS of all its processes) idle after login and
 * with the mailbox selected; the load average after each round. `--profile DIR`: V8 CPU profiles of
 * Mallard (`--cpu-prof`), one set per round, written to DIR when it restarts or stops.
 *
 * The mailboxes are filled outside IMAP, the same messages for both: Mallard's through its store in
 * this process (group commits), Dovecot's as maildir files with the flags in their names.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../server/store/sqlite/index.ts';
import { expectOk, ImapClient } from './lib/imap-client.ts';
import { TICKS_PER_SECOND } from './lib/memory.ts';
import { seededRandom } from './lib/messages.ts';
import { startDovecotServer, startMallardServer, type BenchServer } from './lib/servers.ts';

export interface Fixture {
  raw: Buffer;
  flags: string[];
  internalDate: Date;
}

const MAILDIR_LETTERS: Record<string, string> = {
  '\\Draft': 'D',
  '\\Flagged': 'F',
  '\\Answered': 'R',
  '\\Seen': 'S',
  '\\Deleted': 'T',
};

/** Messages of a few hundred bytes; a third unseen, some flagged, answered, deleted. */
function makeFixtures(count: number): Fixture[] {
  const random = seededRandom(20);
  const start = Date.UTC(2024, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const flags: string[] = [];
    if (random() > 0.33) flags.push('\\Seen');
    if (random() < 0.05) flags.push('\\Flagged');
    if (random() < 0.1) flags.push('\\Answered');
    if (random() < 0.01) flags.push('\\Deleted');
    const internalDate = new Date(start + i * 60_000);
    const raw = Buffer.from(
      `From: sender${i % 97}@example.net\r\nTo: bench@example.test\r\nSubject: message ${i}\r\n` +
        `Date: ${internalDate.toUTCString()}\r\nMessage-ID: <${i}@bench.example.net>\r\n\r\n` +
        `Body of message ${i}.\r\n`,
    );
    return { raw, flags, internalDate };
  });
}

export async function fillMallard(
  dataDir: string,
  user: string,
  fixtures: readonly Fixture[],
): Promise<void> {
  const store = await SqliteStore.open(dataDir);
  try {
    const account = (await store.getUserByUsername(user))!;
    const inbox = (await store.getMailbox(account.id, 'INBOX'))!;
    for (let start = 0; start < fixtures.length; start += 2000) {
      // One COMMIT per 2,000 appends (the calls run synchronously inside it).
      const appended = store.inOneCommit(() =>
        fixtures
          .slice(start, start + 2000)
          .map((fixture) =>
            store.append(inbox.id, fixture.raw, { flags: fixture.flags, internalDate: fixture.internalDate }),
          ),
      );
      await Promise.all(appended);
    }
  } finally {
    await store.close();
  }
}

const NOBODY = 65534;

export function fillDovecot(mailDir: string, fixtures: readonly Fixture[]): void {
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(mailDir, sub), { recursive: true });
  fixtures.forEach((fixture, i) => {
    const letters = fixture.flags
      .map((flag) => MAILDIR_LETTERS[flag])
      .sort()
      .join('');
    const seconds = Math.floor(fixture.internalDate.getTime() / 1000);
    const file = path.join(mailDir, 'cur', `${seconds}.M${i}P1.bench,S=${fixture.raw.length}:2,${letters}`);
    fs.writeFileSync(file, fixture.raw);
    fs.utimesSync(file, seconds, seconds);
    fs.chownSync(file, NOBODY, NOBODY);
  });
  for (const dir of [
    mailDir,
    path.dirname(mailDir),
    ...['cur', 'new', 'tmp'].map((s) => path.join(mailDir, s)),
  ])
    fs.chownSync(dir, NOBODY, NOBODY);
}

interface Measured {
  server: string;
  round: number;
  /** Wall ms (median) and server CPU ms per command, by workload. */
  wall: Record<string, number>;
  cpu: Record<string, number>;
  idle: { rssMiB: number; pssMiB: number };
  selected: { rssMiB: number; pssMiB: number };
  load: string;
  check: string;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const round1 = (value: number): number => Math.round(value * 10) / 10;
const mib = (kib: number): number => Math.round(kib / 1024);

async function timed(
  server: BenchServer,
  repeats: number,
  run: () => Promise<void>,
): Promise<{ wall: number; cpu: number }> {
  const times: number[] = [];
  const ticks = server.cpuTicks();
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  const cpuMs = ((server.cpuTicks() - ticks) * 1000) / TICKS_PER_SECOND / repeats;
  return { wall: round1(median(times)), cpu: round1(cpuMs) };
}

async function session(server: BenchServer): Promise<ImapClient> {
  const client = await ImapClient.connect({ port: server.port, timeoutMs: 30_000 });
  expectOk(await client.login(server.user, server.password), 'LOGIN');
  return client;
}

/** Runs a command whose untagged responses are only counted (a listing of 100,000 lines). */
async function counted(client: ImapClient, command: string): Promise<number> {
  let lines = 0;
  expectOk(
    await client.command(command, { collect: false, timeoutMs: 300_000, onUntagged: () => lines++ }),
    command,
  );
  return lines;
}

async function measure(
  server: BenchServer,
  name: string,
  roundNo: number,
  repeats: number,
): Promise<Measured> {
  const wall: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  const record = (id: string, figure: { wall: number; cpu: number }) => {
    wall[id] = figure.wall;
    cpu[id] = figure.cpu;
  };
  const client = await session(server);
  const other = await session(server);
  const idleSample = server.memory();
  let exists = 0;
  record(
    'selectCold',
    await timed(server, 1, async () => {
      const result = expectOk(await client.command('SELECT INBOX', { timeoutMs: 300_000 }), 'SELECT');
      exists = Number(/\* (\d+) EXISTS/.exec(result.untagged.map((r) => r.text).join('\n'))?.[1] ?? 0);
    }),
  );
  const selectedSample = server.memory();
  record(
    'selectWarm',
    await timed(server, repeats, async () => {
      expectOk(await client.command('SELECT INBOX'), 'SELECT');
    }),
  );
  let fetched = 0;
  record(
    'fetchFlags',
    await timed(server, repeats, async () => {
      fetched = await counted(client, 'FETCH 1:* (FLAGS)');
    }),
  );
  record(
    'uidFetchFlags',
    await timed(server, repeats, async () => {
      await counted(client, 'UID FETCH 1:* (UID FLAGS)');
    }),
  );
  let unseen = 0;
  record(
    'searchUnseen',
    await timed(server, repeats, async () => {
      const result = expectOk(await client.command('UID SEARCH UNSEEN', { timeoutMs: 300_000 }), 'SEARCH');
      const line = result.untagged.find((r) => /^\* SEARCH/i.test(r.text))?.text ?? '';
      unseen = line.split(' ').length - 2;
    }),
  );
  let status = '';
  record(
    'status',
    await timed(server, repeats, async () => {
      const result = expectOk(await other.command('STATUS INBOX (MESSAGES UNSEEN)'), 'STATUS');
      status = result.untagged[0]?.text ?? '';
    }),
  );
  await client.logout();
  await other.logout();
  return {
    server: name,
    round: roundNo,
    wall,
    cpu,
    idle: { rssMiB: mib(idleSample.rssKiB), pssMiB: mib(idleSample.pssKiB) },
    selected: { rssMiB: mib(selectedSample.rssKiB), pssMiB: mib(selectedSample.pssKiB) },
    load: os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
    check: `${exists} exists, ${fetched} FETCH, ${unseen} unseen, ${status}`,
  };
}

const ROWS: Array<[string, string]> = [
  ['selectCold', 'SELECT INBOX, cold (first after start)'],
  ['selectWarm', 'SELECT INBOX, warm'],
  ['fetchFlags', 'FETCH 1:* (FLAGS)'],
  ['uidFetchFlags', 'UID FETCH 1:* (UID FLAGS)'],
  ['searchUnseen', 'UID SEARCH UNSEEN'],
  ['status', 'STATUS INBOX (MESSAGES UNSEEN), other session'],
];

function printTable(results: readonly Measured[], messages: number): void {
  const columns = results.map((r) => `${r.server} #${r.round}`);
  const line = (cells: string[]) => console.log(`| ${cells.join(' | ')} |`);
  console.log(
    `\n${messages.toLocaleString('en')}-message INBOX: wall ms (median) / server CPU ms per command\n`,
  );
  line(['workload', ...columns]);
  line(['---', ...columns.map(() => '---:')]);
  for (const [id, label] of ROWS) line([label, ...results.map((r) => `${r.wall[id]} / ${r.cpu[id]}`)]);
  line([
    'memory idle after LOGIN, RSS / PSS MiB',
    ...results.map((r) => `${r.idle.rssMiB} / ${r.idle.pssMiB}`),
  ]);
  line([
    'memory with INBOX selected, RSS / PSS MiB',
    ...results.map((r) => `${r.selected.rssMiB} / ${r.selected.pssMiB}`),
  ]);
  line([
    'selected minus idle, RSS / PSS MiB',
    ...results.map((r) => `+${r.selected.rssMiB - r.idle.rssMiB} / +${r.selected.pssMiB - r.idle.pssMiB}`),
  ]);
  line(['load average after the round', ...results.map((r) => r.load)]);
  console.log('');
  for (const r of results) console.log(`${r.server} #${r.round}: ${r.check}`);
}

export async function runBigboxBench(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string', default: '100000' },
      repeats: { type: 'string', default: '7' },
      rounds: { type: 'string', default: '2' },
      workers: { type: 'string', default: '1' },
      profile: { type: 'string' },
    },
  });
  const messages = Number(args.messages);
  const fixtures = makeFixtures(messages);
  console.log(
    `bigbox: ${messages} messages, Mallard with server.workers ${args.workers}; load ${os.loadavg().join(' ')}`,
  );
  const mallard = await startMallardServer({ MALLARD_SERVER_WORKERS: args.workers }, args.profile);
  const dovecot = await startDovecotServer();
  try {
    let started = performance.now();
    await fillMallard(mallard.dataDir, mallard.user, fixtures);
    console.log(`Mallard filled in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    started = performance.now();
    fillDovecot(path.join(dovecot.dir, 'mail', dovecot.user), fixtures);
    console.log(`Dovecot filled in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const results: Measured[] = [];
    for (let round = 1; round <= Number(args.rounds); round++) {
      // A fresh Mallard process each round: its idle figure and the cold SELECT start from nothing.
      await mallard.restart!();
      const order = round % 2 === 1 ? [mallard, dovecot] : [dovecot, mallard];
      for (const server of order) {
        const result = await measure(server, server.name, round, Number(args.repeats));
        results.push(result);
        console.log(JSON.stringify(result));
      }
    }
    printTable(results, messages);
    for (const server of [mallard, dovecot]) {
      const problems = server.problems();
      if (problems.length > 0) console.log(`${server.name} logged:\n  ${problems.slice(-5).join('\n  ')}`);
    }
  } finally {
    await mallard.stop();
    await dovecot.stop();
  }
}
