/**
 * Deliveries per second through LMTP with a 50-rule Sieve script and without one, Mallard beside
 * Dovecot's LMTP with Pigeonhole and the same script, in one run (the runs interleave, so the
 * machine's load touches every row alike). The script tests the Subject 49 times and the From
 * domain once, and none matches: every rule is evaluated and the message goes to INBOX.
 *
 *   npm run bench -- sieve [--runs N]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../test/helpers/dovecot.ts';
import { freePort } from '../test/helpers/ports.ts';
import { BENCH_PASSWORD, BENCH_USER, startMallardServer } from './lib/servers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MALLARD = path.join(ROOT, 'bin', 'mallard.mjs');
const NOBODY = 65534;
const FILTERED = 'filtered@example.test';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '200' } } });
const RUNS = Math.max(1, Math.min(5000, Number(args.runs) || 200));

export const FIFTY_RULES = [
  'require ["fileinto"];',
  ...Array.from(
    { length: 49 },
    (_, n) => `if header :contains "subject" "topic-${n}" { fileinto "Topic-${n}"; }`,
  ),
  'if address :domain :is "from" "lists.example" { fileinto "Lists"; }',
  '',
].join('\n');

const MESSAGE = Buffer.from(
  'From: Sender <sender@remote.test>\r\nTo: someone@example.test\r\nSubject: sieve bench\r\n' +
    'Message-ID: <sieve-bench@remote.test>\r\n\r\nHello from the Sieve benchmark.\r\n.\r\n',
);

/** One LMTP connection delivering `count` messages to `recipient`, one transaction each. */
async function deliverMany(port: number, recipient: string, count: number): Promise<number> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setEncoding('latin1');
  let text = '';
  let wake: (() => void) | null = null;
  socket.on('data', (chunk: string) => {
    text += chunk;
    wake?.();
  });
  const reply = async (code: string, step: string) => {
    for (;;) {
      const match = /^\d{3} [^\r\n]*\r\n/m.exec(text);
      if (match) {
        const line = text.slice(0, match.index + match[0].length);
        text = text.slice(match.index + match[0].length);
        if (!line.slice(line.lastIndexOf('\n', line.length - 3) + 1).startsWith(code)) {
          throw new Error(`${step}: ${line.trim()}`);
        }
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  try {
    await reply('220', 'greeting');
    socket.write('LHLO bench.test\r\n');
    await reply('250', 'LHLO');
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      socket.write(`MAIL FROM:<sender@remote.test>\r\nRCPT TO:<${recipient}>\r\nDATA\r\n`);
      await reply('250', 'MAIL');
      await reply('250', 'RCPT');
      await reply('354', 'DATA');
      socket.write(MESSAGE);
      await reply('250', 'delivery');
    }
    return performance.now() - started;
  } finally {
    socket.destroy();
  }
}

function mallardCli(dataDir: string, args: string[], input = ''): void {
  const result = spawnSync(process.execPath, [MALLARD, ...args], {
    input,
    env: {
      ...process.env,
      MALLARD_CONFIG: '',
      MALLARD_DATA_DIR: dataDir,
      MALLARD_CLI_OFFLINE: '1',
      MALLARD_LOG_LEVEL: 'warn',
    },
  });
  if (result.status !== 0) throw new Error(`mallard ${args.join(' ')}: ${result.stderr.toString()}`);
}

/** Dovecot with LMTP and the Sieve plugin; the filtered user's home holds the script. */
async function startDovecotWithSieve(port: number): Promise<DovecotServer> {
  const dovecot = await startDovecot(
    [
      [BENCH_USER, BENCH_PASSWORD],
      [FILTERED, BENCH_PASSWORD],
    ],
    `protocols = imap lmtp
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${port}
  }
}
protocol lmtp {
  mail_plugins = $mail_plugins sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
`,
  );
  const home = path.join(dovecot.dir, 'mail', FILTERED);
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, '.dovecot.sieve'), FIFTY_RULES);
  for (const entry of [home, path.join(home, '.dovecot.sieve')]) fs.chownSync(entry, NOBODY, NOBODY);
  return dovecot;
}

async function main(): Promise<void> {
  const load = () =>
    os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' ');
  console.log(`# Sieve at delivery: ${RUNS} LMTP deliveries per row and round, 3 rounds, interleaved`);
  console.log(`load average before: ${load()}`);
  const lmtpPort = await freePort();
  const mallard = await startMallardServer({
    MALLARD_LMTP_HOST: '127.0.0.1',
    MALLARD_LMTP_PORT: String(lmtpPort),
    MALLARD_WEB_ENABLED: 'false',
    MALLARD_MANAGESIEVE_ENABLED: 'false',
  });
  let dovecot: DovecotServer | null = null;
  const dovecotPort = await freePort();
  try {
    mallardCli(mallard.dataDir, ['user', 'add', FILTERED, '--password', BENCH_PASSWORD]);
    mallardCli(mallard.dataDir, ['sieve', 'put', FILTERED, 'fifty', '-'], FIFTY_RULES);
    mallardCli(mallard.dataDir, ['sieve', 'activate', FILTERED, 'fifty']);
    if (
      dovecotAvailable() &&
      fs.existsSync('/usr/lib/dovecot/lmtp') &&
      fs.existsSync('/usr/lib/dovecot/modules/lib90_sieve_plugin.so')
    ) {
      dovecot = await startDovecotWithSieve(dovecotPort);
    }
    const rows: Array<{ label: string; port: number; user: string; ms: number[] }> = [
      { label: 'Mallard, no script', port: lmtpPort, user: BENCH_USER, ms: [] },
      { label: 'Mallard, 50-rule script', port: lmtpPort, user: FILTERED, ms: [] },
      ...(dovecot
        ? [
            { label: 'Dovecot, no script', port: dovecotPort, user: BENCH_USER, ms: [] },
            { label: 'Dovecot + Pigeonhole, 50-rule script', port: dovecotPort, user: FILTERED, ms: [] },
          ]
        : []),
    ];
    // A warm-up delivery each, so that no row pays for first-use compilation or page faults.
    for (const row of rows) await deliverMany(row.port, row.user, 5);
    for (let round = 0; round < 3; round++) {
      for (const row of rows) row.ms.push(await deliverMany(row.port, row.user, RUNS));
    }
    console.log('\n| LMTP deliveries | deliveries/s (best of 3) | median of 3 |');
    console.log('|---|---:|---:|');
    for (const row of rows) {
      const rates = row.ms.map((ms) => (RUNS * 1000) / ms).sort((a, b) => a - b);
      console.log(`| ${row.label} | ${rates[2]!.toFixed(0)} | ${rates[1]!.toFixed(0)} |`);
    }
    if (!dovecot) console.log('\nDovecot reference: not installed (dovecot-lmtpd, dovecot-sieve)');
    else {
      // Pigeonhole leaves the compiled script beside the source: proof that it ran the script.
      const home = path.join(dovecot.dir, 'mail', FILTERED);
      const compiled = fs.readdirSync(home).some((name) => name.endsWith('.svbin'));
      console.log(`\nPigeonhole compiled the script: ${compiled ? 'yes' : 'NO (its row is not filtered)'}`);
    }
    console.log(`\nload average after: ${load()}`);
  } finally {
    await dovecot?.stop();
    await mallard.stop();
  }
}

await main();
