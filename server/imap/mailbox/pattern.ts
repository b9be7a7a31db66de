/**
 * LIST / LSUB patterns (RFC 3501 6.3.8): `*` matches anything, `%` anything but the hierarchy
 * delimiter. Matching runs as a small NFA over the pattern (time linear in name × pattern), so a
 * hostile pattern such as `*a*a*a*a*b` cannot make it backtrack exponentially the way a regular
 * expression would. INBOX is case-insensitive: the first five characters of a name in INBOX's
 * tree ("INBOX", "INBOX/...") match pattern letters in any case, as Dovecot does.
 */
import { MAILBOX_DELIMITER } from '../../store/types.ts';

const STAR = -1;
const PERCENT = -2;
const INBOX = 'INBOX';

export type MailboxMatcher = (name: string) => boolean;

/**
 * The pattern as tokens: a code unit, or a wildcard. Runs of wildcards collapse (`**` and `%*`
 * mean `*`, `%%` means `%`), which keeps the automaton small without changing what matches.
 */
function tokenize(pattern: string): number[] {
  const tokens: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const token = c === '*' ? STAR : c === '%' ? PERCENT : pattern.charCodeAt(i);
    const last = tokens[tokens.length - 1];
    if (token < 0 && last !== undefined && last < 0) {
      tokens[tokens.length - 1] = last === STAR || token === STAR ? STAR : PERCENT;
    } else {
      tokens.push(token);
    }
  }
  return tokens;
}

function isInboxTree(name: string): boolean {
  return name === INBOX || name.startsWith(INBOX + MAILBOX_DELIMITER);
}

const lower = (code: number): number => (code >= 0x41 && code <= 0x5a ? code + 0x20 : code);

/** Compiles a full pattern (reference already joined) into a matcher of decoded mailbox names. */
export function compilePattern(pattern: string): MailboxMatcher {
  const tokens = tokenize(pattern);
  const size = tokens.length;
  const delimiter = MAILBOX_DELIMITER.charCodeAt(0);

  /** Adds the states reachable without input: a wildcard may match nothing. */
  const close = (states: Uint8Array): void => {
    for (let j = 0; j < size; j++) if (states[j] && tokens[j]! < 0) states[j + 1] = 1;
  };

  return (name) => {
    const foldInbox = isInboxTree(name);
    let current = new Uint8Array(size + 1);
    let next = new Uint8Array(size + 1);
    current[0] = 1;
    close(current);
    for (let i = 0; i < name.length; i++) {
      const code = name.charCodeAt(i);
      const folded = foldInbox && i < INBOX.length;
      next.fill(0);
      let alive = false;
      for (let j = 0; j < size; j++) {
        if (!current[j]) continue;
        const token = tokens[j]!;
        if (token === STAR || (token === PERCENT && code !== delimiter)) {
          next[j] = 1;
          alive = true;
        } else if (token === code || (folded && token >= 0 && lower(token) === lower(code))) {
          next[j + 1] = 1;
          alive = true;
        }
      }
      if (!alive) return false;
      close(next);
      [current, next] = [next, current];
    }
    return current[size] === 1;
  };
}

/** One matcher for several patterns (LIST-EXTENDED pattern lists): a name matches any of them. */
export function compilePatterns(patterns: readonly string[]): MailboxMatcher {
  const matchers = patterns.map(compilePattern);
  return (name) => matchers.some((matches) => matches(name));
}
