/**
 * The two logs of the Logs page: the mail server's own (pino lines from `GET /api/logs`) and the
 * supervisor's capture of the server process output (`/panel/server/logs`), both brought to one
 * line shape for display.
 */
import { api } from './client.ts';
import { panelApi, type SupervisorLogLine } from './panel.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One line as the Logs page shows it. */
export interface ViewLine {
  key: string;
  time: string;
  level: LogLevel;
  msg: string;
  /** The remaining fields (server log) or the stream (process output), as short text. */
  detail: string;
}

/** A pino line from the admin API: time, level name, message and any other fields. */
export interface ServerLogLine {
  time: string;
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** The admin API returns at most this many of the newest lines (it keeps the last few hundred). */
export const SERVER_LOG_MAX = 1000;

export const logsApi = {
  server: (lines = SERVER_LOG_MAX) => api.get<{ lines: ServerLogLine[] }>(`/api/logs?lines=${lines}`),
  process: (after?: number) => panelApi.serverLogs(after),
};

const PINO_LEVELS: Record<number, LogLevel> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export function toLevel(value: unknown): LogLevel {
  if (typeof value === 'number') return PINO_LEVELS[value] ?? 'info';
  const text = String(value).toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(text) ? (text as LogLevel) : 'info';
}

/** Fields pino adds to every line that say nothing to a person reading the tail. */
const NOISE = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'v']);

function detailOf(record: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (NOISE.has(key) || value === undefined) continue;
    parts.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  return parts.join(' ');
}

/**
 * The server's lines carry no number; a key from time and text (plus a count for exact repeats)
 * stays the same from one poll to the next, so unchanged rows are not drawn again.
 */
export function fromServerLines(lines: readonly ServerLogLine[]): ViewLine[] {
  const seen = new Map<string, number>();
  return lines.map((line) => {
    const base = `${line.time}|${line.msg}`;
    const repeat = seen.get(base) ?? 0;
    seen.set(base, repeat + 1);
    return fromServerLine(line, `s${base}|${repeat}`);
  });
}

function fromServerLine(line: ServerLogLine, key: string): ViewLine {
  return {
    key,
    time: line.time,
    level: toLevel(line.level),
    msg: line.msg,
    detail: detailOf(line),
  };
}

/** The server writes pino JSON to stdout; other output (a crash trace, the supervisor) is plain text. */
export function fromProcessLine(line: SupervisorLogLine): ViewLine {
  const base = { key: `p${line.seq}`, time: line.at };
  if (line.text.startsWith('{')) {
    try {
      const record = JSON.parse(line.text) as Record<string, unknown>;
      if (typeof record.msg === 'string') {
        return {
          ...base,
          level: toLevel(record.level),
          msg: record.msg,
          detail: [line.stream, detailOf(record)].filter(Boolean).join(' '),
        };
      }
    } catch {
      // Not JSON after all: shown as text below.
    }
  }
  return {
    ...base,
    level: line.stream === 'stderr' ? 'error' : 'info',
    msg: line.text,
    detail: line.stream,
  };
}

/** Keeps the lines at or above `minimum` whose text contains `text` (any case). */
export function filterLines(lines: readonly ViewLine[], minimum: LogLevel, text: string): ViewLine[] {
  const floor = LOG_LEVELS.indexOf(minimum);
  const needle = text.trim().toLowerCase();
  return lines.filter(
    (line) =>
      LOG_LEVELS.indexOf(line.level) >= floor &&
      (needle === '' ||
        line.msg.toLowerCase().includes(needle) ||
        line.detail.toLowerCase().includes(needle)),
  );
}
