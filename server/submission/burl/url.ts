/**
 * The bytes a BURL URL names (RFC 4468 3): an absolute `imap://` URL on this server carrying a
 * URLAUTH (RFC 4467) whose access identifier is `submit+<the authenticated user>`, read from the
 * store through the same code URLFETCH uses. Refusals, each with its enhanced status code:
 *
 * - 554 5.5.4: not an IMAP URL, or one without URLAUTH (a plain URL needs the owner's password,
 *   which the submission server does not have);
 * - 554 5.7.0: the URLAUTH does not admit this user's submission (wrong token, expired, another
 *   user's submit role, another server, a reset key): the reason stays in the log;
 * - 554 5.6.6: authorized, but the message or part is no longer there (RFC 4468's "IMAP URL
 *   resolution failed").
 */
import { parseImapUrl, UrlError, type ImapUrl } from '../../imap/url/parse.ts';
import { urlBytes } from '../../imap/url/resolve.ts';
import { authorizedMailbox } from '../../imap/url/urlauth.ts';
import type { Logger } from '../../log.ts';
import { reply, type Reply } from '../../smtp/replies.ts';
import type { Mailbox, Store } from '../../store/types.ts';

export async function burlBytes(
  store: Store,
  hostname: string,
  text: string,
  username: string,
  log: Logger,
): Promise<Buffer | Reply> {
  let url: ImapUrl;
  try {
    url = parseImapUrl(text);
  } catch (error) {
    if (error instanceof UrlError) return reply(554, '5.5.4', `Invalid URL: ${error.message}`);
    throw error;
  }
  if (url.server === null || url.auth === null || url.auth.token === null) {
    return reply(554, '5.5.4', 'Invalid URL: BURL takes an absolute imap: URL with URLAUTH');
  }
  let mailbox: Mailbox;
  try {
    mailbox = await authorizedMailbox(store, hostname, url, { via: 'submit', username });
  } catch (error) {
    if (!(error instanceof UrlError)) throw error;
    log.info({ user: username, reason: error.message }, 'BURL URL not authorized');
    return reply(554, '5.7.0', 'The URL is not authorized for this submission');
  }
  try {
    return await urlBytes(store, url, mailbox);
  } catch (error) {
    if (!(error instanceof UrlError)) throw error;
    log.info({ user: username, reason: error.message }, 'BURL URL not resolved');
    return reply(554, '5.6.6', 'IMAP URL resolution failed');
  }
}
