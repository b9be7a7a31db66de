/**
 * The last few hundred log lines, for `GET /api/logs`: a pino destination (tee'd beside stdout in
 * the composition root) that keeps the newest lines in a ring. Lines are pino's JSON, already
 * redacted by the logger (no passwords, no message bodies); an over-long line is cut.
 */
export const DEFAULT_LOG_LINES = 500;
const MAX_LINE = 8 * 1024;

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export interface LogLine {
  time: string;
  level: string;
  msg: string;
  [key: string]: unknown;
}

export class LogBuffer {
  private readonly ring: string[] = [];
  private next = 0;

  constructor(readonly capacity = DEFAULT_LOG_LINES) {}

  /** pino's destination interface: one JSON line per call (possibly several, newline-separated). */
  write(chunk: string | Buffer): boolean {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (const line of text.split('\n')) if (line.trim()) this.push(line);
    return true;
  }

  private push(line: string): void {
    const kept = line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line;
    if (this.ring.length < this.capacity) this.ring.push(kept);
    else this.ring[this.next] = kept;
    this.next = (this.next + 1) % this.capacity;
  }

  get size(): number {
    return this.ring.length;
  }

  /** The newest `count` lines, oldest first, parsed. */
  tail(count = this.capacity): LogLine[] {
    const ordered =
      this.ring.length < this.capacity
        ? this.ring
        : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return ordered.slice(Math.max(0, ordered.length - count)).map(parseLine);
  }
}

function parseLine(line: string): LogLine {
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    const { time, level, msg, ...rest } = record;
    return {
      ...rest,
      time: new Date(typeof time === 'number' || typeof time === 'string' ? time : Date.now()).toISOString(),
      level: typeof level === 'number' ? (LEVEL_NAMES[level] ?? String(level)) : String(level ?? 'info'),
      msg: typeof msg === 'string' ? msg : '',
    };
  } catch {
    return { time: new Date().toISOString(), level: 'info', msg: line };
  }
}
