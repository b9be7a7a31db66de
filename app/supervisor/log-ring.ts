/**
 * The supervisor's log: the last N lines of the server's stdout and stderr and of the supervisor's
 * own notes, each numbered so a UI can ask for "everything after line 1234" while it tails.
 */
import type { LogLine } from './types.ts';

/** A line longer than this is cut: one runaway write must not fill the memory of the panel. */
export const MAX_LINE_CHARS = 8192;

export class LogRing {
  private readonly lines: LogLine[] = [];
  private nextSeq = 1;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('logLines must be a whole number ≥ 1');
  }

  push(stream: LogLine['stream'], text: string): LogLine {
    const cut = text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)}…` : text;
    const line: LogLine = { seq: this.nextSeq++, at: new Date().toISOString(), stream, text: cut };
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
    return line;
  }

  /** Lines with seq > afterSeq (all kept lines when absent), oldest first. */
  after(afterSeq = 0): LogLine[] {
    if (afterSeq <= 0) return this.lines.slice();
    // seq is dense and increasing: the index is found by arithmetic, not a scan.
    const first = this.lines[0];
    if (!first) return [];
    const start = Math.max(0, afterSeq - first.seq + 1);
    return this.lines.slice(start);
  }

  get size(): number {
    return this.lines.length;
  }
}

/**
 * Splits a byte stream into lines. A partial last line waits for its end (or for flush() when the
 * stream closes); CR LF and LF both end a line. Decoding is UTF-8 across chunk boundaries.
 */
export class LineSplitter {
  private partial = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    // A partial line that never ends must not grow without bound.
    if (this.partial.length > MAX_LINE_CHARS) {
      this.onLine(this.partial);
      this.partial = '';
    }
    for (const part of parts) this.onLine(part.endsWith('\r') ? part.slice(0, -1) : part);
  }

  flush(): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    if (rest !== '') this.onLine(rest);
  }
}
