/**
 * `npm run bench -- backup [--mb N] [--size BYTES] [--encrypt]`: backup, verify and restore
 * throughput (MB/s of message bodies) and memory on a generated account of N MB (default 2048, the
 * issue's 2 GB) in the sqlite engine, beside the reference of a file-level backup of the same
 * messages as a Maildir (`tar -czf` and `tar -xzf`, what Maildir servers such as Dovecot are backed
 * up and restored with, e.g. duplicity). Memory is the peak RSS sampled during each phase, above
 * the RSS before it; tar's is its maximum RSS (GNU time).
 *
 * The restore runs twice: into a new sqlite store, and into the mongodb engine on the MongoDB
 * stand-in (its database in memory, not counted; keep --mb small, it has a heap of 256 MB), where the
 * database commands per message are counted too (the driver's command monitoring): the stand-in's
 * speed says little about MongoDB's, the number of commands does.
 *
 * The account is made of a pool of distinct generated messages, each copy given a header of its
 * own (every body is different, nothing is stored once for two): memory holds the pool, not the
 * account, whatever its size.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../server/config/load.ts';
import { restoreBackup } from '../server/backup/restore.ts';
import { runBackup } from '../server/backup/run.ts';
import { verifyBackup } from '../server/backup/verify.ts';
import { MongoStore } from '../server/store/mongodb/store.ts';
import { SqliteStore } from '../server/store/sqlite/store.ts';
import { freshDatabaseUri, startMongoStandIn } from '../test/helpers/mongo.ts';
import { makeCorpus } from './lib/messages.ts';

/** Distinct messages generated; the account repeats them, each copy with its own header. */
const POOL = 2000;
/** Messages stored (and Maildir files written) per appendMany while filling the account. */
const FILL_BATCH = 200;

/** Message `index` of the account: a pooled message behind a header only it has. */
function accountMessage(pool: Buffer[], index: number): Buffer {
  return Buffer.concat([Buffer.from(`X-Bench-Copy: ${index}\r\n`), pool[index % pool.length]!]);
}

interface Phase {
  name: string;
  seconds: number;
  mbPerSecond: number;
  peakRssMb: number;
  /** Of which anonymous memory (the process's own, not the mapped database file). */
  peakAnonMb: number;
  note: string;
}

const MB = 1024 * 1024;

/**
 * The process's anonymous resident memory (heap, buffers) in bytes: RSS also counts the pages of
 * the database file sqlite reads through its memory map (up to 1 GiB, file-backed and given back
 * under pressure), which grow with what was read, not with what is held.
 */
function anonymousRss(): number {
  const line = /^RssAnon:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return line ? Number(line[1]) * 1024 : 0;
}

/** Runs `work`, sampling RSS every 20 ms; the peaks above the starting RSS (all, and anonymous). */
async function measure(
  work: () => Promise<void>,
): Promise<{ seconds: number; peakRssMb: number; peakAnonMb: number }> {
  const base = process.memoryUsage().rss;
  const anonBase = anonymousRss();
  let peak = base;
  let anonPeak = anonBase;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
    anonPeak = Math.max(anonPeak, anonymousRss());
  };
  const sampler = setInterval(sample, 20);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  sample();
  return {
    seconds: (performance.now() - started) / 1000,
    peakRssMb: (peak - base) / MB,
    peakAnonMb: (anonPeak - anonBase) / MB,
  };
}

