/**
 * Runs the mail server as a child process and keeps it running: 'starting' until `isReady` says
 * the admin API answers, 'running' after, and when it dies, 'backoff' for a growing delay
 * (initialMs × factor^n, at most maxMs; back to initialMs once a run lasted resetAfterMs) before
 * it is started again. stop() sends SIGTERM — `mallard serve` then says BYE to its sessions and
 * closes the store — and SIGKILL only when the process has not exited after stopTimeoutMs.
 *
 * Plain Node, no Electron: the Electron main process and `mallard panel` share it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { LineSplitter, LogRing } from './log-ring.ts';
import type {
  BackoffOptions,
  LogLine,
  ServerState,
  SupervisorEvents,
  SupervisorOptions,
  SupervisorStatus,
} from './types.ts';

export type { LogLine, ServerState, SupervisorOptions, SupervisorStatus } from './types.ts';

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 1000,
  maxMs: 30_000,
  factor: 2,
  resetAfterMs: 60_000,
};

const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const DEFAULT_LOG_LINES = 500;
const DEFAULT_READY_POLL_MS = 250;

export class ServerSupervisor extends EventEmitter<SupervisorEvents> {
  private readonly options: SupervisorOptions;
  private readonly backoff: BackoffOptions;
  private readonly ring: LogRing;
  private state: ServerState = 'stopped';
  private child: ChildProcess | null = null;
  private startedAt: Date | null = null;
  private runningSince: Date | null = null;
  private restarts = 0;
  /** Crashes in a row since the last run that lasted resetAfterMs: the backoff exponent. */
  private failures = 0;
  private lastExit: SupervisorStatus['lastExit'] = null;
  private nextRestartAt: Date | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private readyTimer: NodeJS.Timeout | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private exited: Promise<void> | null = null;
  /** The user asked for the server to run; false after stop(). */
  private wanted = false;
  private readonly onParentExit = () => this.child?.kill('SIGKILL');

  constructor(options: SupervisorOptions) {
    super();
    this.options = options;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.ring = new LogRing(options.logLines ?? DEFAULT_LOG_LINES);
  }

  status(): SupervisorStatus {
    return {
      state: this.state,
      pid: this.child?.pid ?? null,
      startedAt: this.startedAt?.toISOString() ?? null,
      restarts: this.restarts,
      lastExit: this.lastExit,
      nextRestartAt: this.nextRestartAt?.toISOString() ?? null,
    };
  }

  logs(afterSeq?: number): LogLine[] {
    return this.ring.after(afterSeq);
  }

  /** Starts the server; in backoff it starts at once instead of waiting. A no-op when it runs. */
  start(): void {
    this.wanted = true;
    if (this.state === 'backoff') {
      this.clearRestartTimer();
      this.failures = 0;
      this.spawnChild();
    } else if (this.state === 'stopped') {
      this.failures = 0;
      this.spawnChild();
    }
    // starting / running: nothing to do; stopping: the exit handler sees `wanted` and starts again.
  }

  /** Stops the server (SIGTERM, then SIGKILL after stopTimeoutMs) and resolves once it exited. */
  async stop(): Promise<void> {
    this.wanted = false;
    this.clearRestartTimer();
    const child = this.child;
    if (!child) {
      if (this.state !== 'stopped') this.setState('stopped');
      return;
    }
    if (this.state !== 'stopping') {
      this.note(`stopping the server (pid ${child.pid}): SIGTERM`);
      this.setState('stopping');
      child.kill('SIGTERM');
      const timeout = this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
      this.killTimer = setTimeout(() => {
        this.note(`the server did not exit within ${timeout} ms: SIGKILL`);
        child.kill('SIGKILL');
      }, timeout);
    }
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  // --- internals ---

  private spawnChild(): void {
    const { command, args, env, cwd } = this.options;
    this.note(`starting: ${[command, ...args].join(' ')}`);
    this.nextRestartAt = null;
    let child: ChildProcess;
    try {
      child = spawn(command, args, { env: env ?? process.env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      this.note(`cannot start the server: ${(error as Error).message}`);
      this.afterExit(null, null);
      return;
    }
    this.child = child;
    this.startedAt = new Date();
    this.runningSince = null;
    process.on('exit', this.onParentExit);
    const out = new LineSplitter((text) => this.push('stdout', text));
    const err = new LineSplitter((text) => this.push('stderr', text));
    child.stdout?.on('data', (chunk: Buffer) => out.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.write(chunk));
    this.exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        out.flush();
        err.flush();
        this.afterExit(code, signal);
        resolve();
      };
      // 'close' comes after the pipes are drained, so the last lines are in the log.
      child.once('close', finish);
      child.once('error', (error) => {
        this.note(`cannot start the server: ${error.message}`);
        // A spawn failure (ENOENT) gets no 'close' when nothing was started.
        if (child.pid === undefined) finish(null, null);
      });
    });
    this.setState('starting');
    this.pollReady(child);
  }

  private pollReady(child: ChildProcess): void {
    const isReady = this.options.isReady;
    if (!isReady) {
      child.once('spawn', () => this.becameReady(child));
      return;
    }
    const poll = async () => {
      this.readyTimer = null;
      if (this.child !== child || this.state !== 'starting') return;
      let ready = false;
      try {
        ready = await isReady();
      } catch {
        ready = false;
      }
      if (this.child !== child || this.state !== 'starting') return;
      if (ready) this.becameReady(child);
      else this.readyTimer = setTimeout(() => void poll(), this.options.readyPollMs ?? DEFAULT_READY_POLL_MS);
    };
    this.readyTimer = setTimeout(() => void poll(), this.options.readyPollMs ?? DEFAULT_READY_POLL_MS);
  }

  private becameReady(child: ChildProcess): void {
    if (this.child !== child || this.state !== 'starting') return;
    this.runningSince = new Date();
    this.note(`the server is running (pid ${child.pid})`);
    this.setState('running');
  }

  private afterExit(code: number | null, signal: NodeJS.Signals | null): void {
    const ranFor = this.runningSince ? Date.now() - this.runningSince.getTime() : 0;
    const wasStopping = this.state === 'stopping';
    process.off('exit', this.onParentExit);
    if (this.readyTimer) clearTimeout(this.readyTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
    this.readyTimer = this.killTimer = null;
    this.child = null;
    this.startedAt = null;
    this.runningSince = null;
    this.lastExit = { code, signal, at: new Date().toISOString() };
    this.note(`the server exited (${signal ? `signal ${signal}` : `code ${code}`})`);
    if (!this.wanted) {
      this.setState('stopped');
      return;
    }
    if (wasStopping) {
      // restart() or start() during a stop: come back at once.
      this.failures = 0;
      this.spawnChild();
      return;
    }
    if (ranFor >= this.backoff.resetAfterMs) this.failures = 0;
    const delay = Math.min(this.backoff.initialMs * this.backoff.factor ** this.failures, this.backoff.maxMs);
    this.failures++;
    this.nextRestartAt = new Date(Date.now() + delay);
    this.note(`restarting in ${Math.round(delay)} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.restarts++;
      this.spawnChild();
    }, delay);
    this.setState('backoff');
  }

  private clearRestartTimer(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.nextRestartAt = null;
  }

  private setState(state: ServerState): void {
    this.state = state;
    this.emit('state', this.status());
  }

  private push(stream: LogLine['stream'], text: string): void {
    this.emit('log', this.ring.push(stream, text));
  }

  private note(text: string): void {
    this.push('supervisor', text);
  }
}
