/**
 * Sending figures (not a test), Mallard beside Debian's Postfix in the same run on loopback:
 *
 * - Mallard submission → a local recipient (stored in the INBOX before the 250);
 * - the same with BURL (RFC 4468): the message is a draft already in the store, sent by its
 *   URLAUTH URL instead of being uploaded again;
 * - Mallard submission → the loopback Postfix through the outbound queue (DKIM-signed, relayed),
 *   timed until Postfix has stored every message;
 * - Postfix smtpd → its own local (virtual Maildir) delivery, timed the same way.
 *
 * One client connection per workload, messages one after another.
 *
 *   node bin/run-ts.mjs bench/sending.ts [--messages N]
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import { hashPassword } from '../server/auth/password.ts';
import { loadConfig } from '../server/config/load.ts';
import { createLogger } from '../server/log.ts';
import { URLAUTH_MECHANISM, urlAuthToken } from '../server/imap/url/urlauth.ts';
import { startServer } from '../server/main.ts';
import { SmtpLineClient } from '../test/delivery/clients.ts';
import { makeDataDir } from '../test/helpers/cli.ts';
import { startPostfix } from '../test/helpers/postfix.ts';
import { processMemory, processTree } from './lib/memory.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '500' } } });
const COUNT = Math.max(1, Number(values.messages) || 500);
// Loopback's first address: the raw client of the tests connects there.
const MX = '127.0.0.1';

function message(n: number, to: string): Buffer {
  const body = `Line ${n} of a benchmark message, long enough to look like mail.\r\n`.repeat(40);
  return Buffer.from(
    `From: alice@example.test\r\nTo: ${to}\r\nSubject: bench ${n}\r\nMessage-ID: <b${n}@example.test>\r\n\r\n${body}`,
  );
}

/** How one message goes out on a session in a transaction: its final reply. */
type SendOne = (client: SmtpLineClient, n: number, to: string) => Promise<string | undefined>;

const byData: SendOne = async (client, n, to) => (await client.data(message(n, to)))[0];

async function sendAll(port: number, to: string, login: boolean, sendOne: SendOne = byData): Promise<number> {
  const { client } = await SmtpLineClient.connect(port);
  await client.command('EHLO bench.test');
  if (login) {
    const token = Buffer.from('\0alice@example.test\0secret').toString('base64');
    if (!(await client.command(`AUTH PLAIN ${token}`)).startsWith('235')) throw new Error('login failed');
  }
  const started = performance.now();
  for (let n = 0; n < COUNT; n += 1) {
    await client.command('MAIL FROM:<alice@example.test>');
    await client.command(`RCPT TO:<${to}>`);
    const reply = await sendOne(client, n, to);
    if (!reply?.startsWith('250')) throw new Error(`message ${n}: ${reply}`);
  }
  const elapsed = performance.now() - started;
  await client.command('QUIT').catch(() => '');
  client.close();
  return elapsed;
}

async function until(probe: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await probe())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** RSS and PSS of processes (PSS divides shared pages: the fair sum for Postfix's many daemons). */
function memoryOf(pids: number[], what: string): string {
  const sample = processMemory(pids);
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  return `RSS ${mib(sample.rssKiB)} MiB, PSS ${mib(sample.pssKiB)} MiB (${what}, ${sample.processes} processes)`;
}

const postfix = await startPostfix({ host: MX, mailboxes: ['local@postfix.test', 'relayed@postfix.test'] });
const dataDir = makeDataDir('mallard-bench-send-');
const config = loadConfig({
  env: {
    MALLARD_DATA_DIR: dataDir,
    MALLARD_HOSTNAME: 'localhost',
    MALLARD_IMAP_HOST: '127.0.0.1',
    MALLARD_POP3_HOST: '127.0.0.1',
    MALLARD_SMTP_HOST: '127.0.0.1',
    MALLARD_SUBMISSION_HOST: '127.0.0.1',
    MALLARD_SUBMISSION_MAX_MESSAGES_PER_HOUR: String(COUNT * 3),
    MALLARD_ADMIN_PORT: '0',
    MALLARD_DNS_SERVERS: '127.0.0.1:9',
    MALLARD_OUTBOUND_RELAY_HOST: MX,
    MALLARD_OUTBOUND_RELAY_PORT: String(postfix.port),
    MALLARD_OUTBOUND_RELAY_TLS: 'none',
  },
});
const server = await startServer(config, {
  ephemeralPorts: true,
  logger: createLogger('silent', process.stderr),
});
const results: Array<[string, string, string]> = [];
try {
  const { id: alice } = await server.store.createUser({
    username: 'alice@example.test',
    passwordHash: await hashPassword('secret'),
  });
  const port = server.submission.listeners.find((listener) => !listener.implicitTls)!.port;

  const local = await sendAll(port, 'alice@example.test', true);
  results.push([
    'Mallard submission → local INBOX',
    `${((COUNT * 1000) / local).toFixed(0)} msg/s`,
    memoryOf([process.pid], 'the whole benchmark process'),
  ]);

  // BURL: the draft (the same bytes as DATA's first message) sent by its URL each time.
  const drafts = (await server.store.getMailbox(alice, 'INBOX'))!;
  const draft = await server.store.append(drafts.id, message(0, 'alice@example.test'));
  const rump = `imap://alice%40example.test@localhost/INBOX/;UID=${draft.uid};URLAUTH=submit+alice%40example.test`;
  const key = (await server.store.urlAuthKey(drafts.id, true))!;
  const url = `${rump}:${URLAUTH_MECHANISM}:${urlAuthToken(key, rump)}`;
  const burl = await sendAll(port, 'alice@example.test', true, (client) =>
    client.command(`BURL ${url} LAST`),
  );
  results.push([
    'Mallard submission BURL → local INBOX',
    `${((COUNT * 1000) / burl).toFixed(0)} msg/s`,
    memoryOf([process.pid], 'the whole benchmark process'),
  ]);

  const remoteStarted = performance.now();
  await sendAll(port, 'relayed@postfix.test', true);
  await until(() => postfix.delivered('relayed@postfix.test').length >= COUNT);
  const remote = performance.now() - remoteStarted;
  results.push([
    'Mallard submission → queue → loopback Postfix (DKIM-signed)',
    `${((COUNT * 1000) / remote).toFixed(0)} msg/s`,
    memoryOf([process.pid], 'the whole benchmark process'),
  ]);

  const postfixStarted = performance.now();
  await sendAll(postfix.port, 'local@postfix.test', false);
  await until(() => postfix.delivered('local@postfix.test').length >= COUNT);
  const direct = performance.now() - postfixStarted;
  results.push([
    'Postfix smtpd → its local (virtual Maildir) delivery',
    `${((COUNT * 1000) / direct).toFixed(0)} msg/s`,
    // Sampled while its daemons (smtpd, cleanup, qmgr, virtual...) are still up after the run.
    memoryOf(processTree(postfix.masterPid()), 'master and children'),
  ]);
} finally {
  await server.stop();
  await postfix.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.stdout.write(`\n${COUNT} messages of ~2.7 KB, one connection, on this machine:\n\n`);
process.stdout.write('| workload | rate | memory |\n| --- | --- | --- |\n');
for (const [name, rate, memory] of results) process.stdout.write(`| ${name} | ${rate} | ${memory} |\n`);
