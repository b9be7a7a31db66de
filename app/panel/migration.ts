/**
 * Moving the mail to MongoDB from the panel: the same `mallard db migrate` a person would run,
 * supervised here so the panel can show its progress.
 *
 * The server is stopped while the store is copied, so nothing changes under the copy (a home or
 * office server is down for the minutes it takes). When the copy is verified the configuration is
 * switched to the MongoDB engine and the server started on it; when anything fails the
 * configuration is left alone and the server started again on the embedded store, where all the
 * mail still is. A failed or interrupted migration can simply be started again: it resumes.
 */
import { spawn } from 'node:child_process';
import type { Config } from '../../server/config/schema.ts';
import type { ServerSupervisor } from '../supervisor/supervisor.ts';

export type MigrationState = 'idle' | 'running' | 'succeeded' | 'failed';

export interface MigrationStatus {
  state: MigrationState;
  /** The target, without its password. */
  target: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  messagesDone: number;
  messagesTotal: number;
  /** The last lines `mallard db migrate` printed (progress, verification, summary). */
  lines: string[];
  error: string | null;
}

export interface MigrationDeps {
  /** How the server is run (`… bin/mallard.mjs serve [--config F]`): `serve` becomes `db migrate`. */
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  config: Config;
  supervisor: ServerSupervisor | null;
  /** Switches the configuration to the migrated store (writes the config file). */
  switchToMongo(uri: string): void;
}

const KEPT_LINES = 200;
const MONGODB_URI = /^mongodb(\+srv)?:\/\/[^/?\s]+/;

export function redactUri(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

/** "progress\t12/1000 messages\t…" → [12, 1000]. */
export function parseProgress(line: string): [number, number] | null {
  const match = /^progress\t(\d+)\/(\d+) messages/.exec(line);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

export class MigrationJob {
  private status: MigrationStatus = {
    state: 'idle',
    target: null,
    startedAt: null,
    finishedAt: null,
    messagesDone: 0,
    messagesTotal: 0,
    lines: [],
    error: null,
  };

  constructor(private readonly deps: MigrationDeps) {}

  current(): MigrationStatus {
    return { ...this.status, lines: [...this.status.lines] };
  }

  /** Checks the request and starts the job; the returned status is 'running'. */
  start(uri: unknown): MigrationStatus {
    if (this.status.state === 'running') throw new MigrationRefused(409, 'a migration is already running');
    if (typeof uri !== 'string' || !MONGODB_URI.test(uri))
      throw new MigrationRefused(
        400,
        'uri: a mongodb:// or mongodb+srv:// URI, e.g. mongodb://db.local/mallard',
      );
    if (this.deps.config.store.engine !== 'sqlite' || this.status.state === 'succeeded')
      throw new MigrationRefused(409, 'the server already uses MongoDB: there is nothing to move');
    this.status = {
      state: 'running',
      target: redactUri(uri),
      startedAt: new Date().toISOString(),
      finishedAt: null,
      messagesDone: 0,
      messagesTotal: 0,
      lines: [],
      error: null,
    };
    this.run(uri).catch((error: unknown) => this.finish('failed', (error as Error).message));
    return this.current();
  }

  private async run(uri: string): Promise<void> {
    const supervisor = this.deps.supervisor;
    this.note(`stopping the mail server while the store is copied`);
    await supervisor?.stop();
    const code = await this.migrate(uri);
    if (code !== 0) {
      supervisor?.start();
      return this.finish('failed', failureMessage(code, this.status.lines));
    }
    try {
      this.deps.switchToMongo(uri);
    } catch (error) {
      supervisor?.start();
      return this.finish(
        'failed',
        `the copy is complete, but the configuration could not be changed: ${(error as Error).message}`,
      );
    }
    this.note('configuration switched to MongoDB; starting the mail server on it');
    supervisor?.start();
    this.finish('succeeded', null);
  }

  private migrate(uri: string): Promise<number> {
    return new Promise((resolve) => {
      const child = spawn(this.deps.command, migrateArgs(this.deps.args, uri), {
        env: this.deps.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const read = (stream: NodeJS.ReadableStream) => {
        let partial = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          const parts = (partial + chunk).split('\n');
          partial = parts.pop() ?? '';
          for (const line of parts) if (line !== '') this.line(line);
        });
        stream.on('end', () => partial !== '' && this.line(partial));
      };
      read(child.stdout);
      read(child.stderr);
      child.on('error', (error) => {
        this.note(`cannot run the migration: ${error.message}`);
        resolve(-1);
      });
      child.on('close', (code) => resolve(code ?? -1));
    });
  }

  private line(text: string): void {
    const progress = parseProgress(text);
    if (progress) [this.status.messagesDone, this.status.messagesTotal] = progress;
    this.status.lines.push(text);
    if (this.status.lines.length > KEPT_LINES)
      this.status.lines.splice(0, this.status.lines.length - KEPT_LINES);
  }

  private note(text: string): void {
    this.line(`panel\t${text}`);
  }

  private finish(state: 'succeeded' | 'failed', error: string | null): void {
    if (state === 'succeeded') this.status.messagesDone = this.status.messagesTotal;
    this.status = { ...this.status, state, error, finishedAt: new Date().toISOString() };
  }
}

/** The server's command line with `serve` replaced by `db migrate --to URI`. */
export function migrateArgs(serveArgs: readonly string[], uri: string): string[] {
  const at = serveArgs.indexOf('serve');
  if (at < 0) throw new Error('the server command has no `serve` to replace');
  return [...serveArgs.slice(0, at), 'db', 'migrate', '--to', uri, ...serveArgs.slice(at + 1)];
}

/** The migration's own last error line when it printed one, else what its exit code means. */
function failureMessage(code: number, lines: readonly string[]): string {
  const last = [...lines].reverse().find((line) => line.startsWith('mallard: '));
  const reason = last ? last.slice('mallard: '.length) : `mallard db migrate exited with code ${code}`;
  return `${reason}. Nothing was changed: the server runs on the embedded store again; start the migration again to resume.`;
}

export class MigrationRefused extends Error {
  constructor(
    readonly status: 400 | 409,
    message: string,
  ) {
    super(message);
  }
}
