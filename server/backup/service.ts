/**
 * The daily backup in a running server: once `backup.destination` is set, a backup at
 * `backup.hour` (local time) every day, and "Back up now" from the admin API. Every server process
 * may run the service; the store lease in runBackup makes one run at a time across all of them
 * (several `mallard serve` on one MongoDB), and the loser of a race simply skips that day's run.
 * The result of the last run is kept beside the backups (run.ts), so every process and the CLI
 * read the same.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { Store } from '../store/types.ts';
import path from 'node:path';
import { listBackups } from './files.ts';
import { restoreBackup, RestoreCancelled, type RestoreReport } from './restore.ts';
import { BackupBusy, lastResult, readPassphrase, runBackup, type BackupRunResult } from './run.ts';

export interface BackupStatus {
  /** False while no destination is set: nothing is scheduled. */
  configured: boolean;
  destination: string;
  encrypted: boolean;
  running: boolean;
  nextRunAt: string | null;
  last: BackupRunResult | null;
  /** The last successful run (from the backups on disk when the last run failed). */
  lastSuccessAt: string | null;
  backups: Array<{ name: string; bytes: number; createdAt: string | null; encrypted: boolean }>;
  /** The last restore started here (the panel's "Restore…"), running or done; null: none yet. */
  restore: RestoreStatus | null;
}

/** A restore of one user, or one of their mailboxes, into this running server. */
export interface RestoreStatus {
  backup: string;
  user: string;
  mailbox: string | null;
  /** cancelling: asked to stop (it stops after the batch in flight); cancelled: stopped so. */
  phase: 'verifying' | 'restoring' | 'cancelling' | 'done' | 'cancelled' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  /** Messages restored or found already there so far, and their bytes. */
  messages: number;
  bytes: number;
  /** What was restored, per mailbox (UIDs kept or new), once done. */
  report: RestoreReport | null;
  error: string | null;
}

export class BackupServiceError extends Error {
  constructor(
    readonly code: 'busy' | 'not_configured' | 'not_found' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'BackupServiceError';
  }
}

/** The next moment at `hour`:00 local time after `now`. */
export function nextRunAfter(now: Date, hour: number): Date {
  const next = new Date(now.getFullYear(), now.getMonth(), now.getDate(), hour, 0, 0, 0);
  if (next.getTime() <= now.getTime()) next.setDate(next.getDate() + 1);
  return next;
}

export class BackupService {
  private timer: NodeJS.Timeout | null = null;
  private nextRun: Date | null = null;
  private running: Promise<BackupRunResult> | null = null;
  /** This process's last run: the record on the destination is gone with an unplugged disk. */
  private lastHere: BackupRunResult | null = null;
  /** Stopping the server interrupts a run (its partial file is removed; the last backup stays). */
  private readonly abort = new AbortController();

  constructor(
    private readonly deps: {
      config: Config;
      store: Store;
      logger: Logger;
      onChange?: (status: BackupStatus) => void;
    },
  ) {}

  start(): void {
    if (!this.deps.config.backup.destination) return;
    this.schedule();
  }

