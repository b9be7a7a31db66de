/**
 * BURL (RFC 4468) on the submission server: `BURL imap-url [LAST]` adds the bytes of a URLAUTH
 * URL to the message of the current transaction (after MAIL and RCPT, like DATA); the BURL marked
 * LAST ends the message, which then takes the path of a message sent with DATA (sender and From
 * checks, local delivery, the outbound queue, the hourly limit).
 *
 * - Before AUTH: 530 5.7.0. Before MAIL or RCPT: 503 5.5.1. Bad arguments: 501 5.5.4.
 * - A URL that cannot be used: 554 with the code url.ts gives. The transaction is then reset
 *   (RFC 3030 has a client give up a message after a failed chunk): the next BURL is told to start
 *   with MAIL, so no half-built message goes out.
 * - A message growing past limits.max_message_size: 552 5.3.4, and the transaction is reset.
 * - DATA in the middle of a BURL message: 503 5.5.1 (the pieces would be lost).
 */
import type { SMTPServerSession } from 'smtp-server';
import type { Logger } from '../../log.ts';
import type { SmtpConnection } from '../../smtp/engine.ts';
import { reply, replyText, type Reply } from '../../smtp/replies.ts';
import type { Store, User } from '../../store/types.ts';
import { advertiseBurl } from './advertise.ts';
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

/** Adds BURL, its EHLO keyword and its guard on DATA to one submission connection. */
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
      replyText(reply(503, '5.5.1', 'A BURL message is in progress: end it with BURL LAST')),
    );
    callback();
  };

  const handler = (command: Buffer, callback: () => void): void => {
    void runBurl(connection, services, chunks, command.toString('latin1')).then(
      callback,
      (error: unknown) => {
        services.logOf(connection.session).error({ err: error }, 'BURL failed');
        connection._resetSession();
        connection.send(451, '4.3.0 Temporary failure, try again later');
        callback();
      },
    );
  };
  Object.assign(connection, { handler_BURL: handler });
}

async function runBurl(
  connection: SmtpConnection,
  services: BurlServices,
  chunks: MessageChunks,
  line: string,
): Promise<void> {
  const session = connection.session;
  const send = (answer: Reply, context?: string) => connection.send(answer.code, replyText(answer), context);
  const user = services.userOf(session);
  if (user === null) return send(reply(530, '5.7.0', 'Authentication required'));
  const args = BURL_RE.exec(line.trim());
  if (args === null) return send(reply(501, '5.5.4', 'Syntax: BURL imap-url [LAST]'));
  if (!session.envelope.mailFrom) return send(reply(503, '5.5.1', 'Error: need MAIL command'));
  if (session.envelope.rcptTo.length === 0) return send(reply(503, '5.5.1', 'Error: need RCPT command'));
  const log = services.logOf(session);
  const bytes = await burlBytes(services.store, services.hostname, args[1]!, user.username, log);
  if (!Buffer.isBuffer(bytes)) {
    connection._resetSession();
    return send(bytes);
  }
  chunks.add(bytes);
  if (chunks.size > services.maxMessageSize) {
    connection._resetSession();
    return send(reply(552, '5.3.4', `Message exceeds the maximum size of ${services.maxMessageSize} bytes`));
  }
  if (args[2] === undefined) return send(reply(250, '2.0.0', `${bytes.length} octets added`));
  const answer = await services.submit(session, chunks.take());
  // As at the end of DATA: the transaction is over, whatever the answer.
  connection._transactionCounter++;
  connection._resetSession();
  send(answer, answer.code < 400 ? 'DATA_OK' : undefined);
}