/** Runs a command under GNU time; its maximum RSS in MB. */
function timed(command: string[]): number {
  const result = spawnSync('/usr/bin/time', ['-f', '%M', ...command], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return Number(result.stderr.trim().split('\n').at(-1)) / 1024;
}

export async function runBackupBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      mb: { type: 'string', default: '2048' },
      size: { type: 'string', default: '20000' },
      encrypt: { type: 'boolean' },
    },
  });
  const size = Number(values.size);
  const count = Math.max(1, Math.round((Number(values.mb) * MB) / size));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-bench-backup-'));
  const passphrase = values.encrypt ? 'bench passphrase' : null;
  const phases: Phase[] = [];
  try {
    const pool = makeCorpus({ count: Math.min(count, POOL), size }).messages;
    const source = await SqliteStore.open(path.join(work, 'source'));
    const user = await source.createUser({ username: 'bench@example.com', passwordHash: '$argon2id$x' });
    const inbox = (await source.getMailbox(user.id, 'INBOX'))!;
    const archive = await source.createMailbox(user.id, 'Archive/2025');
    // The same messages as a Maildir too, for the reference.
    const maildir = path.join(work, 'Maildir', 'cur');
    fs.mkdirSync(maildir, { recursive: true });
    let totalBytes = 0;
    for (let start = 0; start < count; start += FILL_BATCH) {
      const batch = { inbox: [] as Buffer[], archive: [] as Buffer[] };
      for (let index = start; index < Math.min(count, start + FILL_BATCH); index++) {
        const raw = accountMessage(pool, index);
        totalBytes += raw.length;
        (index % 4 === 0 ? batch.archive : batch.inbox).push(raw);
        fs.writeFileSync(path.join(maildir, `${index}.bench:2,${index % 3 ? 'S' : ''}`), raw);
      }
      for (const [box, raws] of [
        [inbox, batch.inbox],
        [archive, batch.archive],
      ] as const) {
        const items = raws.map((raw, i) => ({ raw, options: { flags: (start + i) % 3 ? ['\\Seen'] : [] } }));
        if (items.length > 0) await source.appendMany(box.id, items);
      }
    }
    const bodyMb = totalBytes / MB;
    process.stdout.write(
      `account: ${count} messages, ${bodyMb.toFixed(1)} MB; load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    const config = loadConfig({
      env: {
        MALLARD_DATA_DIR: path.join(work, 'source'),
        MALLARD_BACKUP_DESTINATION: path.join(work, 'backups'),
      },
    });

    let file = '';
    const backup = await measure(async () => {
      const result = await runBackup(source, config, { passphrase });
      if (!result.ok) throw new Error(result.error ?? 'backup failed');
      file = result.file!;
    });
    const fileMb = fs.statSync(file).size / MB;
    phases.push({
      name: 'mallard backup now',
      ...backup,
      mbPerSecond: bodyMb / backup.seconds,
      note: `file ${fileMb.toFixed(1)} MB${passphrase ? ', age-encrypted' : ''}`,
    });
    await source.close();

    const verify = await measure(async () => {
      const report = await verifyBackup(file, passphrase);
      if (!report.ok) throw new Error(report.problems.join('; '));
    });
    phases.push({
      name: 'mallard backup verify',
      ...verify,
      mbPerSecond: bodyMb / verify.seconds,
      note: 'every body hash',
    });

    const target = await SqliteStore.open(path.join(work, 'target'));
    const restore = await measure(async () => {
      const report = await restoreBackup(file, target, { passphrase });
      if (report.messages !== count) throw new Error(`restored ${report.messages} of ${count} messages`);
    });
    phases.push({
      name: 'mallard backup restore',
      ...restore,
      mbPerSecond: bodyMb / restore.seconds,
      note: 'verify pass + import',
    });
    await target.close();

    const standIn = await startMongoStandIn();
    try {
      const mongo = await MongoStore.open(freshDatabaseUri(standIn.uri));
      let commands = 0;
      const stop = mongo.onCommandReply(() => void commands++);
      const restored = await measure(async () => {
        const report = await restoreBackup(file, mongo, { passphrase });
        if (report.messages !== count) throw new Error(`restored ${report.messages} of ${count} messages`);
      });
      stop();
      await mongo.close();
      phases.push({
        name: 'mallard backup restore (mongodb)',
        ...restored,
        mbPerSecond: bodyMb / restored.seconds,
        note: `verify pass + import; ${(commands / count).toFixed(2)} database commands per message`,
      });
    } catch (error) {
      // The stand-in holds its data in a heap of 256 MB: a large account can be too much for it.
      const reason = (error as Error).message;
      phases.push({
        name: 'mallard backup restore (mongodb)',
        seconds: Number.NaN,
        mbPerSecond: Number.NaN,
        peakRssMb: Number.NaN,
        peakAnonMb: Number.NaN,
        note: `failed on the stand-in: ${reason}`,
      });
    } finally {
      await standIn.stop();
    }

    // The reference: the same messages as a Maildir, archived and unpacked as a file-level backup would.
    const tarFile = path.join(work, 'maildir.tar.gz');
    let tarRss = 0;
    const tar = await measure(async () => {
      tarRss = timed(['tar', '-czf', tarFile, '-C', work, 'Maildir']);
    });
    phases.push({
      name: 'reference: tar -czf Maildir',
      ...tar,
      peakRssMb: tarRss,
      peakAnonMb: Number.NaN,
      mbPerSecond: bodyMb / tar.seconds,
      note: `file ${(fs.statSync(tarFile).size / MB).toFixed(1)} MB`,
    });
    const unpacked = path.join(work, 'unpacked');
    fs.mkdirSync(unpacked);
    const untar = await measure(async () => {
      tarRss = timed(['tar', '-xzf', tarFile, '-C', unpacked]);
      // As durable as the restore's commits: the files reach the disk.
      spawnSync('sync', ['-f', unpacked]);
    });
    phases.push({
      name: 'reference: tar -xzf + sync',
      ...untar,
      peakRssMb: tarRss,
      peakAnonMb: Number.NaN,
      mbPerSecond: bodyMb / untar.seconds,
      note: 'restore of the Maildir archive',
    });

    process.stdout.write(
      '\n| phase | seconds | MB/s | peak RSS +MB | of which anonymous | note |\n|---|---|---|---|---|---|\n',
    );
    for (const p of phases) {
      const anon = Number.isNaN(p.peakAnonMb) ? '-' : p.peakAnonMb.toFixed(0);
      process.stdout.write(
        `| ${p.name} | ${p.seconds.toFixed(2)} | ${p.mbPerSecond.toFixed(1)} | ${p.peakRssMb.toFixed(0)} | ${anon} | ${p.note} |\n`,
      );
    }
    process.stdout.write(
      `\nload after: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
