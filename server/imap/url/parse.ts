/**
 * IMAP URLs naming a message or a part of one (RFC 5092 `imessagepart`), as CATENATE (RFC 4469)
 * and URLAUTH (RFC 4467) take them. Three forms are read:
 *
 * - absolute: `imap://[user[;AUTH=mech]@]host[:port]/Drafts;UIDVALIDITY=385759045/;UID=20/;SECTION=1`
 * - absolute path (this server): `/Drafts;UIDVALIDITY=385759045/;UID=20/;SECTION=1`
 * - relative to the selected mailbox (RFC 5092 7.1): `;UID=20/;SECTION=1`
 *
 * followed by an optional `/;PARTIAL=offset[.length]` (RFC 5092 ipartial) and, for URLAUTH, the
 * `[;EXPIRE=date-time];URLAUTH=access[:mech:token]` tail. Keywords are case-insensitive; the
 * mailbox name is percent-encoded UTF-8 (RFC 5092 3.1). Pure: no store, no session.
 */

export interface ImapUrl {
  /** `imap://` form only: the user named before `@` (null when none) and the host. */
  server: { user: string | null; host: string; port: number | null } | null;
  /** The mailbox (UTF-8), or null for a URL relative to the selected mailbox. */
  mailbox: string | null;
  uidValidity: number | null;
  uid: number;
  /** The section as written (percent-decoded), e.g. `1.2` or `HEADER.FIELDS (FROM)`. */
  section: string | null;
  partial: { offset: number; length: number | null } | null;
  /** The URLAUTH tail (RFC 4467), when present. */
  auth: UrlAuthPart | null;
}

export interface UrlAuthPart {
  expire: Date | null;
  /** `anonymous`, `authuser`, `user+name`, `submit+name` (lower-cased keyword). */
  access: string;
  /** `INTERNAL` (upper-cased) and the hex token; null in a rump URL. */
  mechanism: string | null;
  token: string | null;
  /** The URL up to and including the access identifier: what the token is computed over. */
  rump: string;
}

export class UrlError extends Error {}

const SERVER_RE = /^imap:\/\/(?:([^@/]*)@)?([^:/@]+)(?::(\d+))?(\/.*)$/i;
const PATH_RE = /^\/([^;]+?)(?:;UIDVALIDITY=(\d+))?(\/;UID=.*)$/i;
const MESSAGE_RE =
  /^\/?;UID=(\d+)(?:\/;SECTION=([^/;]+))?(?:\/;PARTIAL=(\d+)(?:\.(\d+))?)?((?:;EXPIRE=[^;/]+)?;URLAUTH=[^/]*)?$/i;
const AUTH_RE = /^(?:;EXPIRE=([^;]+))?;URLAUTH=([^:;]+)(?::([^:;]+):([^:;]+))?$/i;
const ACCESS_RE = /^(anonymous|authuser|(?:user|submit)\+.+)$/i;
const MAX_UINT32 = 0xffffffff;

export function parseImapUrl(text: string): ImapUrl {
  let rest = text;
  let server: ImapUrl['server'] = null;
  const absolute = SERVER_RE.exec(rest);
  if (absolute) {
    server = {
      user: absolute[1] === undefined ? null : userOf(absolute[1]),
      host: absolute[2]!.toLowerCase(),
      port: absolute[3] === undefined ? null : number(absolute[3], 65535),
    };
    rest = absolute[4]!;
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(rest)) {
    throw new UrlError('Only imap: URLs are supported');
  }
  let mailbox: string | null = null;
  let uidValidity: number | null = null;
  const path = PATH_RE.exec(rest);
  if (path) {
    mailbox = decode(path[1]!);
    if (mailbox.toUpperCase() === 'INBOX') mailbox = 'INBOX';
    uidValidity = path[2] === undefined ? null : number(path[2]);
    rest = path[3]!;
  } else if (server || rest.startsWith('/')) {
    throw new UrlError('The URL names no message (mailbox;UIDVALIDITY=n/;UID=m)');
  }
  const message = MESSAGE_RE.exec(rest);
  if (!message) throw new UrlError('The URL names no message (;UID=m[/;SECTION=s][/;PARTIAL=o.l])');
  const [, uid, section, offset, length, authText] = message;
  const partial =
    offset === undefined
      ? null
      : { offset: number(offset), length: length === undefined ? null : number(length) };
  if (partial?.length === 0) throw new UrlError('A PARTIAL length is at least 1');
  let auth: UrlAuthPart | null = null;
  if (authText !== undefined) {
    const rumpEnd = text.length - authText.length + authText.search(/;URLAUTH=/i) + ';URLAUTH='.length;
    auth = parseAuth(authText, text.slice(0, rumpEnd));
  }
  return {
    server,
    mailbox,
    uidValidity,
    uid: number(uid!, MAX_UINT32, 1),
    section: section === undefined ? null : decode(section),
    partial,
    auth,
  };
}

function parseAuth(text: string, beforeAccess: string): UrlAuthPart {
  const match = AUTH_RE.exec(text);
  if (!match) throw new UrlError('Invalid URLAUTH part');
  const [, expireText, accessText, mechanism, token] = match;
  const access = decode(accessText!);
  if (!ACCESS_RE.test(access)) throw new UrlError(`Unknown URLAUTH access identifier "${access}"`);
  let expire: Date | null = null;
  if (expireText !== undefined) {
    expire = new Date(decode(expireText));
    // RFC 3339 date-time: a bare date or a local time without offset is not one.
    if (
      Number.isNaN(expire.getTime()) ||
      !/T\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(decode(expireText))
    ) {
      throw new UrlError('Invalid EXPIRE date-time (RFC 3339, e.g. 2026-12-31T23:59:59Z)');
    }
  }
  return {
    expire,
    access: access.replace(/^[a-z]+/i, (keyword) => keyword.toLowerCase()),
    mechanism: mechanism === undefined ? null : mechanism.toUpperCase(),
    token: token === undefined ? null : token,
    rump: beforeAccess + accessText!,
  };
}

/** `user` or `user;AUTH=mech` (RFC 5092 iuserinfo), percent-decoded. */
function userOf(userinfo: string): string {
  const semicolon = userinfo.search(/;AUTH=/i);
  const user = semicolon === -1 ? userinfo : userinfo.slice(0, semicolon);
  return decode(user);
}

function number(digits: string, max = MAX_UINT32, min = 0): number {
  const value = digits.length > 10 ? Infinity : Number(digits);
  if (value < min || value > max) throw new UrlError(`Number out of range: ${digits}`);
  return value;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UrlError('Invalid percent-encoding in the URL');
  }
}
