/**
 * BURL (RFC 4468) on the submission server: `BURL imap-url [LAST]` adds the bytes of a URLAUTH
 * URL to the message of the current transaction (after MAIL and RCPT, like DATA); BDAT chunks
 * (bdat.ts) may come between. The piece marked LAST ends the message, which then takes the path
 * of a message sent with DATA (sender and From checks, local delivery, the outbound queue, the
 * hourly limit).
 *
 * - Before AUTH: 530 5.7.0. Before MAIL or RCPT: 503 5.5.1. Bad arguments: 501 5.5.4.
 * - A URL that cannot be used: 554 with the code url.ts gives. The transaction is then reset
 *   (RFC 3030 has a client give up a message after a failed chunk): the next piece is told to
 *   start with MAIL, so no half-built message goes out.
 * - A message growing past limits.max_message_size: 552 5.3.4, and the transaction is reset.
 * - DATA in the middle of a BURL/BDAT message: 503 5.5.1 (the pieces would be lost).
 */
import type { SMTPServerSession } from 'smtp-server';
import type { Logger } from '../../log.ts';
import type { SmtpConnection } from '../../smtp/engine.ts';
import { reply, replyText, type Reply } from '../../smtp/replies.ts';
import type { Store, User } from '../../store/types.ts';
import { advertiseBurl } from './advertise.ts';
import { bdatHandler, type ChunkCommand } from './bdat.ts';
import { MessageChunks } from './chunks.ts';
import { burlBytes } from './url.ts';

export interface BurlServices {
  store: Store;
  hostname: string;
  maxMessageSize: number;
  /** The session's authenticated user, null before AUTH. */
  userOf(session: SMTPServerSession): User | null;
  logOf(session: SMTPServerSession): Logger;
  /** The submission path DATA takes, for a whole message: the reply to send. */
  submit(session: SMTPServerSession, message: Buffer): Promise<Reply>;
}

/** `BURL SP absolute-URI [SP "LAST"]` (RFC 4468 7). */
const BURL_RE = /^BURL ([^ ]+)( LAST)?$/i;

/** Adds BURL and BDAT, their EHLO keywords and the guard on DATA to one submission connection. */
export function addBurl(connection: SmtpConnection, services: BurlServices): void {
  const chunks = new MessageChunks();
  const resetSession = connection._resetSession.bind(connection);
  connection._resetSession = () => {
    chunks.clear();
    resetSession();
  };
  advertiseBurl(connection, () => services.userOf(connection.session) !== null);

  const data = connection.handler_DATA.bind(connection);
  connection.handler_DATA = (command, callback) => {
    if (!chunks.started) return data(command, callback);
    connection.send(
      503,
      replyText(reply(503, '5.5.1', 'A BURL or BDAT message is in progress: end it with LAST')),
    );
    callback();
  };

  const pieces = messagePieces(connection, services, chunks);
  const burl = (command: Buffer, callback: () => void): void => {
    const args = BURL_RE.exec(command.toString('latin1').trim());
    if (args === null) {
      pieces.send(reply(501, '5.5.4', 'Syntax: BURL imap-url [LAST]'));
      return callback();
    }
    const url = args[1]!;
    const fetch = (user: User) =>
      burlBytes(services.store, services.hostname, url, user.username, services.logOf(connection.session));
    void pieces.addPiece(fetch, args[2] !== undefined).then(callback);
  };
  Object.assign(connection, { handler_BURL: burl, handler_BDAT: bdatHandler(connection, pieces) });
}

/** Adding BURL and BDAT pieces to the transaction's message, and submitting it at the last. */
function messagePieces(
  connection: SmtpConnection,
  services: BurlServices,
  chunks: MessageChunks,
): ChunkCommand {
  const send = (answer: Reply, context?: string) => connection.send(answer.code, replyText(answer), context);
  /** Ends the transaction, as the end of DATA does. */
  const reset = () => connection._resetSession();

  async function add(piece: (user: User) => Promise<Buffer | Reply>, last: boolean): Promise<void> {
    const session = connection.session;
    const user = services.userOf(session);
    if (user === null) return send(reply(530, '5.7.0', 'Authentication required'));
    if (!session.envelope.mailFrom) return send(reply(503, '5.5.1', 'Error: need MAIL command'));
    if (session.envelope.rcptTo.length === 0) return send(reply(503, '5.5.1', 'Error: need RCPT command'));
    const bytes = await piece(user);
    if (!Buffer.isBuffer(bytes)) {
      reset();
      return send(bytes);
    }
    chunks.add(bytes);
    if (chunks.size > services.maxMessageSize) {
      reset();
      return send(
        reply(552, '5.3.4', `Message exceeds the maximum size of ${services.maxMessageSize} bytes`),
      );
    }
    if (!last) return send(reply(250, '2.0.0', `${bytes.length} octets received`));
    const answer = await services.submit(session, chunks.take());
    connection._transactionCounter++;
    reset();
    send(answer, answer.code < 400 ? 'DATA_OK' : undefined);
  }

  return {
    send,
    accepts: (size) =>
      services.userOf(connection.session) !== null && chunks.size + size <= services.maxMessageSize,
    async addPiece(piece, last) {
      try {
        await add(piece, last);
      } catch (error) {
        services.logOf(connection.session).error({ err: error }, 'BURL/BDAT piece failed');
        reset();
        send(reply(451, '4.3.0', 'Temporary failure, try again later'));
      }
    },
  };
}
