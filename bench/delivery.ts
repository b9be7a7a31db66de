/**
 * What an MTA pays per delivered message, side by side in one run (the runs interleave, so the
 * machine's load touches every row alike):
 *   - `mallard deliver` from the prebuilt bundle (bin/dist), and from the TypeScript sources
 *     through tsx (MALLARD_BUNDLE=0: how every start ran before the bundle);
 *   - Dovecot's `dovecot-lda` with a minimal configuration in a temporary directory;
 *   - `mallard user list`, for the commands a person waits on (each runs from a script of its own);
 *   - `node -e 0`: Node's own start-up, the floor under any `mallard` command;
 *   - one LMTP session per message (connect, greeting, LHLO, MAIL, RCPT, DATA, QUIT) to a running
 *     `mallard serve`, and to Dovecot's LMTP: no process per message, what the README recommends.
 *
 *   node bin/run-ts.mjs bench/delivery.ts [--runs N]
 *
 * Prints a markdown table, and the figures as one JSON line starting with "delivery-json ".
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freshBundle } from '../bin/bundle.mjs';
import { dovecotAvailable, startDovecot, type DovecotServer } from '../test/helpers/dovecot.ts';
import { freePort } from '../test/helpers/ports.ts';
import { BENCH_PASSWORD, BENCH_USER, startMallardServer } from './lib/servers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The command as installed (package.json's bin), as an MTA's pipe runs it.
const MALLARD = path.join(ROOT, 'bin', 'mallard.cjs');
const DOVECOT_LDA = '/usr/lib/dovecot/dovecot-lda';
const NOBODY = 65534;

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '21' } } });
const RUNS = Math.max(1, Math.min(200, Number(args.runs) || 21));
/** The sources through tsx take about a second a run: fewer of them. */
const SOURCE_RUNS = Math.max(1, Math.ceil(RUNS / 3));

const MESSAGE = Buffer.from(
  'From: Sender <sender@remote.test>\r\nTo: bench@example.test\r\nSubject: delivery bench\r\n' +
    'Message-ID: <delivery-bench@remote.test>\r\n\r\nHello from the delivery benchmark.\r\n',
);

interface Row {
  label: string;
  /** Wall time of each run, ms. */
  times: number[];
  /** CPU time (user + system) of each run's process and its children, ms; empty for LMTP sessions. */
  cpu: number[];
  error?: string;
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/**
 * bash runs the command and reports its wall time (EPOCHREALTIME, microseconds, bash's own start-up
 * left out) and, with `times`, the CPU time of the children it waited for (getrusage, milliseconds):
 * on a loaded machine wall time mostly measures the queue for a core, CPU time what the command costs.
 */
const TIMED_SCRIPT = 's=$EPOCHREALTIME; "$@"; rc=$?; e=$EPOCHREALTIME; times >&3; echo "$s $e" >&3; exit $rc';

/** Seconds in bash's `times` notation (0m0.083s). */
function timesSeconds(text: string): number {
  const match = /^(\d+)m([\d.]+)s$/.exec(text);
  if (!match) throw new Error(`unexpected \`times\` output: ${text}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Runs a command with MESSAGE on stdin; resolves to its wall and CPU time, or rejects on failure. */
function timed(command: string, argv: string[], env: NodeJS.ProcessEnv): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', TIMED_SCRIPT, 'timed', command, ...argv], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let report = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    (child.stdio[3] as NodeJS.ReadableStream).on(
      'data',
      (chunk: Buffer) => (report += chunk.toString('utf8')),
    );
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${path.basename(command)} exited ${code}: ${stderr.trim().slice(0, 200)}`));
        return;
      }
      // `times`: the shell's own user and system time, then its children's; then start and end.
      const [, children, clock] = report.trim().split('\n');
      const [user, system] = children!.trim().split(/\s+/).map(timesSeconds);
      const [start, end] = clock!.trim().split(/\s+/).map(Number);
      resolve({ wallMs: (end! - start!) * 1000, cpuMs: (user! + system!) * 1000 });
    });
    child.stdin!.end(MESSAGE);
  });
}

