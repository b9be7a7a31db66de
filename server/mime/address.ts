/**
 * RFC 5322 address lists as IMAP ENVELOPE wants them: (name adl mailbox host) tuples, with groups as
 * (NIL NIL "group" NIL) ... (NIL NIL NIL NIL) markers (RFC 3501 7.4.2). The behaviour on broken
 * input follows Dovecot's message-address parser, the tie-breaker for what clients are used to: a
 * missing local part becomes "MISSING_MAILBOX", a missing domain "MISSING_DOMAIN", a broken
 * <angle address> gets the domain "SYNTAX_ERROR", and parsing stops at garbage between addresses.
 * Encoded words are left as they are. Input is a binary string (one char per byte).
 */
import { displayString } from './bytes.ts';

/** [name, adl (source route), mailbox, host]. */
export type AddressTuple = [string | null, string | null, string | null, string | null];

const SPECIALS = '()<>[]:;@\\,."';

function isAtext(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (ch === '' || c <= 0x20 || c === 0x7f) return false;
  return c >= 0x80 || !SPECIALS.includes(ch);
}

interface Address {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  domain: string | null;
  invalid: boolean;
}

function emptyAddress(): Address {
  return { name: null, route: null, mailbox: null, domain: null, invalid: false };
}

/** A cursor over the header value, with the RFC 5322 lexical pieces. */
class Scanner {
  pos = 0;
  /** Text of the last comment skipped: "user@host (Real Name)" names the address this way. */
  lastComment = '';

  constructor(readonly text: string) {}

  get atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** Skips whitespace and comments; false when the end is reached. */
  skipCfws(): boolean {
    for (;;) {
      const ch = this.peek();
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') this.pos++;
      else if (ch === '(') this.lastComment = this.readComment();
      else return !this.atEnd;
    }
  }

  private readComment(): string {
    let depth = 0;
    let content = '';
    while (!this.atEnd) {
      const ch = this.text[this.pos++] ?? '';
      if (ch === '\\') {
        content += this.text[this.pos++] ?? '';
        continue;
      }
      if (ch === '(' && depth++ === 0) continue;
      if (ch === ')' && --depth === 0) break;
      content += ch;
    }
    return content;
  }

  /** A quoted string's content, unescaped; the scanner must be at the opening quote. */
  readQuoted(): string {
    let content = '';
    this.pos++;
    while (!this.atEnd) {
      const ch = this.text[this.pos++] ?? '';
      if (ch === '"') break;
      if (ch === '\\') content += this.text[this.pos++] ?? '';
      else if (ch !== '\r' && ch !== '\n') content += ch;
    }
    this.skipCfws();
    return content;
  }

  /** A run of atext and dots (lenient dot-atom), or null when there is none. */
  readDotAtom(): string | null {
    const start = this.pos;
    while (isAtext(this.peek()) || this.peek() === '.') this.pos++;
    if (this.pos === start) return null;
    const atom = this.text.slice(start, this.pos);
    this.skipCfws();
    return atom;
  }

  /** Words (atoms, dots, quoted strings) joined by one space; "" when there are none. */
  readPhrase(): string {
    const words: string[] = [];
    for (;;) {
      if (this.peek() === '"') words.push(this.readQuoted());
      else {
        const atom = this.readDotAtom();
        if (atom === null) break;
        words.push(atom);
      }
    }
    return words.join(' ');
  }

  /** A domain: a dot-atom or a [domain literal], kept with its brackets. */
  readDomain(): string | null {
    this.skipCfws();
    if (this.peek() !== '[') return this.readDotAtom();
    const end = this.text.indexOf(']', this.pos);
    const stop = end < 0 ? this.text.length : end + 1;
    const literal = this.text.slice(this.pos, stop);
    this.pos = stop;
    this.skipCfws();
    return literal;
  }

  readLocalPart(): string | null {
    return this.peek() === '"' ? this.readQuoted() : this.readDotAtom();
  }
}

/** Parses an address list header value into ENVELOPE tuples; [] when it holds no address. */
export function parseAddressList(binary: string): AddressTuple[] {
  const scanner = new Scanner(binary);
  const addresses: Address[] = [];
  if (!scanner.skipCfws()) return [];
  for (;;) {
    parseAddress(scanner, addresses);
    if (scanner.atEnd || scanner.peek() !== ',') break;
    while (scanner.peek() === ',') {
      scanner.pos++;
      scanner.skipCfws();
    }
    if (scanner.atEnd) break;
  }
  return addresses.map(toTuple);
}

function toTuple(a: Address): AddressTuple {
  const show = (s: string | null): string | null => (s === null ? null : displayString(s));
  return [show(a.name), show(a.route), show(a.mailbox), show(a.domain)];
}

