/**
 * CATENATE (RFC 4469): an APPEND (or REPLACE) message made of TEXT literals and URLs to messages
 * and sections the user can already read, joined in order into the bytes to store.
 *
 * - A URL that cannot be read gives `NO [BADURL url]`, with the URL as sent: one that does not
 *   parse, names another server or (without a URLAUTH that admits this user) another user's mailbox, a mailbox or UID that is not there, a
 *   UIDVALIDITY that changed, or a part the message does not have.
 * - A result over the message size limit gives `NO [TOOBIG]` as soon as the parts add up to it.
 * - A TEXT literal (not a literal8) may not hold NUL; a literal8 may (RFC 4469 4, with BINARY).
 *   URL parts are copied as stored, whatever they hold.
 * - Nothing is stored before every message of the command is resolved, so a MULTIAPPEND with a bad
 *   URL in any message stores none of them.
 */
import type { ImapContext } from '../context.ts';
import { bad, no } from '../errors.ts';
import type { AppendMessage } from '../parser/index.ts';
import { parseImapUrl, UrlError, type ImapUrl } from './parse.ts';
import { urlBytes, urlMailbox } from './resolve.ts';
import { authorizedBytes } from './urlauth.ts';

/** The message with its CATENATE parts joined into `data`; a message without parts as it is. */
export async function catenateMessage(ctx: ImapContext, message: AppendMessage): Promise<AppendMessage> {
  if (message.catenate === undefined) return message;
  const limit = ctx.services.config.limits.max_message_size;
  const chunks: Buffer[] = [];
  let size = 0;
  for (const part of message.catenate) {
    let data: Buffer;
    if (part.kind === 'text') {
      if (!part.binary && part.data.includes(0)) throw bad('NUL bytes are not allowed in a TEXT literal');
      data = part.data;
    } else {
      data = await readableUrlBytes(ctx, part.url);
    }
    size += data.length;
    if (size > limit) throw no('TOOBIG', `The catenated message is larger than ${limit} bytes`);
    chunks.push(data);
  }
  // Every TEXT part was checked above and URL parts come from the store: no NUL check left to do.
  return { ...message, data: Buffer.concat(chunks), binary: true, catenate: undefined };
}

/**
 * The bytes of a URL to one of the session user's own messages, or of a URLAUTH URL that admits
 * the user; NO [BADURL] otherwise.
 */
async function readableUrlBytes(ctx: ImapContext, text: string): Promise<Buffer> {
  try {
    const url = parseImapUrl(text);
    const { store, config } = ctx.services;
    if (url.auth !== null) {
      // A URLAUTH URL (RFC 4467) may name another user's message, if it admits this user.
      const accessor = { via: 'imap', username: ctx.session.user!.username } as const;
      return await authorizedBytes(store, config.hostname, url, accessor);
    }
    checkOwnUrl(ctx, url);
    const mailbox = await urlMailbox(store, url, ctx.session.user!, ctx.session.view?.mailbox ?? null);
    return await urlBytes(store, url, mailbox);
  } catch (error) {
    if (error instanceof UrlError) throw badUrl(text, error.message);
    throw error;
  }
}

function checkOwnUrl(ctx: ImapContext, url: ImapUrl): void {
  if (url.server === null) return;
  if (url.server.host !== ctx.services.config.hostname.toLowerCase()) {
    throw new UrlError('The URL names another server');
  }
  if (url.server.user !== null && url.server.user.toLowerCase() !== ctx.session.user!.username) {
    throw new UrlError("The URL names another user's mailbox");
  }
}

/** `NO [BADURL url]`: the URL as sent, with what would end the response code escaped. */
export function badUrl(url: string, why: string) {
  let shown = '';
  for (const c of url) {
    const code = c.charCodeAt(0);
    shown +=
      c === ']' || code < 0x20 || code === 0x7f ? `%${code.toString(16).padStart(2, '0').toUpperCase()}` : c;
  }
  return no(`BADURL ${shown}`, why);
}
