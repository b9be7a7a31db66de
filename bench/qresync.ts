/**
 * `npm run bench -- qresync [--messages N] [--changes N] [--repeats N]`: a QRESYNC reselect after
 * N changes (half flag changes, half expunges, made by another session) in a large INBOX, beside a
 * full resync (SELECT + FETCH 1:* (UID FLAGS)), on Mallard (`mallard serve`) and Debian's Dovecot in
 * the same run. Time is the median of the runs from sending SELECT to its tagged OK (and through
 * the FETCH for the full resync); bytes are what the server sent for it (response lines and CRLFs).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { expectOk, ImapClient, type CommandResult } from './lib/imap-client.ts';
import { dovecotInfo, startDovecotServer, startMallardServer, type BenchServer } from './lib/servers.ts';

interface Measure {
  ms: number;
  bytes: number;
  lines: number;
}

interface Result {
  server: string;
  messages: number;
  qresync: Measure;
  full: Measure;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** What the server sent for a command: every response line with its CRLF, literals included. */
function responseBytes(result: CommandResult): number {
  let bytes = Buffer.byteLength(result.tagged.text) + 2;
  for (const response of result.untagged) bytes += Buffer.byteLength(response.text) + 2;
  return bytes + result.literalBytes;
}

async function session(server: BenchServer): Promise<ImapClient> {
  const client = await ImapClient.connect({ port: server.port, timeoutMs: 30_000 });
  await client.login(server.user, server.password);
  expectOk(await client.command('ENABLE QRESYNC'), 'ENABLE QRESYNC');
  return client;
}

function message(n: number): Buffer {
  return Buffer.from(
    `From: sender${n % 97}@example.org\r\nTo: bench@example.test\r\nSubject: message ${n}\r\n` +
      `Message-ID: <${n}@bench.example>\r\n\r\nBody of message ${n}.\r\n`,
  );
}

/** Appends `count` small messages with LITERAL+, 64 in flight. */
async function fill(client: ImapClient, count: number): Promise<void> {
  const inFlight: Array<Promise<CommandResult>> = [];
  for (let n = 1; n <= count; n++) {
    inFlight.push(client.command(['APPEND INBOX ', message(n)], { timeoutMs: 120_000, collect: false }));
    if (inFlight.length >= 64) expectOk(await inFlight.shift()!, 'APPEND');
  }
  for (const pending of inFlight) expectOk(await pending, 'APPEND');
}

async function runOne(
  server: BenchServer,
  messages: number,
  changes: number,
  repeats: number,
): Promise<Result> {
  const writer = await session(server);
  const started = performance.now();
  await fill(writer, messages);
  console.log(
    `${server.name}: ${messages} messages appended in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const selected = expectOk(await writer.command('SELECT INBOX', { collect: true }), 'SELECT');
  const all = [selected.tagged, ...selected.untagged].map((r) => r.text).join('\n');
  const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(all)![1]);
  const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(all)![1]);
  // The changes, spread over the mailbox: half flag changes, half expunges.
  const step = Math.max(1, Math.floor(messages / changes));
  const flagged: number[] = [];
  const expunged: number[] = [];
  for (let i = 0; i < changes; i++) (i % 2 === 0 ? flagged : expunged).push(1 + i * step);
  expectOk(await writer.command(`UID STORE ${flagged.join(',')} +FLAGS.SILENT (\\Seen)`), 'STORE');
  expectOk(await writer.command(`UID STORE ${expunged.join(',')} +FLAGS.SILENT (\\Deleted)`), 'STORE');
  expectOk(await writer.command(`UID EXPUNGE ${expunged.join(',')}`), 'UID EXPUNGE');
  await writer.logout().catch(() => undefined);

  const reader = await session(server);
  const qresync: Measure[] = [];
  const full: Measure[] = [];
  for (let run = 0; run < repeats; run++) {
    let begin = performance.now();
    const resync = expectOk(
      await reader.command(`SELECT INBOX (QRESYNC (${uidValidity} ${modseq}))`, { collect: true }),
      'SELECT (QRESYNC)',
    );
    qresync.push({
      ms: performance.now() - begin,
      bytes: responseBytes(resync),
      lines: resync.untagged.length,
    });
    begin = performance.now();
    const plain = expectOk(await reader.command('SELECT INBOX', { collect: true }), 'SELECT');
    const fetch = expectOk(await reader.command('FETCH 1:* (UID FLAGS)', { collect: true }), 'FETCH');
    full.push({
      ms: performance.now() - begin,
      bytes: responseBytes(plain) + responseBytes(fetch),
      lines: plain.untagged.length + fetch.untagged.length,
    });
  }
  await reader.logout().catch(() => undefined);
  const summary = (list: Measure[]): Measure => ({
    ms: Math.round(median(list.map((m) => m.ms)) * 10) / 10,
    bytes: list[0]!.bytes,
    lines: list[0]!.lines,
  });
  return { server: server.name, messages, qresync: summary(qresync), full: summary(full) };
}

export async function runQresyncBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string', default: '100000' },
      changes: { type: 'string', default: '100' },
      repeats: { type: 'string', default: '5' },
    },
  });
  const messages = Number(values.messages);
  const changes = Number(values.changes);
  const repeats = Number(values.repeats);
  const results: Result[] = [];
  const servers: Array<() => Promise<BenchServer>> = [() => startMallardServer()];
  if (dovecotInfo().installed) servers.push(() => startDovecotServer());
  else console.log('Dovecot is not installed: Mallard only');
  for (const start of servers) {
    const server = await start();
    try {
      results.push(await runOne(server, messages, changes, repeats));
    } finally {
      await server.stop();
    }
  }
  console.log(
    `\nQRESYNC reselect after ${changes} changes (${changes / 2} flag changes, ${changes / 2} expunges)`,
  );
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${dovecotInfo().version}\n`,
  );
  console.log(
    '| server | messages | QRESYNC reselect | bytes | full resync (SELECT + FETCH flags) | bytes |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.server} | ${r.messages.toLocaleString('en')} | ${r.qresync.ms} ms | ${r.qresync.bytes.toLocaleString('en')} ` +
        `| ${r.full.ms} ms | ${r.full.bytes.toLocaleString('en')} |`,
    );
  }
}
