/**
 * `npm run bench -- import [--mb N] [--size BYTES]`: IMAP import throughput (MB/s of message
 * bodies) and memory, from Debian's Dovecot on loopback (test/helpers/dovecot.ts) filled with an
 * account of N MB (default 200) in two folders, into the sqlite engine, unthrottled. Beside the
 * reference of reading the same account from Dovecot alone (imapflow fetching every body and
 * dropping it): the ceiling the source sets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ImapFlow } from 'imapflow';
import { importFromImap } from '../server/import/imap-import.ts';
import { SqliteStore } from '../server/store/sqlite/store.ts';
import { dovecotAvailable, startDovecot } from '../test/helpers/dovecot.ts';
import { makeCorpus } from './lib/messages.ts';

const MB = 1024 * 1024;
const NOBODY = 65534;
const LOGIN = 'bench@example.test';
const PASSWORD = 'bench password';

/** Runs `work`, sampling RSS every 20 ms; the peak above the starting RSS. */
async function measure(work: () => Promise<void>): Promise<{ seconds: number; peakRssMb: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return { seconds: (performance.now() - started) / 1000, peakRssMb: (peak - base) / MB };
}

/** Writes the account straight into the user's Maildir (INBOX and .Archive), owned as Dovecot's user. */
function fillMaildir(home: string, count: number, size: number): number {
  const pool = makeCorpus({ count: Math.min(count, 2000), size }).messages;
  let bytes = 0;
  for (const folder of ['', '.Archive']) {
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(home, folder, sub), { recursive: true });
  }
  for (let index = 0; index < count; index++) {
    const raw = Buffer.concat([Buffer.from(`X-Bench-Copy: ${index}\r\n`), pool[index % pool.length]!]);
    bytes += raw.length;
    const folder = index % 4 === 0 ? '.Archive' : '';
    fs.writeFileSync(path.join(home, folder, 'cur', `${index}.bench,S=${raw.length}:2,S`), raw);
  }
  fs.writeFileSync(path.join(home, 'subscriptions'), 'Archive\n');
  const chown = (dir: string) => {
    fs.chownSync(dir, NOBODY, NOBODY);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) chown(full);
      else fs.chownSync(full, NOBODY, NOBODY);
    }
  };
  chown(home);
  return bytes;
}

export async function runImportBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { mb: { type: 'string', default: '200' }, size: { type: 'string', default: '20000' } },
  });
  if (!dovecotAvailable()) throw new Error('the import bench needs Dovecot (apt-get install dovecot-imapd)');
  const size = Number(values.size);
  const count = Math.max(1, Math.round((Number(values.mb) * MB) / size));
  const dovecot = await startDovecot([[LOGIN, PASSWORD]]);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bench-import-'));
  try {
    const bytes = fillMaildir(path.join(dovecot.dir, 'mail', LOGIN), count, size);
    const bodyMb = bytes / MB;
    process.stdout.write(
      `account: ${count} messages, ${bodyMb.toFixed(1)} MB in Dovecot ${dovecot.port}; load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    const source = {
      host: '127.0.0.1',
      port: dovecot.port,
      security: 'plain' as const,
      login: LOGIN,
      password: PASSWORD,
    };

    // The reference first: it also warms Dovecot's indexes, so both runs read the same way.
    let fetched = 0;
    const read = await measure(async () => {
      const client = new ImapFlow({
        ...source,
        secure: false,
        doSTARTTLS: false,
        auth: { user: LOGIN, pass: PASSWORD },
        logger: false,
      });
      await client.connect();
      for (const folder of ['INBOX', 'Archive']) {
        const lock = await client.getMailboxLock(folder);
        try {
          for await (const m of client.fetch('1:*', { uid: true, source: true }))
            fetched += m.source?.length ?? 0;
        } finally {
          lock.release();
        }
      }
      await client.logout();
    });
    if (fetched !== bytes) throw new Error(`read ${fetched} bytes from Dovecot, wrote ${bytes}`);

    const store = await SqliteStore.open(path.join(work, 'data'));
    const user = await store.createUser({ username: 'bench@example.com', passwordHash: '$argon2id$x' });
    let imported = 0;
    const run = await measure(async () => {
      const progress = await importFromImap(store, {
        source,
        userId: user.id,
        maxMessageSize: 50 * MB,
        print: () => {},
      });
      imported = progress.imported;
    });
    await store.close();
    if (imported !== count) throw new Error(`imported ${imported} of ${count} messages`);

    process.stdout.write('\n| phase | seconds | MB/s | msg/s | peak RSS +MB |\n|---|---|---|---|---|\n');
    for (const [name, phase] of [
      ['mallard import imap (Dovecot → sqlite)', run],
      ['reference: read from Dovecot only (imapflow)', read],
    ] as const) {
      process.stdout.write(
        `| ${name} | ${phase.seconds.toFixed(2)} | ${(bodyMb / phase.seconds).toFixed(1)} | ${(count / phase.seconds).toFixed(0)} | ${phase.peakRssMb.toFixed(0)} |\n`,
      );
    }
    process.stdout.write(
      `\nload after: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
  } finally {
    await dovecot.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
