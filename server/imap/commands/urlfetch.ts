/**
 * URLFETCH (RFC 4467 6.3): the content of URLAUTH URLs, each answered with its data or NIL in one
 * untagged `* URLFETCH url data ...` line. A URL that is not honoured (bad syntax, another server,
 * expired, not for this user, a wrong token, a key reset, a message gone) gets NIL, never a reason.
 * Data holding a NUL byte goes out as a literal8 (as FETCH BINARY does).
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import type { UrlFetchCommand } from '../parser/index.ts';
import { parseImapUrl, UrlError } from '../url/parse.ts';
import { authorizedBytes } from '../url/urlauth.ts';

export const urlFetch: CommandHandler<UrlFetchCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const line = ctx.builder().untagged().atom('URLFETCH');
    for (const url of command.urls) {
      const data = await fetchUrl(ctx, url);
      line.sp().string(url).sp();
      if (data === null) line.nil();
      else line.literal(data, data.includes(0));
    }
    await ctx.write(line.crlf());
    return { text: 'URLFETCH completed' };
  },
};

async function fetchUrl(ctx: ImapContext, text: string): Promise<Buffer | null> {
  try {
    const accessor = { via: 'imap', username: ctx.session.user!.username } as const;
    return await authorizedBytes(
      ctx.services.store,
      ctx.services.config.hostname,
      parseImapUrl(text),
      accessor,
    );
  } catch (error) {
    if (error instanceof UrlError) return null;
    throw error;
  }
}
