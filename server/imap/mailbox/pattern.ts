/**
 * LIST / LSUB patterns (RFC 3501 6.3.8): `*` matches anything, `%` anything but the hierarchy
 * delimiter. Matching runs as a bit-parallel NFA over the pattern (no backtracking; each name
 * character costs a pass over the pattern's states 32 at a time), and patterns are bounded
 * (MAX_PATTERN_BYTES), so a hostile pattern such as `*a*a*a...*b` costs milliseconds, not seconds. INBOX is case-insensitive: the first five characters of a name in INBOX's
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

/** Longest LIST/LSUB pattern accepted (reference and pattern joined), in bytes; longer is BAD. */
export const MAX_PATTERN_BYTES = 1024;

/** Bit sets over the automaton's states, 32 states a word. */
type Bits = Uint32Array;

function bitsWith(words: number, positions: Iterable<number>): Bits {
  const bits = new Uint32Array(words);
  for (const position of positions) bits[position >>> 5]! |= 1 << (position & 31);
  return bits;
}

/**
 * The pattern as a bit-parallel NFA (shift-and): state j means "the first j tokens are matched".
 * Each name character costs one pass over ceil((tokens + 1) / 32) words whatever the pattern,
 * with no backtracking, so even a pattern at the length limit over thousands of names stays in
 * the milliseconds (the old one-state-at-a-time NFA took seconds on a long pattern).
 */
class PatternAutomaton {
  readonly words: number;
  /** States whose token is a literal equal to a code unit, by code unit. */
  readonly literalAt = new Map<number, Bits>();
  /** The same, by lower-cased code unit (INBOX's case-insensitive first five characters). */
  readonly foldedAt = new Map<number, Bits>();
  readonly starAt: Bits;
  readonly percentAt: Bits;
  readonly wildcardAt: Bits;
  readonly literals: number;

  constructor(readonly tokens: number[]) {
    this.words = ((tokens.length + 1 + 31) >>> 5) + 1;
    const positions = (keep: (token: number) => boolean) =>
      tokens.flatMap((token, index) => (keep(token) ? [index] : []));
    this.starAt = bitsWith(
      this.words,
      positions((token) => token === STAR),
    );
    this.percentAt = bitsWith(
      this.words,
      positions((token) => token === PERCENT),
    );
    this.wildcardAt = bitsWith(
      this.words,
      positions((token) => token < 0),
    );
    this.literals = tokens.filter((token) => token >= 0).length;
    tokens.forEach((token, index) => {
      if (token < 0) return;
      for (const [map, key] of [
        [this.literalAt, token],
        [this.foldedAt, lower(token)],
      ] as const) {
        let bits = map.get(key);
        if (!bits) map.set(key, (bits = new Uint32Array(this.words)));
        bits[index >>> 5]! |= 1 << (index & 31);
      }
    });
  }

  /** Adds the states reachable without input: a wildcard may match nothing (runs are collapsed). */
  close(states: Bits): void {
    let carry = 0;
    for (let w = 0; w < this.words; w++) {
      const moved = states[w]! & this.wildcardAt[w]!;
      states[w]! |= ((moved << 1) | carry) >>> 0;
      carry = moved >>> 31;
    }
  }

  /** One character: literals advance, wildcards stay (a `%` not on the delimiter). False: no state left. */
  step(current: Bits, next: Bits, code: number, folded: boolean, delimiter: number): boolean {
    const exact = this.literalAt.get(code);
    const caseless = folded ? this.foldedAt.get(lower(code)) : undefined;
    const percent = code !== delimiter;
    let carry = 0;
    let alive = 0;
    for (let w = 0; w < this.words; w++) {
      const states = current[w]!;
      const advancing = states & ((exact?.[w] ?? 0) | (caseless?.[w] ?? 0));
      const staying = states & (this.starAt[w]! | (percent ? this.percentAt[w]! : 0));
      const word = ((advancing << 1) | carry | staying) >>> 0;
      carry = advancing >>> 31;
      next[w] = word;
      alive |= word;
    }
    return alive !== 0;
  }

  accepts(states: Bits): boolean {
    const final = this.tokens.length;
    return (states[final >>> 5]! & (1 << (final & 31))) !== 0;
  }
}

/** Compiles a full pattern (reference already joined) into a matcher of decoded mailbox names. */
export function compilePattern(pattern: string): MailboxMatcher {
  const automaton = new PatternAutomaton(tokenize(pattern));
  const delimiter = MAILBOX_DELIMITER.charCodeAt(0);
  let current = new Uint32Array(automaton.words);
  let next = new Uint32Array(automaton.words);

  return (name) => {
    // Every literal of the pattern takes one character of the name: a shorter name cannot match.
    if (automaton.literals > name.length) return false;
    const foldInbox = isInboxTree(name);
    current.fill(0);
    current[0] = 1;
    automaton.close(current);
    for (let i = 0; i < name.length; i++) {
      const folded = foldInbox && i < INBOX.length;
      if (!automaton.step(current, next, name.charCodeAt(i), folded, delimiter)) return false;
      automaton.close(next);
      [current, next] = [next, current];
    }
    return automaton.accepts(current);
  };
}

/** One matcher for several patterns (LIST-EXTENDED pattern lists): a name matches any of them. */
export function compilePatterns(patterns: readonly string[]): MailboxMatcher {
  const matchers = patterns.map(compilePattern);
  return (name) => matchers.some((matches) => matches(name));
}
