/**
 * One backup run, as `mallard backup now` and the server's daily schedule make it: under the
 * store lease `backup` (one run at a time across every process sharing the store), snapshot →
 * file (atomic) → prune by retention → record the result next to the backups (`last-run.json`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Store } from '../store/types.ts';
import { FORMAT_VERSION, type BackupHeader } from './format.ts';
import { listBackups, removePartials, writeBackupFile } from './files.ts';
import { backupsToKeep } from './retention.ts';
import { snapshotStore, type SnapshotOptions } from './snapshot.ts';

export const BACKUP_LEASE = 'backup';
/** Renewed while the run goes on; a run that died gives way after this long. */
const LEASE_MS = 30_000;
const STATUS_FILE = 'last-run.json';

export interface BackupRunResult {
  ok: boolean;
  startedAt: string;
  finishedAt: string;
  file: string | null;
  bytes: number;
  messages: number;
  pruned: string[];
  error: string | null;
}

export class BackupBusy extends Error {
  constructor() {
    super('another backup is running (the backup lease is held)');
    this.name = 'BackupBusy';
  }
}

/** The passphrase from `backup.passphrase_file` (or an explicit file); null: not encrypted. */
export function readPassphrase(config: Config, file?: string): string | null {
  const where = file ?? config.backup.passphrase_file;
  if (!where) return null;
  const passphrase = fs.readFileSync(where, 'utf8').replace(/\r?\n$/, '');
  if (passphrase === '') throw new Error(`the passphrase file ${where} is empty`);
  return passphrase;
}

export async function runBackup(
  store: Store,
  config: Config,
  options: { destination?: string; passphrase?: string | null; holder?: string } & Pick<
    SnapshotOptions,
    'onProgress' | 'signal'
  > = {},
): Promise<BackupRunResult> {
  const destination = options.destination ?? config.backup.destination;
  if (!destination) throw new Error('no backup destination: set backup.destination (a folder)');
  const holder = options.holder ?? `${os.hostname()}:${process.pid}`;
  if (!(await store.acquireLease(BACKUP_LEASE, holder, LEASE_MS))) throw new BackupBusy();
  const renew = setInterval(
    () => void store.acquireLease(BACKUP_LEASE, holder, LEASE_MS).catch(() => {}),
    LEASE_MS / 3,
  );
  const startedAt = new Date();
  const result: BackupRunResult = {
    ok: false,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    file: null,
    bytes: 0,
    messages: 0,
    pruned: [],
    error: null,
  };
  try {
    removePartials(destination);
    const passphrase = options.passphrase === undefined ? readPassphrase(config) : options.passphrase;
    const header: BackupHeader = {
      format: 'mallard-backup',
      version: FORMAT_VERSION,
      createdAt: startedAt.toISOString(),
      engine: store.engine,
      hostname: config.hostname,
      encrypted: passphrase !== null,
      compression: 'gzip',
    };
    let messages = 0;
    const written = await writeBackupFile(
      destination,
      header,
      snapshotStore(store, {
        signal: options.signal,
        onProgress: options.onProgress,
        onManifest: (manifest) => (messages = manifest.messages),
        sieveBefore: readSieveBefore(config),
      }),
      passphrase,
    );
    Object.assign(result, { ok: true, file: written.file, bytes: written.bytes, messages });
    result.pruned = prune(destination, config);
  } catch (error) {
    result.error = (error as Error).message;
  } finally {
    clearInterval(renew);
    await store.releaseLease(BACKUP_LEASE, holder).catch(() => {});
    result.finishedAt = new Date().toISOString();
    recordResult(destination, result);
  }
  return result;
}

/**
 * The administrator's Sieve script, when one is configured and readable. One that cannot be read
 * is not used by delivery either (adminScripts): the backup goes on without it.
 */
function readSieveBefore(config: Config): { path: string; content: string } | null {
  const file = config.inbound.sieve_before;
  if (!file) return null;
  try {
    return { path: file, content: fs.readFileSync(file, 'utf8') };
  } catch {
    return null;
  }
}

/** Removes the backups retention does not keep; returns their names. */
function prune(destination: string, config: Config): string[] {
  const backups = listBackups(destination)
    .filter((b) => b.header !== null)
    .map((b) => ({ ...b, createdAt: new Date(b.header!.createdAt) }));
  const keep = backupsToKeep(backups, {
    daily: config.backup.keep_daily,
    weekly: config.backup.keep_weekly,
    monthly: config.backup.keep_monthly,
  });
  const pruned: string[] = [];
  for (const backup of backups) {
    if (keep.has(backup)) continue;
    fs.rmSync(backup.file, { force: true });
    pruned.push(backup.name);
  }
  return pruned;
}

function recordResult(destination: string, result: BackupRunResult): void {
  try {
    fs.mkdirSync(destination, { recursive: true });
    const file = path.join(destination, STATUS_FILE);
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
    fs.renameSync(`${file}.tmp`, file);
  } catch {
    // The destination is gone (an unplugged disk): the result is still returned to the caller.
  }
}

/** The last run's result, or null when none was recorded. */
export function lastResult(destination: string): BackupRunResult | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(destination, STATUS_FILE), 'utf8')) as BackupRunResult;
  } catch {
    return null;
  }
}
