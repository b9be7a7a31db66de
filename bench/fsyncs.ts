/**
 * fsyncs per LMTP delivery and per IMAP STORE (issue 20: "durable without stalling everyone"), with
 * the embedded store on the event loop (store.sqlite.thread=false: one COMMIT and fsync per write)
 * and on its own threads (true: group commit), in one run. The server process is traced with
 * `strace -f -c -e trace=fsync,fdatasync` while 8 LMTP sessions deliver and then while 50 IMAP
 * sessions STORE flags; the rates printed are under strace (slower), use bench/steady.ts for speed.
 *
 *   node bin/run-ts.mjs bench/fsyncs.ts [false true ...]   (needs strace; NOSTRACE=1 to skip it)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { freePort } from '../test/helpers/ports.ts';
import { expectOk, ImapClient } from './lib/imap-client.ts';
import { startMallardServer } from './lib/servers.ts';

const DELIVERY_SESSIONS = 8;
const DELIVERIES_PER_SESSION = 100;
const STORE_SESSIONS = 50;
const STORES_PER_SESSION = 20;

/** Delivers `count` messages over one LMTP session, one transaction after the other. */
function lmtpSession(port: number, count: number, tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let buffer = '';
    let sent = 0;
    let phase: 'greeting' | 'lhlo' | 'transaction' = 'greeting';
    let waiting = 1;
    const transaction = () => {
      if (sent === count) {
        socket.end('QUIT\r\n');
        resolve();
        return;
      }
      waiting = 3; // MAIL, RCPT, DATA's 354
      socket.write('MAIL FROM:<sender@remote.test>\r\nRCPT TO:<bench@example.test>\r\nDATA\r\n');
    };
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      const lines = buffer.split('\r\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (/^\d{3}-/.test(line)) continue;
        if (/^[45]/.test(line)) {
          socket.destroy();
          reject(new Error(`LMTP: ${line}`));
          return;
        }
        if (--waiting > 0) continue;
        if (phase === 'greeting') {
          phase = 'lhlo';
          waiting = 1;
          socket.write('LHLO bench.test\r\n');
        } else if (phase === 'lhlo') {
          phase = 'transaction';
          transaction();
        } else if (line.startsWith('354')) {
          waiting = 1;
          socket.write(`Subject: ${tag} ${sent}\r\n\r\n${'y'.repeat(3000)} ${tag} ${sent}\r\n.\r\n`);
        } else {
          sent++;
          transaction();
        }
      }
    });
    socket.on('error', reject);
  });
}

/** Traces the fsyncs of `pid` (all threads) until `stop` is called; resolves to their count. */
async function traceFsyncs(pid: number): Promise<{ stop(): Promise<number> }> {
  if (process.env.NOSTRACE) return { stop: async () => NaN };
  const strace: ChildProcess = spawn(
    'strace',
    ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-p', String(pid)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let report = '';
  strace.stderr!.on('data', (chunk: Buffer) => (report += chunk.toString()));
  // strace says nothing when it has attached: give it a moment (it only has to stop the threads).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return {
    async stop() {
      const exited = new Promise((resolve) => strace.once('exit', resolve));
      strace.kill('SIGINT');
      await exited;
      return [
        ...report.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(?:fsync|fdatasync)$/gm),
      ].reduce((sum, match) => sum + Number(match[1]), 0);
    },
  };
}

async function measure(thread: string): Promise<string> {
  const lmtpPort = await freePort();
  const server = await startMallardServer({
    MALLARD_STORE_SQLITE_THREAD: thread,
    MALLARD_LMTP_PORT: String(lmtpPort),
    MALLARD_WEB_ENABLED: 'false',
    MALLARD_MANAGESIEVE_ENABLED: 'false',
  });
  try {
    const deliveries = DELIVERY_SESSIONS * DELIVERIES_PER_SESSION;
    let trace = await traceFsyncs(server.pid());
    let started = performance.now();
    await Promise.all(
      Array.from({ length: DELIVERY_SESSIONS }, (_, index) =>
        lmtpSession(lmtpPort, DELIVERIES_PER_SESSION, `s${index}`),
      ),
    );
    const deliveryRate = deliveries / ((performance.now() - started) / 1000);
    const deliveryFsyncs = await trace.stop();

    const clients = await Promise.all(
      Array.from({ length: STORE_SESSIONS }, async () => {
        const client = await ImapClient.connect({ port: server.port });
        expectOk(await client.login(server.user, server.password), 'LOGIN');
        expectOk(await client.command('SELECT INBOX'), 'SELECT');
        return client;
      }),
    );
    const stores = STORE_SESSIONS * STORES_PER_SESSION;
    trace = await traceFsyncs(server.pid());
    started = performance.now();
    await Promise.all(
      clients.map(async (client, index) => {
        for (let round = 0; round < STORES_PER_SESSION; round++) {
          const uid = 1 + ((index * STORES_PER_SESSION + round) % deliveries);
          expectOk(await client.command(`UID STORE ${uid} +FLAGS.SILENT (\\Flagged)`), 'STORE');
        }
      }),
    );
    const storeRate = stores / ((performance.now() - started) / 1000);
    const storeFsyncs = await trace.stop();
    await Promise.all(clients.map((client) => client.logout()));
    return (
      `| ${thread === 'true' ? 'own threads' : 'event loop'} | ${(deliveryFsyncs / deliveries).toFixed(2)} | ` +
      `${deliveryRate.toFixed(0)} | ${(storeFsyncs / stores).toFixed(2)} | ${storeRate.toFixed(0)} |`
    );
  } finally {
    await server.stop();
  }
}

const rows: string[] = [];
for (const thread of process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['false', 'true']) {
  rows.push(await measure(thread));
  console.error(rows.at(-1));
}
console.log(
  `\n${DELIVERY_SESSIONS} LMTP sessions × ${DELIVERIES_PER_SESSION} deliveries, then ` +
    `${STORE_SESSIONS} IMAP sessions × ${STORES_PER_SESSION} STOREs\n`,
);
console.log('| store | fsyncs per delivery | deliveries/s | fsyncs per STORE | STOREs/s |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
