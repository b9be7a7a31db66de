/**
 * Messages on the wire (RFC 1939 3): every line ends in CRLF (a bare LF becomes CRLF, a final line
 * without a line end gets one), a line starting with "." gets another "." in front, and the
 * response ends with ".\r\n" — which the connection writes, not this module.
 *
 * The sizes given by STAT, LIST and RETR are those of the message with its line ends made CRLF
 * ("as it would be sent", the virtual size Dovecot reports too); dot-stuffing and the added final
 * CRLF are not counted, as clients remove them.
 */

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const DOT_BUFFER = Buffer.from('.');

/** Size of the message with every bare LF counted as CRLF. */
export function virtualSize(raw: Buffer): number {
  let size = raw.length;
  for (let index = raw.indexOf(LF); index !== -1; index = raw.indexOf(LF, index + 1)) {
    if (index === 0 || raw[index - 1] !== CR) size++;
  }
  return size;
}

export interface WireOptions {
  /** TOP: send the header, the blank line, then at most this many body lines. */
  bodyLines?: number;
  /** Approximate size of each yielded chunk. */
  chunkSize?: number;
}

/**
 * The message as sent after `+OK`: CRLF line ends, dot-stuffed, ending with CRLF, in chunks of
 * about `chunkSize` bytes (the terminating ".\r\n" is not included).
 */
export function* wireChunks(raw: Buffer, options: WireOptions = {}): Generator<Buffer> {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const limit = options.bodyLines;
  let parts: Buffer[] = [];
  let pending = 0;
  let inBody = false;
  let bodyLinesSent = 0;
  for (let start = 0; start < raw.length;) {
    if (limit !== undefined && inBody && bodyLinesSent >= limit) break;
    const newline = raw.indexOf(LF, start);
    const next = newline === -1 ? raw.length : newline + 1;
    const end =
      newline === -1 ? raw.length : newline > start && raw[newline - 1] === CR ? newline - 1 : newline;
    const content = raw.subarray(start, end);
    if (content.length > 0 && content[0] === DOT) parts.push(DOT_BUFFER);
    parts.push(content, CRLF);
    pending += content.length + 3;
    if (inBody) bodyLinesSent++;
    else if (content.length === 0) inBody = true; // the blank line that ends the header
    start = next;
    if (pending >= chunkSize) {
      yield Buffer.concat(parts);
      parts = [];
      pending = 0;
    }
  }
  if (parts.length > 0) yield Buffer.concat(parts);
}

/** Dot-stuffs one line of a multi-line listing (CAPA, LIST, UIDL: never needed, but harmless). */
export function stuffLine(line: string): string {
  return line.startsWith('.') ? `.${line}\r\n` : `${line}\r\n`;
}
