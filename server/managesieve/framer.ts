/**
 * ManageSieve input framing (RFC 5804 4): a command is a line, except that a line ending in a
 * literal announcement `{n+}` (or `{n}`, which some clients send; ManageSieve has no continuation
 * request, so both are read the same way) is followed by n octets and then the rest of the command
 * on further lines. Pure state machine, no sockets or timers: the connection `push()`es chunks and
 * pulls whole commands with `next(limits)`, one at a time.
 *
 * A command comes out as its text with each literal cut out and kept aside: `segments[i]` is the
 * text before literal i (ending with its announcement), `literals[i]` its octets, and the last
 * segment the text after the last literal. The parser (parser.ts) reads the tokens from that.
 *
 * Limits: a line longer than `maxLine` is dropped to its line end and reported once as `too-long`;
 * a literal larger than `maxLiteral` is reported as `literal-too-big` with its size before its
 * octets are read, and the connection says whether to skip them (`skipLiteral`) or to close.
 */

export interface FramedCommand {
  type: 'command';
  /** Text around the literals: one more than `literals`. Each but the last ends with `{n+}`. */
  segments: Buffer[];
  literals: Buffer[];
}

export type FramerItem =
  FramedCommand | { type: 'too-long' } | { type: 'literal-too-big'; size: number; segments: Buffer[] };

export interface FrameLimits {
  maxLine: number;
  maxLiteral: number;
}

/** `{123+}` or `{123}` at the end of a line. */
const LITERAL_AT_END = /\{(\d{1,10})\+?\}$/;

export class CommandFramer {
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes of `buffer` already searched for a line feed. */
  private scanned = 0;
  /** Inside an over-long line: drop bytes until its line feed. */
  private discarding = false;
  /** After a refused literal: drop the rest of its line without reporting it. */
  private droppingTail = false;
  /** Octets of a refused literal still to be dropped as they arrive. */
  private skipping = 0;
  /** The command read so far, when a literal is pending. */
  private segments: Buffer[] = [];
  private literals: Buffer[] = [];
  /** Size of the literal being read (after its announcement line), or -1. */
  private literalSize = -1;

  /** Bytes held, waiting to be read. */
  get buffered(): number {
    return this.buffer.length;
  }

  push(chunk: Buffer): void {
    if (this.skipping > 0) {
      const dropped = Math.min(this.skipping, chunk.length);
      this.skipping -= dropped;
      chunk = chunk.subarray(dropped);
      if (chunk.length === 0) return;
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** Forgets everything buffered (after STARTTLS: bytes sent before the handshake are not trusted). */
  clear(): void {
    this.buffer = Buffer.alloc(0);
    this.scanned = 0;
    this.discarding = false;
    this.droppingTail = false;
    this.skipping = 0;
    this.resetCommand();
  }

  /**
   * After `literal-too-big`: drops the literal's octets and the rest of its command line, so the
   * next command can be read. (The client sent `{n+}` and will send the octets regardless.)
   */
  skipLiteral(size: number): void {
    const dropped = Math.min(size, this.buffer.length);
    this.buffer = this.buffer.subarray(dropped);
    this.skipping = size - dropped;
    this.scanned = 0;
    // The rest of the line after the literal (its CRLF, or more arguments) belongs to it too.
    this.droppingTail = true;
  }

  /** The next command or limit report, or null until more bytes arrive. */
  next(limits: FrameLimits): FramerItem | null {
    for (;;) {
      if (this.skipping > 0) return null;
      if (this.literalSize >= 0) {
        if (this.buffer.length < this.literalSize) return null;
        this.literals.push(Buffer.from(this.buffer.subarray(0, this.literalSize)));
        this.buffer = this.buffer.subarray(this.literalSize);
        this.scanned = 0;
        this.literalSize = -1;
      }
      const line = this.nextLine(limits.maxLine);
      if (line === null) return null;
      if (line === 'too-long') {
        this.resetCommand();
        return { type: 'too-long' };
      }
      const announced = LITERAL_AT_END.exec(line.toString('latin1'));
      this.segments.push(line);
      if (!announced) {
        const command: FramedCommand = { type: 'command', segments: this.segments, literals: this.literals };
        this.resetCommand();
        return command;
      }
      const size = Number(announced[1]);
      if (size > limits.maxLiteral) {
        const segments = this.segments;
        this.resetCommand();
        return { type: 'literal-too-big', size, segments };
      }
      this.literalSize = size;
    }
  }

  private resetCommand(): void {
    this.segments = [];
    this.literals = [];
    this.literalSize = -1;
  }

  /** A complete line without its line end (CRLF, or a bare LF), `too-long` once, or null. */
  private nextLine(maxLength: number): Buffer | 'too-long' | null {
    for (;;) {
      const newline = this.buffer.indexOf(0x0a, this.scanned);
      if (newline === -1) {
        if (this.discarding || this.droppingTail) {
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
      if (this.droppingTail) {
        // The rest of a refused literal's command: answered already, dropped without a word.
        this.droppingTail = false;
        continue;
      }
      if (this.discarding) {
        this.discarding = false;
        return 'too-long';
      }
      if (line.length > maxLength) return 'too-long';
      return Buffer.from(line);
    }
  }
}
