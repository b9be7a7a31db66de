/**
 * Inbound checks' cost (figures, not a test): messages per second through SMTP-in (`mallard serve`
 * in its own process, port 25's code on a loopback port) with
 *
 * - no checks (sender authentication and spam filtering off),
 * - sender authentication only (SPF, DKIM, DMARC, ARC against a loopback dnsmasq),
 * - authentication + Mallard's own spam checks (GTUBE, a DNSBL lookup on the dnsmasq, the score),
 * - authentication + rspamd (Debian's, with its Redis, started here on loopback),
 *
 * and beside them, the reference in the same run: Debian's Postfix receiving the same messages into a
 * Maildir, alone and with the same rspamd as a milter (rspamd's proxy worker, `milter = yes`).
 * Each Mallard variant runs on a fresh data directory. Memory after the run is PSS: the MTA's
 * processes (Mallard's server, or Postfix's master and its smtpd, cleanup, qmgr...) and, where
 * rspamd scans, rspamd's and Redis's beside it. Postfix answers 250 once the message is safely in
 * its queue and delivers it afterwards; Mallard answers once it is stored in the mailbox. Several
 * client connections send messages one after another, each to the bench user.
 *
 *   npm run bench -- spam [--messages N] [--connections N]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SmtpLineClient } from '../test/delivery/clients.ts';
import os from 'node:os';
import { startDnsmasq } from '../test/helpers/dnsmasq.ts';
import { startPostfix, type Postfix } from '../test/helpers/postfix.ts';
import { freePort } from '../test/helpers/ports.ts';
import { startRspamd, type Rspamd } from '../test/helpers/rspamd.ts';
import { processMemory, processTree } from './lib/memory.ts';
import { BENCH_USER, startMallardServer, waitForPort } from './lib/servers.ts';

interface Row {
  name: string;
  messagesPerSecond: number;
  pssMiB: number;
  extraPssMiB: number | null;
  note: string;
}

function message(n: number): Buffer {
  const body = `Line ${n} of a benchmark message about the garden, the budget and next week.\r\n`.repeat(40);
  return Buffer.from(
    `From: Sender <sender@remote.test>\r\nTo: ${BENCH_USER}\r\nSubject: bench ${n}\r\n` +
      `Date: Fri, 04 Dec 2026 18:00:00 +0000\r\nMessage-ID: <s${n}@remote.test>\r\n\r\n${body}`,
  );
}

/** `count` messages over `connections` connections; the elapsed milliseconds. */
async function sendAll(port: number, count: number, connections: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    const { client } = await SmtpLineClient.connect(port);
    try {
      await client.command('EHLO bench.test');
      while (next < count) {
        const n = next++;
        await client.command('MAIL FROM:<sender@remote.test>');
        await client.command(`RCPT TO:<${BENCH_USER}>`);
        const [reply] = await client.data(message(n));
        if (!reply?.startsWith('250')) throw new Error(`message ${n}: ${reply}`);
      }
      await client.command('QUIT').catch(() => '');
    } finally {
      client.close();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  return performance.now() - started;
}

const mib = (kib: number) => Math.round(kib / 102.4) / 10;

export async function runSpamBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { messages: { type: 'string', default: '300' }, connections: { type: 'string', default: '4' } },
  });
  const count = Math.max(1, Number(values.messages) || 300);
  const connections = Math.max(1, Number(values.connections) || 4);
  const dns = await startDnsmasq({ zones: ['test'] });
  const rspamd = await startRspamd({ dnsServer: dns.server, milter: true });
  const base = { MALLARD_DNS_SERVERS: dns.server };
  const variants: Array<{ name: string; env: NodeJS.ProcessEnv; rspamd?: boolean }> = [
    { name: 'no checks', env: { MALLARD_INBOUND_VERIFY_SENDERS: 'false', MALLARD_SPAM_ENABLED: 'false' } },
    { name: 'sender authentication', env: { MALLARD_SPAM_ENABLED: 'false' } },
    { name: 'authentication + own spam checks (DNSBL)', env: { MALLARD_SPAM_DNSBL: 'bl.test' } },
    { name: 'authentication + rspamd', env: { MALLARD_SPAM_RSPAMD_URL: rspamd.scanUrl }, rspamd: true },
  ];
  const rows: Row[] = [];
  try {
    for (const variant of variants) {
      const smtpPort = await freePort();
      const server = await startMallardServer({
        ...base,
        ...variant.env,
        MALLARD_SMTP_PORT: String(smtpPort),
      });
      try {
        // The server reports ready once IMAP listens; SMTP comes up just after it.
        await waitForPort(smtpPort, 30_000, server.alive);
        // A few messages first: module loading, JIT and rspamd's first scans are not the steady rate.
        await sendAll(smtpPort, Math.min(20, count), 1);
        const elapsed = await sendAll(smtpPort, count, connections);
        const extra = variant.rspamd ? processMemory(rspamd.pids().flatMap(processTree)) : null;
        rows.push({
          name: variant.name,
          messagesPerSecond: Math.round((count / elapsed) * 10_000) / 10,
          pssMiB: mib(server.memory().pssKiB),
          extraPssMiB: extra ? mib(extra.pssKiB) : null,
          note: server.problems().slice(0, 3).join('; '),
        });
      } finally {
        await server.stop();
      }
    }
    for (const milter of [null, rspamd.milter])
      rows.push(await postfixRow(milter, rspamd, count, connections));
  } finally {
    await rspamd.stop();
    await dns.stop();
  }
  console.log(`\nSMTP-in, ${count} messages of ~3 KB over ${connections} connections, loopback`);
  console.log(
    `load average: ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}\n`,
  );
  console.log(
    '| server, inbound checks | messages/s | server PSS (MiB) | rspamd + Redis PSS (MiB) | problems |',
  );
  console.log('| --- | ---: | ---: | ---: | --- |');
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${row.messagesPerSecond} | ${row.pssMiB} | ${row.extraPssMiB ?? '–'} | ${row.note || 'none'} |`,
    );
  }
}

/** Postfix on loopback receiving into a Maildir, with rspamd's milter or without; its figures. */
async function postfixRow(
  milter: string | null,
  rspamd: Rspamd,
  count: number,
  connections: number,
): Promise<Row> {
  const postfix: Postfix = await startPostfix({
    host: '127.0.0.1',
    mailboxes: [BENCH_USER],
    ...(milter ? { milter } : {}),
  });
  try {
    await sendAll(postfix.port, Math.min(20, count), 1);
    const elapsed = await sendAll(postfix.port, count, connections);
    const mta = processMemory(processTree(postfix.masterPid()));
    const extra = milter ? processMemory(rspamd.pids().flatMap(processTree)) : null;
    return {
      name: milter ? 'Postfix + rspamd (milter)' : 'Postfix, no filter',
      messagesPerSecond: Math.round((count / elapsed) * 10_000) / 10,
      pssMiB: mib(mta.pssKiB),
      extraPssMiB: extra ? mib(extra.pssKiB) : null,
      note: '',
    };
  } finally {
    await postfix.stop();
  }
}

// Run directly: node bin/run-ts.mjs bench/spam.ts [...]
if (process.argv[1]?.endsWith('spam.ts')) await runSpamBench(process.argv.slice(2));
