/**
 * GENURLAUTH (RFC 4467 6.1): turns URL rumps (`imap://user@host/mailbox/;UID=n[/;SECTION=s]
 * [;EXPIRE=t];URLAUTH=access`) into URLAUTH URLs by appending `:INTERNAL:token`, all in one
 * untagged `* GENURLAUTH` line. A rump must name the user's own message on this server (the
 * mailbox's key is made on first use); otherwise `NO [BADURL rump]` and nothing is generated.
 */
import type { CommandHandler, ImapContext } from '../context.ts';
import { no } from '../errors.ts';
import type { GenUrlAuthCommand } from '../parser/index.ts';
import { badUrl } from '../url/catenate.ts';
import { parseImapUrl, UrlError } from '../url/parse.ts';
import { urlMailbox } from '../url/resolve.ts';
import { URLAUTH_MECHANISM, urlAuthToken } from '../url/urlauth.ts';

export const genUrlAuth: CommandHandler<GenUrlAuthCommand> = {
  states: ['authenticated', 'selected'],
  async run(ctx, command) {
    const urls: string[] = [];
    for (const { url, mechanism } of command.urls) {
      if (mechanism !== URLAUTH_MECHANISM) throw no(null, `Unknown URLAUTH mechanism ${mechanism}`);
      try {
        urls.push(await authorize(ctx, url));
      } catch (error) {
        if (error instanceof UrlError) throw badUrl(url, error.message);
        throw error;
      }
    }
    const line = ctx.builder().untagged().atom('GENURLAUTH');
    for (const url of urls) line.sp().string(url);
    await ctx.write(line.crlf());
    return { text: 'GENURLAUTH completed' };
  },
};

async function authorize(ctx: ImapContext, text: string): Promise<string> {
  const url = parseImapUrl(text);
  const { auth, server } = url;
  if (auth === null || auth.token !== null) throw new UrlError('A rump URL ends with ;URLAUTH=access');
  if (server === null || server.user === null) throw new UrlError('A URLAUTH URL names its server and user');
  const user = ctx.session.user!;
  if (server.host !== ctx.services.config.hostname.toLowerCase())
    throw new UrlError('The URL names another server');
  if (server.user.toLowerCase() !== user.username) throw new UrlError("The URL names another user's mailbox");
  const { store } = ctx.services;
  const mailbox = await urlMailbox(store, url, user, null);
  if ((await store.getMessage(mailbox.id, url.uid)) === null)
    throw new UrlError(`No message with UID ${url.uid}`);
  const key = (await store.urlAuthKey(mailbox.id, true))!;
  return `${auth.rump}:${URLAUTH_MECHANISM}:${urlAuthToken(key, auth.rump)}`;
}