  /** Stops the schedule and interrupts a run, resolving once it has ended (before the store closes). */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextRun = null;
    await this.running?.catch(() => {});
    await this.restoreRun;
  }

  private schedule(): void {
    this.nextRun = nextRunAfter(new Date(), this.deps.config.backup.hour);
    // Timers fire late after a suspend; a long wait is taken in steps so the hour is kept.
    const wait = Math.min(this.nextRun.getTime() - Date.now(), 60 * 60 * 1000);
    this.timer = setTimeout(() => {
      if (this.nextRun && Date.now() >= this.nextRun.getTime()) void this.run().catch(() => {});
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  /** Starts a run now; BackupServiceError busy when one runs here, not_configured without a destination. */
  async runNow(): Promise<BackupStatus> {
    if (!this.deps.config.backup.destination) {
      throw new BackupServiceError(
        'not_configured',
        'no backup destination: set backup.destination (a folder) first',
      );
    }
    if (this.running) throw new BackupServiceError('busy', 'a backup is running');
    void this.run().catch(() => {});
    return this.status();
  }

  private restoring: RestoreStatus | null = null;
  private restoreRun: Promise<void> | null = null;
  private restoreAbort: AbortController | null = null;

  /**
   * Cancels the running restore: it stops after the batch of messages in flight (what is in stays;
   * restoring the same user again adds the rest). `not_found` when no restore runs.
   */
  cancelRestore(): BackupStatus {
    const status = this.restoring;
    if (!this.restoreRun || !this.restoreAbort || !status) {
      throw new BackupServiceError('not_found', 'no restore is running');
    }
    this.restoreAbort.abort();
    status.phase = 'cancelling';
    this.deps.onChange?.(this.status());
    return this.status();
  }

  /**
   * Starts restoring one user, or one of their mailboxes, from backup `name` (a file of the
   * destination) into this server, and answers at once; status().restore follows it. The whole
   * server goes only into a new data directory: that stays `mallard backup restore FILE`.
   */
  async restoreNow(name: string, user: string, mailbox: string | null): Promise<BackupStatus> {
    const { destination } = this.deps.config.backup;
    if (!destination) throw new BackupServiceError('not_configured', 'no backup destination is set');
    const backup = listBackups(destination).find((b) => b.name === name && b.header !== null);
    if (!backup) throw new BackupServiceError('not_found', `no backup ${name} in ${destination}`);
    if (!/^[^\s@]+@[^\s@]+$/.test(user))
      throw new BackupServiceError('invalid', 'the user is an email address');
    if (mailbox === '') throw new BackupServiceError('invalid', 'the mailbox name is empty');
    if (this.restoreRun) throw new BackupServiceError('busy', 'a restore is running');
    const status: RestoreStatus = {
      backup: name,
      user,
      mailbox,
      phase: 'verifying',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      messages: 0,
      bytes: 0,
      report: null,
      error: null,
    };
    this.restoring = status;
    this.restoreAbort = new AbortController();
    this.restoreRun = this.restore(path.join(destination, backup.name), status).finally(() => {
      this.restoreRun = null;
      this.deps.onChange?.(this.status());
    });
    this.deps.onChange?.(this.status());
    return this.status();
  }

  private async restore(file: string, status: RestoreStatus): Promise<void> {
    const { store, config, logger } = this.deps;
    try {
      status.report = await restoreBackup(file, store, {
        user: status.user,
        mailbox: status.mailbox ?? undefined,
        passphrase: readPassphrase(config),
        signal: this.restoreAbort!.signal,
        onProgress: (progress) => {
          Object.assign(status, progress);
          if (this.restoreAbort?.signal.aborted) status.phase = 'cancelling';
        },
      });
      status.phase = 'done';
      logger.info(
        {
          backup: status.backup,
          user: status.user,
          mailbox: status.mailbox,
          messages: status.report.messages,
        },
        'restored from a backup',
      );
    } catch (error) {
      if (error instanceof RestoreCancelled) {
        status.phase = 'cancelled';
        status.report = error.report;
        status.error = error.message;
        logger.info(
          { backup: status.backup, user: status.user, messages: error.report.messages },
          'restore cancelled',
        );
        return;
      }
      status.phase = 'failed';
      status.error = (error as Error).message;
      logger.error({ backup: status.backup, user: status.user, err: error }, 'restore failed');
    } finally {
      status.finishedAt = new Date().toISOString();
      this.restoreAbort = null;
    }
  }

  /** Resolves with the run's result; a run going on elsewhere (the lease) counts as skipped. */
  run(): Promise<BackupRunResult> {
    if (this.running) return this.running;
    const { store, config, logger } = this.deps;
    this.running = (async () => {
      try {
        const result = await runBackup(store, config, { signal: this.abort.signal });
        this.lastHere = result;
        if (result.ok)
          logger.info({ file: result.file, bytes: result.bytes, messages: result.messages }, 'backup made');
        else logger.error({ error: result.error }, 'backup failed');
        return result;
      } catch (error) {
        if (error instanceof BackupBusy) logger.info('backup skipped: another process is making one');
        else logger.error({ err: error }, 'backup failed');
        throw error;
      } finally {
        this.running = null;
        this.deps.onChange?.(this.status());
      }
    })();
    this.deps.onChange?.(this.status());
    return this.running;
  }

  status(): BackupStatus {
    const { destination, passphrase_file: passphraseFile } = this.deps.config.backup;
    const backups = destination ? listBackups(destination) : [];
    const recorded = destination ? lastResult(destination) : null;
    const last =
      this.lastHere && (!recorded || recorded.finishedAt < this.lastHere.finishedAt)
        ? this.lastHere
        : recorded;
    const newest = backups.find((b) => b.header !== null);
    return {
      configured: destination !== '',
      destination,
      encrypted: passphraseFile !== '',
      running: this.running !== null,
      nextRunAt: this.nextRun?.toISOString() ?? null,
      last,
      lastSuccessAt: last?.ok ? last.finishedAt : (newest?.header?.createdAt ?? null),
      backups: backups.map((b) => ({
        name: b.name,
        bytes: b.bytes,
        createdAt: b.header?.createdAt ?? null,
        encrypted: b.header?.encrypted ?? false,
      })),
      restore: this.restoring ? { ...this.restoring } : null,
    };
  }
}
