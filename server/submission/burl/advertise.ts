/**
 * EHLO keywords of submission's own: `BURL imap` (RFC 4468 3), shown only once the session is
 * authenticated, since only then can a URL be resolved for someone. Clients read the keywords of
 * the EHLO they send after AUTH. smtp-server builds its keyword list inside its EHLO handler; the
 * list is extended at the one reply that handler sends.
 */
import type { SmtpConnection } from '../../smtp/engine.ts';

export function advertiseBurl(connection: SmtpConnection, authenticated: () => boolean): void {
  const ehlo = connection.handler_EHLO.bind(connection);
  connection.handler_EHLO = (command, callback) => {
    if (!authenticated()) return ehlo(command, callback);
    const send = connection.send;
    connection.send = (code, data, context) => {
      connection.send = send;
      const keywords = code === 250 && Array.isArray(data) ? [...data, 'BURL imap'] : data;
      send.call(connection, code, keywords, context);
    };
    try {
      ehlo(command, callback);
    } finally {
      connection.send = send;
    }
  };
}
