/**
 * BDAT (RFC 3030 CHUNKING), so that BURL pieces can be mixed with chunks the client sends itself
 * (RFC 4468 4: e.g. a new header by BDAT, then the draft's text by BURL, then BURL ... LAST).
 * `BDAT <size> [LAST]` is followed by exactly <size> bytes, taken as they are (no dot-stuffing,
 * no end marker); each chunk is added to the message BURL builds (chunks.ts) and the LAST one
 * submits it by the path of DATA.
 *
 * The bytes are always read, even when the command is then refused (RFC 3030 2: otherwise they
 * would be read as commands): before AUTH 530 5.7.0, before MAIL or RCPT 503 5.5.1, past the size
 * limit 552 5.3.4 (the transaction is reset). A chunk past the limit, or sent before AUTH, is
 * read and dropped as it comes, so a huge size costs no memory.
 *
 * smtp-server has no BDAT: its line parser is put in "data mode" for the chunk and given a feeder
 * that counts bytes instead of looking for the dot. The socket is not read further (backpressure)
 * until the chunk is answered, so pipelined commands after it wait their turn.
 */
import type { SmtpConnection } from '../../smtp/engine.ts';
import { reply, type Reply } from '../../smtp/replies.ts';
import type { User } from '../../store/types.ts';

/** `BDAT SP chunk-size [SP end-marker]` (RFC 3030 4). */
const BDAT_RE = /^BDAT (\d{1,15})( LAST)?$/i;

type Parser = Exclude<SmtpConnection['_parser'], false>;

export interface ChunkCommand {
  /** Sends a reply; `DATA_OK` marks a message accepted (the error budget's reset). */
  send(answer: Reply, context?: string): void;
  /** Whether a chunk of `size` bytes is worth keeping: a logged-in user with room for it. */
  accepts(size: number): boolean;
  /** Adds a piece (or sends the refusal it gives); with `last`, submits the message. */
  addPiece(piece: (user: User) => Promise<Buffer | Reply>, last: boolean): Promise<void>;
}

export function bdatHandler(connection: SmtpConnection, command: ChunkCommand) {
  return (line: Buffer, callback: () => void): void => {
    const args = BDAT_RE.exec(line.toString('latin1').trim());
    const parser = connection._parser;
    if (args === null || !parser) {
      command.send(reply(501, '5.5.4', 'Syntax: BDAT size [LAST]'));
      return callback();
    }
    const size = Number(args[1]);
    const last = args[2] !== undefined;
    if (size === 0) {
      void command.addPiece(() => Promise.resolve(Buffer.alloc(0)), last).then(callback);
      return;
    }
    // A chunk that would be refused anyway is read and dropped, not held in memory.
    const keep = command.accepts(size);
    readChunk(parser, size, keep, (data, resume) => {
      const piece = data ?? reply(552, '5.3.4', 'Message exceeds the maximum size');
      void command.addPiece(() => Promise.resolve(piece), last).then(resume);
    });
    // The parser goes on: the bytes after the command line are the chunk.
    callback();
  };
}

/**
 * Reads the next `size` bytes from the parser as one chunk; then `onChunk`, whose `resume` goes on
 * with whatever the client sent after the chunk (pipelined commands).
 */
function readChunk(
  parser: Parser,
  size: number,
  keep: boolean,
  onChunk: (data: Buffer | null, resume: () => void) => void,
): void {
  const parts: Buffer[] = [];
  let needed = size;
  parser._dataMode = true;
  parser._feedDataStream = (chunk, done) => {
    const take = chunk.subarray(0, needed);
    if (keep) parts.push(take);
    needed -= take.length;
    if (needed > 0) return done();
    // The chunk is complete: back to reading command lines, after the chunk has been answered.
    parser._dataMode = false;
    Reflect.deleteProperty(parser, '_feedDataStream');
    const rest = chunk.subarray(take.length);
    onChunk(keep ? Buffer.concat(parts, size) : null, () =>
      rest.length > 0 ? parser._write(rest, 'buffer', done) : done(),
    );
  };
}
