/**
 * `npm run bench -- backup [--mb N] [--size BYTES] [--encrypt]`: backup, verify and restore
 * throughput (MB/s of message bodies) and memory on a generated account of N MB (default 50) in
 * the sqlite engine, beside the reference of a file-level backup of the same messages as a
 * Maildir (`tar -czf`, what Maildir servers such as Dovecot are backed up with, e.g. duplicity).
 * Memory is the peak RSS sampled during each phase, above the RSS before it.
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
import { SqliteStore } from '../server/store/sqlite/store.ts';
import { makeCorpus } from './lib/messages.ts';

interface Phase {
  name: string;
  seconds: number;
  mbPerSecond: number;
  peakRssMb: number;
  note: string;
}

const MB = 1024 * 1024;

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

export async function runBackupBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      mb: { type: 'string', default: '50' },
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
    const corpus = makeCorpus({ count, size });
    const bodyMb = corpus.totalBytes / MB;
    process.stdout.write(
      `account: ${count} messages, ${bodyMb.toFixed(1)} MB; load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );

    const source = await SqliteStore.open(path.join(work, 'source'));
    const user = await source.createUser({ username: 'bench@example.com', passwordHash: '$argon2id$x' });
    const inbox = (await source.getMailbox(user.id, 'INBOX'))!;
    const archive = await source.createMailbox(user.id, 'Archive/2025');
    for (const [index, raw] of corpus.messages.entries()) {
      await source.append(index % 4 === 0 ? archive.id : inbox.id, raw, {
        flags: index % 3 ? ['\\Seen'] : [],
      });
    }
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
      await restoreBackup(file, target, { passphrase });
    });
    phases.push({
      name: 'mallard backup restore',
      ...restore,
      mbPerSecond: bodyMb / restore.seconds,
      note: 'verify pass + import',
    });
    await target.close();

    // The reference: the same messages as a Maildir, archived as a file-level backup would.
    const maildir = path.join(work, 'Maildir', 'cur');
    fs.mkdirSync(maildir, { recursive: true });
    corpus.messages.forEach((raw, index) => fs.writeFileSync(path.join(maildir, `${index}.bench:2,S`), raw));
    const tarFile = path.join(work, 'maildir.tar.gz');
    const tar = await measure(async () => {
      const result = spawnSync('tar', ['-czf', tarFile, '-C', work, 'Maildir']);
      if (result.status !== 0) throw new Error(result.stderr.toString());
    });
    phases.push({
      name: 'reference: tar -czf Maildir',
      ...tar,
      peakRssMb: 0,
      mbPerSecond: bodyMb / tar.seconds,
      note: `file ${(fs.statSync(tarFile).size / MB).toFixed(1)} MB (memory of tar not sampled)`,
    });

    process.stdout.write('\n| phase | seconds | MB/s | peak RSS +MB | note |\n|---|---|---|---|---|\n');
    for (const p of phases) {
      process.stdout.write(
        `| ${p.name} | ${p.seconds.toFixed(2)} | ${p.mbPerSecond.toFixed(1)} | ${p.peakRssMb.toFixed(0)} | ${p.note} |\n`,
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
