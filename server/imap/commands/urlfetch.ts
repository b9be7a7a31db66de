/**
 * URLFETCH (RFC 4467 6.3, extended by RFC 5524): the content of URLAUTH URLs, all answered in one
 * untagged `* URLFETCH` line. A URL alone gets its data or NIL; a URL in RFC 5524's extended form
 * `(url params)` gets the metadata items it asked for (server/imap/url/extended.ts), or NIL. A URL
 * that is not honoured (bad syntax, another server, expired, not for this user, a wrong token, a
 * key reset, a message gone) gets NIL, never a reason. Data holding a NUL byte goes out as a
 * literal8 (as FETCH BINARY does).
 */
import type { ResponseBuilder } from '../encoder/index.ts';
import type { CommandHandler, ImapContext } from '../context.ts';
import type { UrlFetchCommand, UrlFetchItem } from '../parser/index.ts';
import { extendedUrlData, type ExtendedUrlData } from '../url/extended.ts';
import { parseImapUrl, UrlError } from '../url/parse.ts';
import { urlBytes } from '../url/resolve.ts';
import { authorizedMailbox } from '../url/urlauth.ts';

export const urlFetch: CommandHandler<UrlFetchCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const line = ctx.builder().untagged().atom('URLFETCH');
    for (const item of command.urls) {
      const data = await fetchUrl(ctx, item);
      line.sp().string(item.url).sp();
      if (data === null) line.nil();
      else if (Buffer.isBuffer(data)) nstring8(line, data);
      else writeExtended(line, data);
    }
    await ctx.write(line.crlf());
    return { text: 'URLFETCH completed' };
  },
};

async function fetchUrl(ctx: ImapContext, item: UrlFetchItem): Promise<Buffer | ExtendedUrlData | null> {
  try {
    const { store, config } = ctx.services;
    const url = parseImapUrl(item.url);
    const accessor = { via: 'imap', username: ctx.session.user!.username } as const;
    const mailbox = await authorizedMailbox(store, config.hostname, url, accessor);
    if (item.want === null) return await urlBytes(store, url, mailbox);
    return await extendedUrlData(store, url, mailbox, item.want);
  } catch (error) {
    if (error instanceof UrlError) return null;
    throw error;
  }
}

/** `(BODYPARTSTRUCTURE body BODY data)` or `(... BINARY data)`: the items asked for, in this order. */
function writeExtended(line: ResponseBuilder, data: ExtendedUrlData): void {
  const { structure, body, binary } = data;
  let first = true;
  const item = (name: string) => {
    line.text(first ? `(${name} ` : ` ${name} `);
    first = false;
  };
  if (structure !== undefined) {
    item('BODYPARTSTRUCTURE');
    line.value(structure);
  }
  if (body !== undefined) {
    item('BODY');
    nstring8(line, body);
  }
  if (binary !== undefined) {
    item('BINARY');
    if (binary === null) line.nil();
    else nstring8(line, binary);
  }
  line.text(first ? '()' : ')');
}

/** A literal, or a literal8 when the bytes hold NUL. */
function nstring8(line: ResponseBuilder, data: Buffer): void {
  line.literal(data, data.includes(0));
}
