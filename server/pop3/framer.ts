/**
 * POP3 input framing: turns the byte stream of one connection into lines, with a length limit.
 * Pure state machine, no sockets or timers. The connection `push()`es received chunks and pulls
 * lines with `next(limit)`, one at a time, so pipelined commands wait in the buffer until the one
 * before them has been answered (RFC 2449 PIPELINING).
 *
 * Line ends are CRLF; a bare LF is tolerated. A line longer than the limit (line end excluded) is
 * thrown away up to its line end and reported once as `too-long`, so the session can answer and
 * go on.
 */

export type FramerItem = { type: 'line'; line: Buffer } | { type: 'too-long' };

export class LineFramer {
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes of `buffer` already searched for a line feed. */
  private scanned = 0;
  /** Inside an over-long line: drop bytes until its line feed. */
  private discarding = false;

  /** Bytes held, waiting to be read as lines. */
  get buffered(): number {
    return this.buffer.length;
  }

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** Forgets everything buffered (after STLS: bytes sent before the handshake are not trusted). */
  clear(): void {
    this.buffer = Buffer.alloc(0);
    this.scanned = 0;
    this.discarding = false;
  }

  /** The next complete line (without its line end), `too-long` once per over-long line, or null. */
  next(maxLength: number): FramerItem | null {
    const newline = this.buffer.indexOf(0x0a, this.scanned);
    if (newline === -1) {
      if (this.discarding) {
        this.buffer = Buffer.alloc(0);
        this.scanned = 0;
      } else if (this.buffer.length > maxLength + 1) {
        // +1: the CR of a CRLF may already be here while its LF is still on the way.
        this.discarding = true;
        this.buffer = Buffer.alloc(0);
        this.scanned = 0;
      } else {
        this.scanned = this.buffer.length;
      }
      return null;
    }
    const end = newline > 0 && this.buffer[newline - 1] === 0x0d ? newline - 1 : newline;
    const line = this.buffer.subarray(0, end);
    this.buffer = this.buffer.subarray(newline + 1);
    this.scanned = 0;
    if (this.discarding) {
      this.discarding = false;
      return { type: 'too-long' };
    }
    if (line.length > maxLength) return { type: 'too-long' };
    return { type: 'line', line: Buffer.from(line) };
  }
}
