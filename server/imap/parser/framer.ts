/**
 * IMAP input framing: turns the byte stream of one connection into complete commands (the command
 * line or lines with the literal contents spliced in as Buffers), enforcing line, literal and
 * command size limits. Pure state machine: no sockets, no timers.
 *
 * Pull model: the connection `push()`es every received chunk and then calls `next()` until it
 * returns null. Each call yields at most one item:
 *  - `command`: a complete command for the parser;
 *  - `literal-request`: the client sent a synchronising literal `{n}` and waits for `+ `. The
 *    connection answers (`+ Ready` or a tagged `NO [TOOBIG]`/`BAD`) and then MUST call
 *    `acceptLiteral()` or `rejectLiteral()` before calling `next()` again. A rejected literal
 *    aborts the command: the client does not send it (RFC 3501 7.5), so the framer reads the next
 *    bytes as a new command;
 *  - `error`: the command was too large in some way; it has been (or, for a literal the client
 *    will send anyway, will have been) discarded and the connection answers `BAD`/`NO` with the
 *    tag given, and stays usable. `fatal` errors (a non-synchronising literal too large to swallow)
 *    mean the connection must send `* BYE` and close; the framer ignores all further input.
 *  - `line` (only with `next('line')`): one raw line for IDLE (`DONE`) and AUTHENTICATE
 *    continuations, without literal processing. Bytes after that line stay buffered, so a
 *    command pipelined after `DONE` is kept.
 *
 * Line ends: CRLF, and a bare LF is tolerated. Because the connection pulls, it decides when the
 * next command is read: commands are never read ahead of the one being executed.
 */

export interface FramerLimits {
  /** Longest line, literals and CRLF excluded. Longer lines are discarded and reported. */
  maxLineLength: number;
  /** Largest literal accepted (the APPEND limit). */
  maxLiteralSize: number;
  /** Largest command: all line bytes plus all literal bytes. */
  maxCommandSize: number;
  /**
   * Largest refused non-synchronising literal that is still read and thrown away so the connection
   * can go on; above it the framer reports a fatal error (answer `* BYE` and close).
   */
  maxDiscardSize: number;
  /**
   * True when only LITERAL- (RFC 7888) is advertised: a non-synchronising literal over 4096 bytes is
   * then refused (swallowed and reported as `literal-too-large`). Default false: LITERAL+.
   */
  literalMinus: boolean;
}

export const DEFAULT_FRAMER_LIMITS: Readonly<FramerLimits> = Object.freeze({
  maxLineLength: 64 * 1024,
  maxLiteralSize: 64 * 1024 * 1024,
  maxCommandSize: 65 * 1024 * 1024,
  maxDiscardSize: 128 * 1024 * 1024,
  literalMinus: false,
});

/** Size limit of a non-synchronising literal under LITERAL- (RFC 7888). */
export const LITERAL_MINUS_MAX = 4096;

export interface FramedLiteral {
  data: Buffer;
  /** Sent as literal8 `~{n}` (RFC 3516). */
  binary: boolean;
  /** Sent as `{n+}` (LITERAL+). */
  nonSync: boolean;
}

/**
 * One complete command. `segments[i]` is the text before literal i and ends with that literal's
 * marker (`{5}`, `{5+}`, `~{5}`); the last segment is the text after the last literal. So
 * `segments.length === literals.length + 1`. Line ends are not included.
 */
export interface FramedCommand {
  segments: Buffer[];
  literals: FramedLiteral[];
  /** Bytes of text and literals (line ends excluded). */
  size: number;
}

export type FramerErrorKind = 'line-too-long' | 'command-too-large' | 'literal-too-large';

