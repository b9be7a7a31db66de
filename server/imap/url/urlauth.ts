/**
 * URLAUTH (RFC 4467): URLs that carry their own authorization, so that someone other than the
 * owner (a submission server sending a message with BURL, another user, anyone) can read one
 * message or part, and nothing else.
 *
 * The only mechanism is INTERNAL: the token is HMAC-SHA256, keyed with the mailbox's secret random
 * key (the store's urlAuthKey, made on the first GENURLAUTH and forgotten by RESETKEY), over the
 * rump URL (everything up to and including the access identifier), in hex. A URL is honoured when
 * it is absolute and names this server and its owner, has not expired, the token matches the
 * mailbox's current key, and the access identifier admits the one asking:
 *
 * - `anonymous`: anyone; `authuser`: any user logged in to this server;
 * - `user+name`: that user, over IMAP; `submit+name`: the submission server sending for that user.
 *
 * Every failure is a UrlError (URLFETCH answers NIL, CATENATE and BURL refuse); the reasons stay
 * on this side: a guessed token and an unknown mailbox look the same to the asker.
 */
import crypto from 'node:crypto';
import type { Mailbox, Store } from '../../store/types.ts';
import { UrlError, type ImapUrl } from './parse.ts';
import { urlBytes, urlMailbox } from './resolve.ts';

export const URLAUTH_MECHANISM = 'INTERNAL';

/** Who asks for a URL's content: a user over IMAP, or the submission server for a user. */
export interface UrlAccessor {
  via: 'imap' | 'submit';
  /** The logged-in user's name (lower-cased). */
  username: string;
}

/** The INTERNAL token of a rump URL under a mailbox key. */
export function urlAuthToken(key: Buffer, rump: string): string {
  return crypto.createHmac('sha256', key).update(rump, 'utf8').digest('hex');
}

export function accessAllows(access: string, accessor: UrlAccessor): boolean {
  if (access === 'anonymous' || access === 'authuser') return true;
  const plus = access.indexOf('+');
  const kind = access.slice(0, plus);
  const name = access.slice(plus + 1).toLowerCase();
  if (kind === 'user') return accessor.via === 'imap' && accessor.username === name;
  if (kind === 'submit') return accessor.via === 'submit' && accessor.username === name;
  return false;
}

/** The owner and mailbox of a URLAUTH URL whose token checks out; UrlError otherwise. */
export async function authorizedMailbox(
  store: Store,
  hostname: string,
  url: ImapUrl,
  accessor: UrlAccessor,
  now = new Date(),
): Promise<Mailbox> {
  const auth = url.auth;
  if (auth === null || auth.token === null || auth.mechanism === null) {
    throw new UrlError('Not an authorized URL');
  }
  if (url.server === null || url.server.user === null)
    throw new UrlError('A URLAUTH URL names its server and user');
  if (url.server.host !== hostname.toLowerCase()) throw new UrlError('The URL names another server');
  if (auth.mechanism !== URLAUTH_MECHANISM) throw new UrlError('Unknown URLAUTH mechanism');
  if (auth.expire !== null && auth.expire.getTime() <= now.getTime())
    throw new UrlError('The URL has expired');
  if (!accessAllows(auth.access, accessor)) throw new UrlError('The URL is not for this user');
  const owner = await store.getUserByUsername(url.server.user.toLowerCase());
  if (owner === null || owner.disabled) throw new UrlError('No such mailbox');
  const mailbox = await urlMailbox(store, url, owner, null);
  const key = await store.urlAuthKey(mailbox.id, false);
  if (key === null || !sameToken(urlAuthToken(key, auth.rump), auth.token)) {
    throw new UrlError('The URL is not authorized');
  }
  return mailbox;
}

/** The bytes of an authorized URL. */
export async function authorizedBytes(
  store: Store,
  hostname: string,
  url: ImapUrl,
  accessor: UrlAccessor,
): Promise<Buffer> {
  const mailbox = await authorizedMailbox(store, hostname, url, accessor);
  return urlBytes(store, url, mailbox);
}

function sameToken(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(given.toLowerCase(), 'latin1');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
