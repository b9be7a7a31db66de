/**
 * EHLO keywords of submission's own: CHUNKING (RFC 3030, bdat.ts) always, and `BURL imap` (RFC
 * 4468 3) only once the session is authenticated, since only then can a URL be resolved for
 * someone; clients read the keywords of the EHLO they send after AUTH. smtp-server builds its
 * keyword list inside its EHLO handler; the list is extended at the one reply that handler sends.
 */
import type { SmtpConnection } from '../../smtp/engine.ts';

export function advertiseBurl(connection: SmtpConnection, authenticated: () => boolean): void {
  const ehlo = connection.handler_EHLO.bind(connection);
  connection.handler_EHLO = (command, callback) => {
    const added = authenticated() ? ['CHUNKING', 'BURL imap'] : ['CHUNKING'];
    const send = connection.send;
    connection.send = (code, data, context) => {
      connection.send = send;
      const keywords = code === 250 && Array.isArray(data) ? [...data, ...added] : data;
      send.call(connection, code, keywords, context);
    };
    try {
      ehlo(command, callback);
    } finally {
      connection.send = send;
    }
  };
}
