/** The supervisor's public shapes, shared by the Electron main process and `mallard panel`. */

export type ServerState = 'stopped' | 'starting' | 'running' | 'stopping' | 'backoff';

export interface SupervisorStatus {
  state: ServerState;
  pid: number | null;
  /** When the current process was started (ISO), null when none runs. */
  startedAt: string | null;
  /** Automatic restarts after the server died (manual restarts do not count). */
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  /** When the next automatic start is due (state 'backoff'), ISO. */
  nextRestartAt: string | null;
}

export interface LogLine {
  seq: number;
  at: string;
  stream: 'stdout' | 'stderr' | 'supervisor';
  text: string;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** A server that stayed up this long starts the next backoff from initialMs again. */
  resetAfterMs: number;
}

export interface SupervisorOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  backoff?: BackoffOptions;
  /** How long a stopping server may take after SIGTERM before it gets SIGKILL. */
  stopTimeoutMs?: number;
  /** Log lines kept for the UI. */
  logLines?: number;
  /** Polled while starting; the state becomes 'running' once it answers true. Absent: running at spawn. */
  isReady?: () => Promise<boolean>;
  /** How often isReady is polled (ms). */
  readyPollMs?: number;
}

export interface SupervisorEvents {
  state: [SupervisorStatus];
  log: [LogLine];
}
