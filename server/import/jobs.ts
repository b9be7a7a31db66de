/**
 * Import jobs run by the server for the admin API and the panel: one importFromImap per job, its
 * progress readable while it runs, cancellable, and re-run incrementally (the store remembers
 * each source folder's UIDVALIDITY and last UID, so a re-run fetches only what is new); or one
 * importFiles of an uploaded file (mbox, zip, tar), whose directory is removed when the job ends.
 *
 * The source password lives in this process's memory only, never in the store or on disk: it is
 * dropped when the job ends, unless the job was started with `keepPassword` (for the re-runs of a
 * switch-over weekend), and then it is kept until the job is removed or the server stops.
 */
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import type { Id, Store } from '../store/types.ts';
import { importFiles } from './files.ts';
import { importFromImap } from './imap-import.ts';
import { Progress, type Skipped } from './progress.ts';
import type { SourceAccount } from './source.ts';

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRequest {
  source: SourceAccount;
  folders?: string[];
  includeAllMail?: boolean;
  keepPassword?: boolean;
  /** Messages per second at most, so that the provider does not block the account. */
  maxRate?: number;
}

/** An uploaded file to import, alone in a directory of its own (removed when the job ends). */
export interface UploadedFile {
  file: string;
  dir: string;
  /** The name it was uploaded under. */
  name: string;
  bytes: number;
}

export interface JobView {
  id: string;
  userId: Id;
  kind: 'imap' | 'file';
  /** The IMAP source; null for a file. */
  source: { host: string; port: number; security: SourceAccount['security']; login: string } | null;
  /** The uploaded file; null for an IMAP source. */
  file: { name: string; bytes: number } | null;
  state: JobState;
  /** Whether a re-run can start without the password again. */
  passwordKept: boolean;
  startedAt: string;
  finishedAt: string | null;
  messages: { total: number; done: number; imported: number; duplicates: number };
  bytes: { total: number; done: number };
  /** Seconds left at the current rate; null while it cannot be told. */
  etaSeconds: number | null;
  skipped: Skipped[];
  error: string | null;
}

interface Job {
  id: string;
  userId: Id;
  request: JobRequest | UploadedFile;
  state: JobState;
  startedAt: Date;
  finishedAt: Date | null;
  progress: Progress;
  abort: AbortController;
  error: string | null;
  done: Promise<void>;
}

export class ImportJobs {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly store: Store,
    private readonly maxMessageSize: number,
  ) {}

  /** CONFLICT when the user has an import running (one at a time per user). */
  requireIdle(userId: Id): void {
    const running = [...this.jobs.values()].find((job) => job.userId === userId && job.state === 'running');
    if (running) throw new JobError('an import is already running for this user', 'conflict');
  }

  start(userId: Id, request: JobRequest | UploadedFile): JobView {
    this.requireIdle(userId);
    const job: Job = {
      id: crypto.randomUUID(),
      userId,
      request,
      state: 'running',
      startedAt: new Date(),
      finishedAt: null,
      progress: new Progress(() => {}),
      abort: new AbortController(),
      error: null,
      done: Promise.resolve(),
    };
    job.done = this.run(job);
    this.jobs.set(job.id, job);
    return view(job);
  }

  private async run(job: Job): Promise<void> {
    try {
      await this.work(job);
      job.state = 'done';
    } catch (error) {
      if (job.abort.signal.aborted) job.state = 'cancelled';
      else {
        job.state = 'failed';
        job.error = (error as Error).message;
      }
    }
    job.finishedAt = new Date();
    if ('file' in job.request) await fsp.rm(job.request.dir, { recursive: true, force: true });
    else if (!job.request.keepPassword)
      job.request = { ...job.request, source: { ...job.request.source, password: '' } };
  }

  private async work(job: Job): Promise<void> {
    if ('file' in job.request) {
      await importFiles(this.store, {
        userId: job.userId,
        source: job.request.file,
        maxMessageSize: this.maxMessageSize,
        print: () => {},
        spoolDir: job.request.dir,
        signal: job.abort.signal,
        progress: job.progress,
      });
      return;
    }
    await importFromImap(this.store, {
      source: job.request.source,
      userId: job.userId,
      folders: job.request.folders,
      includeAllMail: job.request.includeAllMail,
      rates: { messagesPerSecond: job.request.maxRate },
      maxMessageSize: this.maxMessageSize,
      print: () => {},
      signal: job.abort.signal,
      progress: job.progress,
    });
  }

  list(userId: Id): JobView[] {
    return [...this.jobs.values()]
      .filter((job) => job.userId === userId)
      .map(view)
      .reverse();
  }

  get(id: string): JobView | null {
    const job = this.jobs.get(id);
    return job ? view(job) : null;
  }

  /** Waits for a job to end (tests, shutdown). */
  async settled(id: string): Promise<void> {
    await this.jobs.get(id)?.done;
  }

  cancel(id: string): JobView {
    const job = this.require(id);
    if (job.state === 'running') job.abort.abort();
    return view(job);
  }

  /** The same source again: only what is new is fetched. The password comes again unless kept. */
  rerun(id: string, password?: string): JobView {
    const job = this.require(id);
    if (job.state === 'running') throw new JobError('this import is still running', 'conflict');
    if ('file' in job.request)
      throw new JobError('an uploaded file is imported once: upload it again to re-run', 'validation');
    const kept = job.request.source.password;
    const secret = password || kept;
    if (!secret) throw new JobError('the password was not kept: give it again to re-run', 'validation');
    return this.start(job.userId, { ...job.request, source: { ...job.request.source, password: secret } });
  }

  /** Forgets a finished job and its kept password. */
  remove(id: string): void {
    const job = this.require(id);
    if (job.state === 'running') throw new JobError('cancel the import first', 'conflict');
    this.jobs.delete(id);
  }

  async stop(): Promise<void> {
    for (const job of this.jobs.values()) if (job.state === 'running') job.abort.abort();
    await Promise.all([...this.jobs.values()].map((job) => job.done));
  }

  private require(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new JobError(`no such import ${id}`, 'not_found');
    return job;
  }
}

export class JobError extends Error {
  constructor(
    message: string,
    readonly kind: 'conflict' | 'not_found' | 'validation',
  ) {
    super(message);
    this.name = 'JobError';
  }
}

function view(job: Job): JobView {
  const p = job.progress;
  const seconds = ((job.finishedAt ?? new Date()).getTime() - job.startedAt.getTime()) / 1000;
  const rate = seconds > 0 ? p.doneBytes / seconds : 0;
  const { request } = job;
  const file = 'file' in request;
  return {
    id: job.id,
    userId: job.userId,
    kind: file ? 'file' : 'imap',
    source: file
      ? null
      : {
          host: request.source.host,
          port: request.source.port,
          security: request.source.security,
          login: request.source.login,
        },
    file: file ? { name: request.name, bytes: request.bytes } : null,
    state: job.state,
    passwordKept: !file && !!request.keepPassword,
    startedAt: job.startedAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
    messages: {
      total: p.totalMessages,
      done: p.doneMessages,
      imported: p.imported,
      duplicates: p.duplicates,
    },
    bytes: { total: p.totalBytes, done: p.doneBytes },
    etaSeconds:
      job.state !== 'running' ? 0 : rate > 0 ? Math.round((p.totalBytes - p.doneBytes) / rate) : null,
    skipped: [...p.skipped],
    error: job.error,
  };
}
