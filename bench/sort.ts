/**
 * `npm run bench -- sort [--messages 100000] [--repeats 5]`: SORT (ARRIVAL, DATE, SUBJECT, FROM)
 * and THREAD=REFERENCES on one big INBOX, Mallard beside Dovecot in the same run, the same messages
 * on both (filled outside IMAP as bench/bigbox.ts does). Messages come in threads of five (a root
 * and four replies with References), subjects "Re: topic n", senders of varied names, dates out
 * of arrival order. Per command: the first run after SELECT (Dovecot builds its sort/thread index
 * then) and the median of `--repeats` runs after it, wall time and server CPU; the load average.
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fillDovecot, fillMallard, type Fixture } from './bigbox.ts';
import { expectOk, ImapClient } from './lib/imap-client.ts';
import { TICKS_PER_SECOND } from './lib/memory.ts';
import { seededRandom } from './lib/messages.ts';
import { dovecotInfo, startDovecotServer, startMallardServer, type BenchServer } from './lib/servers.ts';

const NAMES = ['Ann', 'bob', 'Émile', 'zoe', 'Carl', 'dana', 'Øyvind', 'eve', 'Frank', 'gus'];

function makeFixtures(count: number): Fixture[] {
  const random = seededRandom(5256);
  const start = Date.UTC(2024, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const root = i - (i % 5);
    const internalDate = new Date(start + i * 60_000);
    // Sent dates wander up to a day around the arrival, so DATE and ARRIVAL orders differ.
    const sent = new Date(internalDate.getTime() + Math.floor((random() - 0.5) * 86_400_000));
    const name = NAMES[i % NAMES.length]!;
    const lines = [
      `From: ${name} <${name.toLowerCase()}${i % 89}@example.net>`,
      'To: bench@example.test',
      `Subject: ${i === root ? '' : 'Re: '}topic ${root / 5}`,
      `Date: ${sent.toUTCString()}`,
      `Message-ID: <${i}@bench.example.net>`,
    ];
    if (i !== root) {
      const refs = Array.from({ length: i - root }, (_, k) => `<${root + k}@bench.example.net>`);
      lines.push(`References: ${refs.join('\r\n ')}`, `In-Reply-To: ${refs[refs.length - 1]}`);
    }
    const raw = Buffer.from(`${lines.join('\r\n')}\r\n\r\nBody of message ${i}.\r\n`);
    return { raw, flags: random() > 0.3 ? ['\\Seen'] : [], internalDate };
  });
}

const COMMANDS: Array<[string, string]> = [
  ['SORT (ARRIVAL)', 'UID SORT (ARRIVAL) UTF-8 ALL'],
  ['SORT (DATE)', 'UID SORT (DATE) UTF-8 ALL'],
  ['SORT (SUBJECT)', 'UID SORT (SUBJECT) UTF-8 ALL'],
  ['SORT (FROM)', 'UID SORT (FROM) UTF-8 ALL'],
  ['THREAD=REFERENCES', 'UID THREAD REFERENCES UTF-8 ALL'],
];

interface Figure {
  firstMs: number;
  medianMs: number;
  cpuMs: number;
  bytes: number;
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round1 = (value: number): number => Math.round(value * 10) / 10;

async function measure(server: BenchServer, repeats: number): Promise<Map<string, Figure>> {
  const client = await ImapClient.connect({ port: server.port, timeoutMs: 600_000 });
  expectOk(await client.login(server.user, server.password), 'LOGIN');
  expectOk(await client.command('SELECT INBOX', { timeoutMs: 600_000 }), 'SELECT');
  const figures = new Map<string, Figure>();
  for (const [label, command] of COMMANDS) {
    const times: number[] = [];
    let bytes = 0;
    let ticks = 0;
    for (let run = 0; run <= repeats; run++) {
      const before = server.cpuTicks();
      const started = performance.now();
      const result = expectOk(await client.command(command, { timeoutMs: 600_000 }), command);
      times.push(performance.now() - started);
      if (run > 0) ticks += server.cpuTicks() - before;
      bytes = result.untagged.reduce((sum, r) => sum + Buffer.byteLength(r.text) + 2, 0);
    }
    figures.set(label, {
      firstMs: round1(times[0]!),
      medianMs: round1(median(times.slice(1))),
      cpuMs: round1((ticks * 1000) / TICKS_PER_SECOND / repeats),
      bytes,
    });
    console.log(`${server.name} ${label}: ${JSON.stringify(figures.get(label))}`);
  }
  await client.logout();
  return figures;
}

export async function runSortBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { messages: { type: 'string', default: '100000' }, repeats: { type: 'string', default: '5' } },
  });
  const messages = Number(values.messages);
  const repeats = Number(values.repeats);
  const fixtures = makeFixtures(messages);
  const servers: BenchServer[] = [];
  const mallard = await startMallardServer();
  servers.push(mallard);
  try {
    // Filled beside the running server (no session has the mailbox open yet), as bench/bigbox.ts.
    await fillMallard(mallard.dataDir, mallard.user, fixtures);
    if (dovecotInfo().installed) {
      const dovecot = await startDovecotServer();
      servers.push(dovecot);
      fillDovecot(path.join(dovecot.dir, 'mail', dovecot.user), fixtures);
    } else console.log('Dovecot is not installed: Mallard only');
    const results = new Map<string, Map<string, Figure>>();
    for (const server of servers) {
      try {
        results.set(server.name, await measure(server, repeats));
      } finally {
        const problems = server.problems();
        if (problems.length > 0) console.log(`${server.name} logged:\n  ${problems.slice(-5).join('\n  ')}`);
      }
    }
    const load = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    console.log(
      `\n${messages.toLocaleString('en')}-message INBOX; load average ${load}; ${dovecotInfo().version}`,
    );
    console.log(
      'first run after SELECT / median of the next runs (wall ms), server CPU ms per run, answer bytes\n',
    );
    console.log(`| command | ${servers.map((s) => s.name).join(' | ')} |`);
    console.log(`|---|${servers.map(() => '---:').join('|')}|`);
    for (const [label] of COMMANDS) {
      const cells = servers.map((s) => {
        const f = results.get(s.name)!.get(label)!;
        return `${f.firstMs} / ${f.medianMs} ms, CPU ${f.cpuMs} ms, ${f.bytes.toLocaleString('en')} B`;
      });
      console.log(`| ${label} | ${cells.join(' | ')} |`);
    }
  } finally {
    for (const server of servers) await server.stop();
  }
}
