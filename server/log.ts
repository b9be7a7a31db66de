/**
 * Structured logging (pino). Sessions log through a child logger carrying their session id.
 * Passwords and message bodies are never logged: the redact list below is a second line of defence
 * behind simply not passing them.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['password', '*.password', 'secret', '*.secret', 'raw', '*.raw'],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: destination === process.stderr ? 2 : 1, sync: false }),
  );
}