export interface FramerError {
  kind: FramerErrorKind;
  /** The command's tag when one could be read from the start of its first line. */
  tag: string | null;
  /** The command name, upper-cased (`UID FETCH` for UID commands), when it could be read. */
  command: string | null;
  /** Human-readable text for the `BAD`/`NO` response. */
  message: string;
  /** The connection must answer `* BYE` and close: the framer stopped reading. */
  fatal: boolean;
  /** For `literal-too-large`: the announced literal size. */
  literalSize?: number;
  /** For `literal-too-large`: whether it was a synchronising literal (so never sent). */
  synchronizing?: boolean;
}

export type FramerItem =
  | { type: 'command'; command: FramedCommand }
  | {
      type: 'literal-request';
      tag: string | null;
      command: string | null;
      size: number;
      binary: boolean;
    }
  | { type: 'line'; line: Buffer }
  | { type: 'error'; error: FramerError };

export interface LiteralMarker {
  size: number;
  nonSync: boolean;
  binary: boolean;
}

/** A literal marker must fit in this many bytes at the end of a line to be recognised. */
const MARKER_WINDOW = 40;
/** Bytes kept from the end of a discarded line: the window plus a CR. */
const TAIL_KEEP = MARKER_WINDOW + 1;
/** Bytes kept from the start of a command, to name its tag in error reports. */
const HEAD_KEEP = 256;
const EMPTY = Buffer.alloc(0);

/**
 * Finds a literal marker (`{n}`, `{n+}`, `~{n}`, `~{n+}`) at the end of a line (line end removed).
 * Only the last 40 bytes are considered. A size too large to represent is returned as Infinity.
 */