/** address = mailbox / group */
function parseAddress(scanner: Scanner, out: Address[]): void {
  const start = scanner.pos;
  const phrase = scanner.readPhrase();
  if (scanner.peek() === ':' && (phrase !== '' || start !== scanner.pos)) {
    parseGroup(scanner, phrase, out);
    return;
  }
  scanner.pos = start;
  out.push(parseMailbox(scanner));
}

/** group = display-name ":" [mailbox-list] ";" — the end marker is added even when ";" is missing. */
function parseGroup(scanner: Scanner, name: string, out: Address[]): void {
  scanner.pos++;
  out.push({ ...emptyAddress(), mailbox: name });
  scanner.skipCfws();
  while (!scanner.atEnd && scanner.peek() !== ';') {
    out.push(parseMailbox(scanner));
    if (scanner.peek() !== ',') break;
    while (scanner.peek() === ',') {
      scanner.pos++;
      scanner.skipCfws();
    }
  }
  if (scanner.peek() === ';') {
    scanner.pos++;
    scanner.skipCfws();
  }
  out.push(emptyAddress());
}

/** mailbox = name-addr / addr-spec */
function parseMailbox(scanner: Scanner): Address {
  const start = scanner.pos;
  let address = parseNameAddr(scanner);
  if (address === null) {
    scanner.pos = start;
    address = parseAddrSpec(scanner);
    // "Just a name" (no @domain, no comment): the word is a name rather than a mailbox.
    if (address.invalid && address.name === null && address.mailbox !== null && address.domain === null) {
      address.name = address.mailbox;
      address.mailbox = null;
    }
  }
  if (address.mailbox === null) address.mailbox = 'MISSING_MAILBOX';
  if (address.domain === null || address.domain === '') address.domain = 'MISSING_DOMAIN';
  return address;
}

/** name-addr = [display-name] "<" [route ":"] addr-spec ">"; null when there is no "<". */
function parseNameAddr(scanner: Scanner): Address | null {
  const phrase = scanner.readPhrase();
  if (scanner.peek() !== '<') return null;
  const address = emptyAddress();
  address.name = phrase === '' ? null : phrase;
  if (!parseAngleAddr(scanner, address)) {
    address.domain = 'SYNTAX_ERROR';
    address.invalid = true;
    // Resynchronise after the broken address so that the rest of the list can still be read.
    const close = scanner.text.indexOf('>', scanner.pos);
    if (close >= 0) scanner.pos = close + 1;
    scanner.skipCfws();
  }
  return address;
}

function parseAngleAddr(scanner: Scanner, address: Address): boolean {
  scanner.pos++;
  if (!scanner.skipCfws()) return false;
  if (scanner.peek() === '@') {
    address.route = readRoute(scanner);
    if (scanner.peek() === ':') scanner.pos++;
    else address.route = 'INVALID_ROUTE';
    if (!scanner.skipCfws()) return false;
  }
  if (scanner.peek() !== '>') {
    address.mailbox = scanner.readLocalPart();
    if (address.mailbox === null) return false;
    if (scanner.peek() === '@') {
      scanner.pos++;
      address.domain = scanner.readDomain();
      if (address.domain === null) return false;
    }
  }
  if (scanner.peek() !== '>') return false;
  scanner.pos++;
  scanner.skipCfws();
  return true;
}

/** obs-domain-list = "@" domain *("," [CFWS] "@" domain), returned as written: "@a,@b". */
function readRoute(scanner: Scanner): string {
  const domains: string[] = [];
  while (scanner.peek() === '@') {
    scanner.pos++;
    domains.push(`@${scanner.readDomain() ?? ''}`);
    while (scanner.peek() === ',') {
      scanner.pos++;
      scanner.skipCfws();
    }
  }
  return domains.join(',');
}

/** addr-spec = local-part "@" domain, possibly named by a trailing comment. */
function parseAddrSpec(scanner: Scanner): Address {
  const address = emptyAddress();
  scanner.lastComment = '';
  const quoted = scanner.peek() === '"';
  address.mailbox = scanner.readLocalPart();
  if (address.mailbox === null) address.invalid = true;
  let sawAt = false;
  if (address.mailbox !== null && scanner.peek() === '@') {
    sawAt = true;
    scanner.pos++;
    address.domain = scanner.readDomain();
    if (address.domain === null) address.invalid = true;
  }
  if (scanner.lastComment !== '') {
    address.name = scanner.lastComment;
  } else if (!sawAt && address.mailbox !== null) {
    // "user" alone is a mailbox without a domain; "John Smith" is a name without an address.
    const rest = scanner.readPhrase();
    if (rest !== '') {
      address.name = `${address.mailbox} ${rest}`;
      address.mailbox = null;
    } else if (!quoted) {
      address.domain = '';
    }
    address.invalid = true;
  }
  return address;
}
