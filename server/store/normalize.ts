/**
 * Engine-agnostic rules of the store contract: how names, addresses, flags and UID ranges are
 * normalised and validated. Both engines use these so they agree byte for byte on what is stored.
 */
import { StoreError } from './errors.ts';
import { MAILBOX_DELIMITER, type Flag, type SpecialUse, type UidRange } from './types.ts';

export const INBOX = 'INBOX';
/** Longest mailbox path accepted, in UTF-8 bytes. */
export const MAX_MAILBOX_PATH_BYTES = 1000;
/** Deepest mailbox hierarchy accepted. */
export const MAX_MAILBOX_DEPTH = 32;
export const MAX_USERNAME_LENGTH = 254;
/** UIDs and MODSEQs are unsigned 32/63-bit values; clamp open-ended ranges to what JS counts exactly. */
export const MAX_UID = Number.MAX_SAFE_INTEGER;

const SPECIAL_USES: ReadonlySet<string> = new Set(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']);
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/;
/** "%" and "*" are LIST wildcards: a name containing them could not be listed unambiguously. */
const MAILBOX_FORBIDDEN = /[%*]/;

function invalid(message: string): never {
  throw new StoreError('INVALID', message);
}

/**
 * Validates a mailbox path and spells INBOX canonically ("inbox/x" becomes "INBOX/x", as the
 * INBOX name is case-insensitive in IMAP). Throws INVALID for a malformed path.
 */
export function normalizeMailboxPath(path: string): string {
  if (typeof path !== 'string' || path.length === 0) invalid('empty mailbox name');
  if (Buffer.byteLength(path, 'utf8') > MAX_MAILBOX_PATH_BYTES) invalid('mailbox name too long');
  if (CONTROL_CHARS.test(path)) invalid('control character in mailbox name');
  if (MAILBOX_FORBIDDEN.test(path)) invalid('wildcard character in mailbox name');
  const segments = path.split(MAILBOX_DELIMITER);
  if (segments.length > MAX_MAILBOX_DEPTH) invalid('mailbox hierarchy too deep');
  if (segments.some((segment) => segment.length === 0)) invalid('empty segment in mailbox name');
  if (segments[0]!.toUpperCase() === INBOX) segments[0] = INBOX;
  return segments.join(MAILBOX_DELIMITER);
}

/** Like normalizeMailboxPath, but null for a malformed path (for look-ups, where it cannot exist). */
export function tryNormalizeMailboxPath(path: string): string | null {
  try {
    return normalizeMailboxPath(path);
  } catch {
    return null;
  }
}

export function isInbox(normalizedPath: string): boolean {
  return normalizedPath === INBOX;
}

/** The ancestors of a normalised path, outermost first ("a/b/c" → ["a", "a/b"]). */
export function parentPaths(normalizedPath: string): string[] {
  const segments = normalizedPath.split(MAILBOX_DELIMITER);
  const parents: string[] = [];
  for (let depth = 1; depth < segments.length; depth++) {
    parents.push(segments.slice(0, depth).join(MAILBOX_DELIMITER));
  }
  return parents;
}

/** True when `path` is `ancestor` itself or lies below it. */
export function isSameOrDescendant(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(ancestor + MAILBOX_DELIMITER);
}

export function validateSpecialUse(specialUse: SpecialUse | null | undefined): SpecialUse | null {
  if (specialUse === undefined || specialUse === null) return null;
  if (!SPECIAL_USES.has(specialUse)) invalid(`unknown special-use ${String(specialUse)}`);
  return specialUse;
}

// --- users and addresses ---

/**
 * A user name as stored: trimmed, Unicode NFC (so a name typed on a keyboard that composes "é" as
 * e + U+0301 is the same name as the precomposed one, as the login key of server/auth/login-key.ts
 * spells it) and lower case.
 */
export function normalizeUsername(username: string): string {
  const normalized = typeof username === 'string' ? username.normalize('NFC').trim().toLowerCase() : '';
  if (normalized.length === 0) invalid('empty username');
  if (normalized.length > MAX_USERNAME_LENGTH) invalid('username too long');
  if (WHITESPACE_OR_CONTROL.test(normalized)) invalid('whitespace or control character in username');
  return normalized;
}

export interface ParsedAddress {
  /** Lower-cased, `*@domain` for a catch-all. */
  address: string;
  local: string;
  domain: string;
  catchAll: boolean;
}

/** Parses `local@domain` or `*@domain`; INVALID otherwise. */
export function parseAddress(address: string): ParsedAddress {
  const normalized = typeof address === 'string' ? address.trim().toLowerCase() : '';
  const at = normalized.lastIndexOf('@');
  if (at <= 0 || at === normalized.length - 1) invalid(`malformed address ${JSON.stringify(address)}`);
  if (WHITESPACE_OR_CONTROL.test(normalized)) invalid('whitespace or control character in address');
  const local = normalized.slice(0, at);
  const domain = normalized.slice(at + 1);
  if (domain.includes('@')) invalid('malformed domain');
  if (normalized.length > MAX_USERNAME_LENGTH) invalid('address too long');
  return { address: normalized, local, domain, catchAll: local === '*' };
}

/**
 * The addresses to try for a recipient, in order: exact, without "+tag", the domain's catch-all.
 * A bare name without "@" is tried as is (usernames need not be addresses).
 */
export function recipientCandidates(recipient: string): string[] {
  const normalized = typeof recipient === 'string' ? recipient.trim().toLowerCase() : '';
  if (normalized.length === 0) return [];
  const at = normalized.lastIndexOf('@');
  if (at < 0) return [normalized];
  const local = normalized.slice(0, at);
  const domain = normalized.slice(at + 1);
  const candidates = [normalized];
  const plus = local.indexOf('+');
  if (plus > 0) candidates.push(`${local.slice(0, plus)}@${domain}`);
  if (domain.length > 0) candidates.push(`*@${domain}`);
  return candidates;
}

// --- flags ---

const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;
const SYSTEM_FLAG_BY_KEY = new Map<string, string>(SYSTEM_FLAGS.map((flag) => [flag.toLowerCase(), flag]));
const RECENT_KEY = '\\recent';
/** IMAP atom-specials (but "\" which starts system flags, and "]" which is allowed in flags). */
// eslint-disable-next-line no-control-regex
const FLAG_FORBIDDEN = /[\s\u0000-\u001f\u007f(){%*"]/;

export const SEEN = '\\Seen';
export const DELETED = '\\Deleted';

/** The comparison key of a flag: flags and keywords are case-insensitive in IMAP. */
export function flagKey(flag: Flag): string {
  return flag.toLowerCase();
}

/**
 * System flags spelled canonically, \Recent dropped (it is session state, never stored), duplicates
 * removed case-insensitively (the first spelling of a keyword wins). INVALID for a malformed flag.
 */
export function normalizeFlags(flags: readonly Flag[] | undefined): Flag[] {
  const seen = new Set<string>();
  const result: Flag[] = [];
  for (const flag of flags ?? []) {
    if (typeof flag !== 'string' || flag.length === 0 || flag === '\\') invalid('empty flag');
    if (FLAG_FORBIDDEN.test(flag) || flag.indexOf('\\', 1) >= 0)
      invalid(`malformed flag ${JSON.stringify(flag)}`);
    const key = flagKey(flag);
    if (key === RECENT_KEY || seen.has(key)) continue;
    seen.add(key);
    result.push(SYSTEM_FLAG_BY_KEY.get(key) ?? flag);
  }
  return result;
}

/** Keywords are the flags that are not system flags (they do not start with "\"). */
export function keywordsOf(flags: readonly Flag[]): Flag[] {
  return flags.filter((flag) => !flag.startsWith('\\'));
}

export function hasFlag(flags: readonly Flag[], flag: Flag): boolean {
  const key = flagKey(flag);
  return flags.some((candidate) => flagKey(candidate) === key);
}

/** The flags after an add/remove/set; both inputs already normalised. */
export function applyFlagOperation(
  current: readonly Flag[],
  operation: 'add' | 'remove' | 'set',
  flags: readonly Flag[],
): Flag[] {
  switch (operation) {
    case 'set':
      return [...flags];
    case 'add':
      return [...current, ...flags.filter((flag) => !hasFlag(current, flag))];
    case 'remove':
      return current.filter((flag) => !hasFlag(flags, flag));
  }
}

/** Same set of flags, ignoring order and case. */
export function sameFlags(a: readonly Flag[], b: readonly Flag[]): boolean {
  return a.length === b.length && a.every((flag) => hasFlag(b, flag));
}

// --- UID sets ---

/** Sorted, merged, clamped ranges (overlapping and adjacent ranges joined, empty ones dropped). */
export function mergeUidRanges(ranges: readonly UidRange[]): UidRange[] {
  const sorted = ranges
    .map((range) => ({
      from: Math.max(1, Math.min(range.from, range.to)),
      to: Math.min(MAX_UID, Math.max(range.from, range.to)),
    }))
    .filter((range) => range.from <= range.to)
    .sort((a, b) => a.from - b.from);
  const merged: UidRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.from <= last.to + 1) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  return merged;
}

/** Distinct positive integer UIDs, ascending (unknown or malformed ones simply match nothing). */
export function sortedUniqueUids(uids: readonly number[]): number[] {
  return [...new Set(uids.filter((uid) => Number.isSafeInteger(uid) && uid > 0))].sort((a, b) => a - b);
}

/** A user's quota in bytes (0 = none). */
export function validateQuota(quotaBytes: number | undefined): number {
  if (quotaBytes === undefined) return 0;
  if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0) {
    throw new StoreError('INVALID', 'quota must be a non-negative integer');
  }
  return quotaBytes;
}

/** An argon2id (or other) hash as the auth layer made it: never empty. */
export function validatePasswordHash(passwordHash: string): string {
  if (typeof passwordHash !== 'string' || passwordHash.length === 0) {
    throw new StoreError('INVALID', 'empty password hash');
  }
  return passwordHash;
}

/** A display name (may be empty). */
export function validateName(name: string | undefined): string {
  if (name === undefined) return '';
  if (typeof name !== 'string') throw new StoreError('INVALID', 'name must be a string');
  return name;
}
