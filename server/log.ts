/**
 * Structured logging (pino). Sessions log through a child logger carrying their session id.
 * Passwords and message bodies are never logged: the redact list below is a second line of defence
 * behind simply not passing them.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * `tee`, when given, gets every line too (the admin API's log tail keeps the newest in memory).
 */
export function createLogger(
  level: string,
  destination: NodeJS.WritableStream = process.stdout,
  tee?: { write(line: string): unknown },
): Logger {
  const output = pino.destination({ dest: destination === process.stderr ? 2 : 1, sync: false });
  const streamLevel = level === 'silent' ? 'fatal' : (level as pino.Level);
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['password', '*.password', 'secret', '*.secret', 'raw', '*.raw'],
        censor: '[redacted]',
      },
    },
    tee
      ? Object.assign(
          pino.multistream([
            { stream: output, level: streamLevel },
            { stream: tee, level: streamLevel },
          ]),
          // logger.flush() reaches the file descriptor through the tee too.
          { flush: (callback: (error?: Error) => void) => output.flush(callback) },
        )
      : output,
  );
}