export function findLiteralMarker(line: Buffer): LiteralMarker | null {
  const n = line.length;
  if (n < 3 || line[n - 1] !== 0x7d) return null;
  const floor = Math.max(0, n - MARKER_WINDOW);
  let i = n - 2;
  let nonSync = false;
  if (line[i] === 0x2b) {
    nonSync = true;
    i--;
  }
  const digitsEnd = i + 1;
  while (i >= floor && line[i]! >= 0x30 && line[i]! <= 0x39) i--;
  if (i === digitsEnd - 1 || i < floor || line[i] !== 0x7b) return null;
  const digits = line.toString('latin1', i + 1, digitsEnd);
  const size = digits.length > 15 ? Infinity : Number(digits);
  const binary = i > floor && line[i - 1] === 0x7e;
  return { size, nonSync, binary };
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TAG_RE = /^([^\x00-\x20\x7f-\xff(){%*"\\+]+) (?:([A-Za-z][A-Za-z0-9.-]*)(?: ([A-Za-z]+))?)?/;

/**
 * Reads the tag and command name from the start of a command line, for error reports. The tag
 * must be followed by a space (so a truncated head never yields half a tag).
 */
export function peekTagAndCommand(head: Buffer): { tag: string | null; command: string | null } {
  const m = TAG_RE.exec(head.toString('latin1'));
  if (!m) return { tag: null, command: null };
  let command = m[2] ? m[2].toUpperCase() : null;
  if (command === 'UID' && m[3]) command = `UID ${m[3].toUpperCase()}`;
  return { tag: m[1]!, command };
}

function keepTail(tail: Buffer, slice: Buffer): Buffer {
  if (slice.length >= TAIL_KEEP) return Buffer.from(slice.subarray(slice.length - TAIL_KEEP));
  const joined = Buffer.concat([tail, slice]);
  return joined.length > TAIL_KEEP ? Buffer.from(joined.subarray(joined.length - TAIL_KEEP)) : joined;
}

function join(parts: Buffer[]): Buffer {
  if (parts.length === 0) return EMPTY;
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts);
}

interface PendingError {
  kind: FramerErrorKind;
  message: string;
  literalSize?: number;
  synchronizing?: boolean;
}

type Phase = 'line' | 'literal' | 'await' | 'fatal';

export class ImapFramer {
  private currentLimits: Readonly<FramerLimits>;

  // Input queue.
  private queue: Buffer[] = [];
  private offset = 0;
  private buffered = 0;
  private phase: Phase = 'line';

  // The command being framed.
  private segments: Buffer[] = [];
  private literals: FramedLiteral[] = [];
  private size = 0;
  private cmdError: PendingError | null = null;
  private firstLine = true;
  private headParts: Buffer[] = [];
  private headLen = 0;

  // The line being read.
  private lineParts: Buffer[] = [];
  private lineLen = 0;
  private lineDiscard = false;
  private tail: Buffer = EMPTY;

  // The literal being read.
  private litRemaining = 0;
  private litParts: Buffer[] = [];
  private litMarker: LiteralMarker | null = null;
  private litDiscard = false;

  private request: LiteralMarker | null = null;

  constructor(limits: Partial<FramerLimits> = {}) {
    this.currentLimits = ImapFramer.checkLimits({ ...DEFAULT_FRAMER_LIMITS, ...limits });
  }

  private static checkLimits(limits: FramerLimits): Readonly<FramerLimits> {
    for (const key of ['maxLineLength', 'maxLiteralSize', 'maxCommandSize', 'maxDiscardSize'] as const) {
      const value = limits[key];
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`ImapFramer: invalid ${key}`);
    }
    return Object.freeze(limits);
  }

  get limits(): Readonly<FramerLimits> {
    return this.currentLimits;
  }

  /**
   * Changes limits (e.g. small literals before authentication, the APPEND limit after). Applies
   * from the next line or literal marker on.
   */
  setLimits(limits: Partial<FramerLimits>): void {
    this.currentLimits = ImapFramer.checkLimits({ ...this.currentLimits, ...limits });
  }

  /** Queues received bytes. Ignored after a fatal error. */
  push(chunk: Buffer): void {
    if (this.phase === 'fatal' || chunk.length === 0) return;
    this.queue.push(chunk);
    this.buffered += chunk.length;
  }

  /** Received bytes not yet consumed (to pause the socket when the connection falls behind). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True after a fatal error: the connection must close. */
  get failed(): boolean {
    return this.phase === 'fatal';
  }

  /** The synchronising literal waiting for acceptLiteral()/rejectLiteral(), if any. */
  get pendingLiteral(): { size: number; binary: boolean } | null {
    return this.request ? { size: this.request.size, binary: this.request.binary } : null;
  }

  /** True when no part of a command has been framed (a line may be partly received). */
  get atCommandStart(): boolean {
    return (
      this.phase === 'line' && this.segments.length === 0 && this.literals.length === 0 && !this.cmdError
    );
  }

  /**
   * The next complete item, or null when more input is needed (or after a fatal error).
   * `mode = 'line'` reads one raw line (IDLE, AUTHENTICATE); it is only allowed between commands.
   * Throws (a programming error) while a literal request is unanswered.
   */
  next(mode: 'command' | 'line' = 'command'): FramerItem | null {
    if (this.phase === 'fatal') return null;
    if (this.phase === 'await') {
      throw new Error('ImapFramer: answer the literal request (acceptLiteral/rejectLiteral) first');
    }
    if (mode === 'line' && !this.atCommandStart) {
      throw new Error('ImapFramer: next("line") is only allowed between commands');
    }
    for (;;) {
      if (this.phase === 'literal') {
        if (!this.readLiteral()) return null;
        continue;
      }
      if (!this.readLine()) return null;
      const item = mode === 'line' ? this.finishRawLine() : this.finishCommandLine();
      if (item) return item;
    }
  }

  /** The connection sent `+ `: the client now sends the literal. */
  acceptLiteral(): void {
    if (this.phase !== 'await' || !this.request) throw new Error('ImapFramer: no literal request pending');
    this.startLiteral(this.request, false);
    this.size += this.request.size;
    this.request = null;
  }

  /** The connection refused the literal (tagged NO/BAD): the command is aborted. */
  rejectLiteral(): void {
    if (this.phase !== 'await' || !this.request) throw new Error('ImapFramer: no literal request pending');
    this.request = null;
    this.resetCommand();
    this.phase = 'line';
  }

  // --- internals ---

  private consume(n: number): void {
    this.offset += n;
    this.buffered -= n;
    if (this.offset >= this.queue[0]!.length) {
      this.queue.shift();
      this.offset = 0;
    }
  }

  /** Moves bytes up to the next LF into the current line. True when the line is complete. */
  private readLine(): boolean {
    while (this.queue.length > 0) {
      const chunk = this.queue[0]!;
      const start = this.offset;
      const lf = chunk.indexOf(0x0a, start);
      if (lf < 0) {
        this.absorb(chunk.subarray(start));
        this.consume(chunk.length - start);
        continue;
      }
      this.absorb(chunk.subarray(start, lf));
      this.consume(lf + 1 - start);
      return true;
    }
    return false;
  }

  private absorb(slice: Buffer): void {
    if (slice.length === 0) return;
    if (this.firstLine && this.headLen < HEAD_KEEP) {
      const part = slice.subarray(0, HEAD_KEEP - this.headLen);
      this.headParts.push(part);
      this.headLen += part.length;
    }
    this.lineLen += slice.length;
    if (this.lineDiscard) {
      this.tail = keepTail(this.tail, slice);
      return;
    }
    this.lineParts.push(slice);
    // +1: a CR that will turn out to precede the LF does not count.
    if (this.lineLen > this.limits.maxLineLength + 1) {
      this.lineDiscard = true;
      this.tail = keepTail(EMPTY, join(this.lineParts));
      this.lineParts = [];
    }
  }

  /** Ends the current line: its text (CR removed) and whether it was over the limit. */
  private takeLine(): { text: Buffer; length: number; tooLong: boolean } {
    let text = this.lineDiscard ? this.tail : join(this.lineParts);
    let length = this.lineLen;
    if (text.length > 0 && text[text.length - 1] === 0x0d) {
      text = text.subarray(0, text.length - 1);
      length--;
    }
    const tooLong = this.lineDiscard || length > this.limits.maxLineLength;
    // Only the end of an over-long line matters (a literal marker), whatever the chunking was.
    if (tooLong && text.length > MARKER_WINDOW) text = text.subarray(text.length - MARKER_WINDOW);
    this.lineParts = [];
    this.lineLen = 0;
    this.lineDiscard = false;
    this.tail = EMPTY;
    return { text, length, tooLong };
  }

  private finishRawLine(): FramerItem {
    const { text, tooLong } = this.takeLine();
    if (tooLong) {
      const item = this.errorItem({ kind: 'line-too-long', message: 'Line too long' });
      this.resetCommand();
      return item;
    }
    this.resetCommand();
    return { type: 'line', line: text };
  }

  private setError(error: PendingError): void {
    if (!this.cmdError) this.cmdError = error;
    this.segments = [];
    this.literals = [];
  }

  private finishCommandLine(): FramerItem | null {
    const { text, length, tooLong } = this.takeLine();
    this.firstLine = false;
    const limits = this.limits;
    if (tooLong) this.setError({ kind: 'line-too-long', message: 'Command line too long' });
    if (!this.cmdError) {
      this.size += length;
      if (this.size > limits.maxCommandSize) {
        this.setError({ kind: 'command-too-large', message: 'Command too large' });
      }
    }
    const marker = findLiteralMarker(text);
    if (!this.cmdError) this.segments.push(text);
    if (!marker) return this.endCommand();

    if (marker.nonSync) {
      if (!this.cmdError) {
        if (marker.size > limits.maxLiteralSize || (limits.literalMinus && marker.size > LITERAL_MINUS_MAX)) {
          this.setError({
            kind: 'literal-too-large',
            message: 'Literal too large',
            literalSize: marker.size,
            synchronizing: false,
          });
        } else if (this.size + marker.size > limits.maxCommandSize) {
          this.setError({ kind: 'command-too-large', message: 'Command too large' });
        }
      }
      if (this.cmdError) {
        if (marker.size > limits.maxDiscardSize) return this.fatal(marker.size);
        this.startLiteral(marker, true);
      } else {
        this.startLiteral(marker, false);
        this.size += marker.size;
      }
      return null;
    }

    // Synchronising literal. After an error the client is refused the `+` and aborts the command.
    if (!this.cmdError) {
      if (marker.size > limits.maxLiteralSize) {
        this.setError({
          kind: 'literal-too-large',
          message: 'Literal too large',
          literalSize: marker.size,
          synchronizing: true,
        });
      } else if (this.size + marker.size > limits.maxCommandSize) {
        this.setError({ kind: 'command-too-large', message: 'Command too large' });
      }
    }
    if (this.cmdError) return this.endCommand();
    this.phase = 'await';
    this.request = marker;
    const { tag, command } = this.head();
    return { type: 'literal-request', tag, command, size: marker.size, binary: marker.binary };
  }

  private startLiteral(marker: LiteralMarker, discard: boolean): void {
    this.phase = 'literal';
    this.litMarker = marker;
    this.litRemaining = marker.size;
    this.litDiscard = discard;
    this.litParts = [];
  }

  /** Moves literal bytes. True when the literal is complete. */
  private readLiteral(): boolean {
    while (this.litRemaining > 0 && this.queue.length > 0) {
      const chunk = this.queue[0]!;
      const take = Math.min(chunk.length - this.offset, this.litRemaining);
      if (!this.litDiscard) this.litParts.push(chunk.subarray(this.offset, this.offset + take));
      this.consume(take);
      this.litRemaining -= take;
    }
    if (this.litRemaining > 0) return false;
    const marker = this.litMarker!;
    if (!this.litDiscard && !this.cmdError) {
      this.literals.push({ data: join(this.litParts), binary: marker.binary, nonSync: marker.nonSync });
    }
    this.litParts = [];
    this.litMarker = null;
    this.phase = 'line';
    return true;
  }

  private head(): { tag: string | null; command: string | null } {
    return peekTagAndCommand(join(this.headParts));
  }

  private errorItem(error: PendingError, fatal = false): FramerItem {
    const { tag, command } = this.head();
    return { type: 'error', error: { ...error, tag, command, fatal } };
  }

  private endCommand(): FramerItem {
    let item: FramerItem;
    if (this.cmdError) item = this.errorItem(this.cmdError);
    else
      item = {
        type: 'command',
        command: { segments: this.segments, literals: this.literals, size: this.size },
      };
    this.resetCommand();
    return item;
  }

  private fatal(size: number): FramerItem {
    const item = this.errorItem(
      { kind: 'literal-too-large', message: 'Literal too large', literalSize: size, synchronizing: false },
      true,
    );
    this.phase = 'fatal';
    this.queue = [];
    this.offset = 0;
    this.buffered = 0;
    this.resetCommand();
    return item;
  }

  private resetCommand(): void {
    this.segments = [];
    this.literals = [];
    this.size = 0;
    this.cmdError = null;
    this.firstLine = true;
    this.headParts = [];
    this.headLen = 0;
  }
}

/**
 * Frames a whole input at once, accepting every synchronising literal the limits allow (refused
 * ones abort their command, as a real client would). For tests and tools.
 */
export function frameAll(
  input: string | Buffer,
  limits: Partial<FramerLimits> = {},
): Array<FramedCommand | FramerError> {
  const framer = new ImapFramer(limits);
  framer.push(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  const out: Array<FramedCommand | FramerError> = [];
  for (;;) {
    const item = framer.next();
    if (!item) break;
    if (item.type === 'command') out.push(item.command);
    else if (item.type === 'error') out.push(item.error);
    else if (item.type === 'literal-request') framer.acceptLiteral();
  }
  return out;
}

/** True for a framer error (as opposed to a framed command) in frameAll's output. */
export function isFramerError(value: FramedCommand | FramerError): value is FramerError {
  return 'kind' in value;
}