/** A directory and configuration in which dovecot-lda delivers to a Maildir (as `nobody` when root). */
function dovecotLda(): { argv: string[]; command: string; dir: string } | { error: string } {
  if (!fs.existsSync(DOVECOT_LDA)) return { error: 'not installed' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bench-lda-'));
  fs.chmodSync(dir, 0o755);
  for (const sub of ['mail', 'run', 'state']) fs.mkdirSync(path.join(dir, sub));
  fs.writeFileSync(path.join(dir, 'dovecot.log'), '');
  fs.writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run\nstate_dir = ${dir}/state\nlog_path = ${dir}/dovecot.log\nssl = no\n` +
      `mail_location = maildir:${dir}/mail/bench\n`,
  );
  const lda = [DOVECOT_LDA, '-c', path.join(dir, 'dovecot.conf'), '-f', 'sender@remote.test'];
  // Dovecot will not deliver as root: run it as nobody, as an MTA's pipe would run it unprivileged.
  if (process.getuid?.() === 0) {
    for (const sub of ['mail', 'run', 'state', 'dovecot.log'])
      fs.chownSync(path.join(dir, sub), NOBODY, NOBODY);
    return {
      dir,
      command: 'setpriv',
      argv: [
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        '--clear-groups',
        'env',
        `HOME=${dir}/mail`,
        'USER=bench',
        ...lda,
      ],
    };
  }
  return { dir, command: lda[0]!, argv: lda.slice(1) };
}

/** Reads SMTP/LMTP replies off a socket, one complete reply at a time. */
class Replies {
  private text = '';
  private waiting: (() => void) | null = null;
  constructor(socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      this.waiting?.();
    });
  }
  async next(): Promise<string> {
    for (;;) {
      const match = /^\d{3} [^\r\n]*\r\n/m.exec(this.text);
      if (match) {
        const end = match.index + match[0].length;
        const reply = this.text.slice(0, end);
        this.text = this.text.slice(end);
        return reply;
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}

/** One LMTP session delivering MESSAGE to `recipient`; resolves to its wall time in ms. */
async function lmtpSession(port: number, recipient: string): Promise<number> {
  const started = performance.now();
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const replies = new Replies(socket);
  try {
    const expect = async (code: string, step: string) => {
      const reply = await replies.next();
      if (!reply.startsWith(code)) throw new Error(`${step}: ${reply.trim()}`);
    };
    await expect('220', 'greeting');
    socket.write('LHLO bench.test\r\n');
    await expect('250', 'LHLO');
    socket.write('MAIL FROM:<sender@remote.test>\r\n');
    await expect('250', 'MAIL');
    socket.write(`RCPT TO:<${recipient}>\r\n`);
    await expect('250', 'RCPT');
    socket.write('DATA\r\n');
    await expect('354', 'DATA');
    socket.write(Buffer.concat([MESSAGE, Buffer.from('.\r\n')]));
    await expect('250', 'delivery');
    socket.write('QUIT\r\n');
    await expect('221', 'QUIT');
    return performance.now() - started;
  } finally {
    socket.destroy();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The 90th percentile (nearest rank). */
const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.9) - 1]!;

const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main(): Promise<void> {
  const began = performance.now();
  console.log(`# delivery per message: ${RUNS} runs each (${SOURCE_RUNS} from the sources), interleaved`);
  console.log(
    `load average ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );

  const lmtpPort = await freePort();
  const mallard = await startMallardServer({
    MALLARD_LMTP_HOST: '127.0.0.1',
    MALLARD_LMTP_PORT: String(lmtpPort),
    MALLARD_WEB_ENABLED: 'false',
    MALLARD_MANAGESIEVE_ENABLED: 'false',
  });
  let dovecot: DovecotServer | null = null;
  let dovecotLmtpPort = 0;
  const lda = dovecotLda();
  try {
    const mallardEnv = {
      ...process.env,
      MALLARD_CONFIG: '',
      MALLARD_DATA_DIR: mallard.dataDir,
      MALLARD_LOG_LEVEL: 'warn',
    };
    const rows: Record<string, Row> = {
      node: { label: 'Node start-up (`node -e 0`), for scale', times: [], cpu: [] },
      bundle: { label: '`mallard deliver`, prebuilt bundle', times: [], cpu: [] },
      sources: { label: '`mallard deliver`, TypeScript sources through tsx (before)', times: [], cpu: [] },
      command: {
        label: '`mallard user list`, for the other commands (each has a script too)',
        times: [],
        cpu: [],
      },
      lda: { label: '`dovecot-lda`', times: [], cpu: [] },
      lmtp: { label: 'LMTP session to `mallard serve` (new connection per message)', times: [], cpu: [] },
      dovecotLmtp: { label: 'LMTP session to Dovecot (new connection per message)', times: [], cpu: [] },
    };
    if ('error' in lda) rows.lda!.error = lda.error;
    if (dovecotAvailable() && fs.existsSync('/usr/lib/dovecot/lmtp')) {
      dovecotLmtpPort = await freePort();
      try {
        dovecot = await startDovecot(
          [[BENCH_USER, BENCH_PASSWORD]],
          `protocols = imap lmtp\nservice lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = ${dovecotLmtpPort}\n  }\n}\n`,
        );
      } catch (error) {
        rows.dovecotLmtp!.error = `did not start: ${(error as Error).message}`;
      }
    } else rows.dovecotLmtp!.error = 'not installed (dovecot-lmtpd)';

    // The bundle is built (or found fresh) before the clock runs: a first start may build it.
    await timed(process.execPath, [MALLARD, 'deliver', BENCH_USER], mallardEnv);
    if (!freshBundle('deliver')) rows.bundle!.error = 'no bundle (esbuild missing?): ran from the sources';

    const measure = async (id: string, run: () => Promise<number | Timing>) => {
      const row = rows[id]!;
      if (row.error) return;
      try {
        const timing = await run();
        if (typeof timing === 'number') row.times.push(timing);
        else {
          row.times.push(timing.wallMs);
          row.cpu.push(timing.cpuMs);
        }
      } catch (error) {
        row.error = (error as Error).message;
      }
    };
    for (let run = 0; run < RUNS; run++) {
      await measure('node', () => timed(process.execPath, ['-e', '0'], process.env));
      await measure('bundle', () => timed(process.execPath, [MALLARD, 'deliver', BENCH_USER], mallardEnv));
      await measure('command', () => timed(process.execPath, [MALLARD, 'user', 'list'], mallardEnv));
      if (run < SOURCE_RUNS) {
        await measure('sources', () =>
          timed(process.execPath, [MALLARD, 'deliver', BENCH_USER], { ...mallardEnv, MALLARD_BUNDLE: '0' }),
        );
      }
      if (!('error' in lda)) await measure('lda', () => timed(lda.command, lda.argv, process.env));
      await measure('lmtp', () => lmtpSession(lmtpPort, BENCH_USER));
      if (dovecot) await measure('dovecotLmtp', () => lmtpSession(dovecotLmtpPort, BENCH_USER));
    }

    const node = rows.node!.times.length ? median(rows.node!.times) : NaN;
    // On a loaded machine wall time mostly measures the queue for a core: CPU time says what a
    // command costs over Node's own start.
    const nodeCpu = rows.node!.cpu.length ? median(rows.node!.cpu) : NaN;
    console.log(
      '\n| per message | wall median | wall p90 | CPU median | CPU p90 | runs | wall median − Node start-up | CPU median − Node start-up |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    type Figure = {
      medianMs: number;
      p90Ms: number;
      minMs: number;
      cpuMedianMs?: number;
      cpuP90Ms?: number;
      runs: number;
    };
    const figures: Record<string, Figure | { error: string }> = {};
    const round = (value: number) => Number(value.toFixed(1));
    for (const [id, row] of Object.entries(rows)) {
      if (row.error || row.times.length === 0) {
        figures[id] = { error: row.error ?? 'no runs' };
        console.log(
          `| ${row.label} | error: ${(row.error ?? 'no runs').replace(/\|/g, '\\|')} | | | | | | |`,
        );
        continue;
      }
      const med = median(row.times);
      const figure: Figure = {
        medianMs: round(med),
        p90Ms: round(p90(row.times)),
        minMs: round(Math.min(...row.times)),
        runs: row.times.length,
      };
      if (row.cpu.length) {
        figure.cpuMedianMs = round(median(row.cpu));
        figure.cpuP90Ms = round(p90(row.cpu));
      }
      figures[id] = figure;
      const cpu = row.cpu.length ? `${ms(median(row.cpu))} | ${ms(p90(row.cpu))}` : '— | —';
      const process_ = id !== 'node' && !id.toLowerCase().includes('lmtp');
      const over = process_ ? ms(med - node) : '—';
      const cpuOver = process_ && row.cpu.length ? ms(median(row.cpu) - nodeCpu) : '—';
      console.log(
        `| ${row.label} | ${ms(med)} | ${ms(p90(row.times))} | ${cpu} | ${row.times.length} | ${over} | ${cpuOver} |`,
      );
    }
    console.log(
      `\ntarget: \`mallard deliver\` and the other commands under 100 ms median; total ${((performance.now() - began) / 1000).toFixed(0)} s`,
    );
    console.log(`delivery-json ${JSON.stringify({ runs: RUNS, load: os.loadavg(), figures })}`);
    console.log(
      `load average at the end ${os
        .loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await mallard.stop();
    await dovecot?.stop();
    if (!('error' in lda)) fs.rmSync(lda.dir, { recursive: true, force: true });
  }
}

await main();
// A socket of a failed session must not keep the run alive.
process.exit(0);
