/**
 * Pipelining limits on port 25 (RFC 2920 3.1): DATA ends a group of pipelined commands; the client
 * must wait for the 354 before it sends the message. A client that sends its message, or anything,
 * in the same go as DATA did not read our replies: a spam engine firing blind, or a smuggling
 * attempt that counts on a server's reading of line ends (CVE-2023-51766). Such bytes are never
 * taken as the message: the client gets `554 5.5.0` and the connection is closed, nothing stored
 * (Postfix's smtpd_forbid_unauth_pipelining, on by default since Postfix 3.9).
 *
 * Bytes that came before our 354 went out are the ones the parser gets while it is still handling
 * the DATA line: the rest of the same read, and reads queued behind it while the previous command
 * ran. Anything read later arrived after the 354 was written.
 */
import type { SMTPServer } from 'smtp-server';

type SmtpConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;
type Parser = Exclude<SmtpConnection['_parser'], false>;

export const SYNCHRONIZATION_ERROR =
  '5.5.0 Error: SMTP protocol synchronization (message sent before the 354 reply)';

export function forbidPipelinedData(connection: SmtpConnection, hostname: string): void {
  /** While the DATA line is being handled: any message byte the parser gets now came too early. */
  let dataCommandRunning = false;
  const watched = new WeakSet<Parser>();

  /** Watches what the parser gets in data mode (it is replaced at STARTTLS, hence per parser). */
  function watch(parser: Parser): void {
    if (watched.has(parser)) return;
    watched.add(parser);
    const write = parser._write.bind(parser);
    parser._write = (chunk: Buffer, encoding: BufferEncoding, next: (error?: Error | null) => void) => {
      if (!(dataCommandRunning && parser._dataMode && chunk.length > 0)) return write(chunk, encoding, next);
      // Not handed on: without its end the message never completes, and closing drops it.
      dataCommandRunning = false;
      connection.send(554, `${SYNCHRONIZATION_ERROR}; ${hostname} closing connection`);
      connection.close();
      next();
    };
  }

  const onCommand = connection._onCommand.bind(connection);
  connection._onCommand = (command, callback) => {
    const verb = (command || Buffer.alloc(0)).toString('latin1').trim().toUpperCase();
    if (verb !== 'DATA' || !connection._parser) return onCommand(command, callback);
    watch(connection._parser);
    dataCommandRunning = true;
    // The parser goes on with the rest of its read, and the reads queued behind it, synchronously.
    process.nextTick(() => (dataCommandRunning = false));
    onCommand(command, callback);
  };
}
