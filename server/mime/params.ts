/**
 * Content-Type and Content-Disposition values: "type/subtype; name=value; ..." with RFC 2231
 * continuations and charsets. Two views are produced from the same parse:
 * - wire params, for BODYSTRUCTURE: continuations merged but values left encoded ("name*" =
 *   "utf-8''%E2%82%AC"), exactly as Dovecot answers, so clients decode them as they always have;
 * - decoded params, for MimePart: one UTF-8 value per lower-cased name, RFC 2231 and (tolerated,
 *   though not allowed there) RFC 2047 decoded.
 * Input strings are binary (one char per byte); parsing is lenient, since senders are.
 */
import { displayString } from './bytes.ts';
import { decodeCharset, decodeUnlabelled } from './charset.ts';
import { decodeEncodedWords } from './encoded-word.ts';

/** A parameter as written (binary strings), name lower-cased. */
export interface WireParam {
  name: string;
  value: string;
}

export interface ParsedHeaderValue {
  /** The leading token (lower-cased), e.g. "text/plain" split later, or "attachment". */
  head: string;
  wireParams: WireParam[];
  params: Record<string, string>;
}

const TSPECIALS = '()<>@,;:\\"/[]?=';

/** True for an RFC 2045 token: printable US-ASCII without spaces and tspecials. */
export function isToken(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || TSPECIALS.includes(s[i] ?? '')) return false;
  }
  return true;
}

/** Parses "head; a=b; c=d", where head is "type/subtype" or a disposition type. */
export function parseHeaderValue(binary: string): ParsedHeaderValue {
  const segments = splitTopLevel(binary);
  const first = stripComments(segments[0] ?? '')
    .trim()
    .replace(/[ \t]*\/[ \t]*/, '/');
  // Tolerate a missing ";" after the head ("multipart/mixed boundary=x"): the rest is a parameter.
  const space = first.search(/[ \t]/);
  const head = (space < 0 ? first : first.slice(0, space)).toLowerCase();
  const rest = space < 0 ? [] : [first.slice(space + 1)];
  const raw = [...rest, ...segments.slice(1)].map(parseParam).filter((p): p is WireParam => p !== null);
  return { head, wireParams: mergeForWire(raw), params: decodeParams(raw) };
}

/** Splits at ";" outside quoted strings and comments. */
function splitTopLevel(value: string): string[] {
  const segments: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? '';
    if (ch === '\\' && (quoted || depth > 0)) {
      current += ch + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"' && depth === 0) quoted = !quoted;
    else if (ch === '(' && !quoted) depth++;
    else if (ch === ')' && !quoted && depth > 0) depth--;
    else if (ch === ';' && !quoted && depth === 0) {
      segments.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  segments.push(current);
  return segments;
}

/** Removes RFC 5322 comments outside quoted strings. */
function stripComments(value: string): string {
  let out = '';
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? '';
    if (ch === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += ch + (value[i + 1] ?? '');
      i++;
    } else if (ch === '"' && depth === 0) {
      quoted = !quoted;
      out += ch;
    } else if (ch === '(' && !quoted) {
      depth++;
    } else if (ch === ')' && !quoted && depth > 0) {
      depth--;
    } else if (depth === 0) {
      out += ch;
    }
  }
  return out;
}

function parseParam(segment: string): WireParam | null {
  const eq = segment.indexOf('=');
  if (eq < 0) return null;
  const name = stripComments(segment.slice(0, eq)).trim().toLowerCase();
  if (!isToken(name.replace(/\*/g, 'x'))) return null;
  const rawValue = segment.slice(eq + 1).replace(/^[ \t]+/, '');
  const value = rawValue.startsWith('"') ? unquote(rawValue) : stripComments(rawValue).trim();
  return { name, value };
}

/** Content of a leading quoted string, backslash escapes removed; an unterminated one runs to the end. */
function unquote(value: string): string {
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const ch = value[i] ?? '';
    if (ch === '\\') {
      out += value[i + 1] ?? '';
      i++;
    } else if (ch === '"') {
      break;
    } else {
      out += ch;
    }
  }
  return out;
}

interface Section {
  base: string;
  index: number;
  extended: boolean;
  value: string;
}

/** "name*2*" → { base: "name", index: 2, extended: true }; null for a plain name. */
function rfc2231Section(param: WireParam): Section | null {
  const match = /^([^*]+)\*(\d*)(\*?)$/.exec(param.name);
  if (match === null) return null;
  const digits = match[2] ?? '';
  // "name*" alone is an extended single value, as is "name*0*"; "name*0" is a plain first section.
  const extended = digits === '' || match[3] === '*';
  return { base: match[1] ?? '', index: digits === '' ? 0 : Number(digits), extended, value: param.value };
}

/** Groups RFC 2231 sections by base name, each group sorted by section number. */
function groupSections(params: WireParam[]): Map<string, Section[]> {
  const groups = new Map<string, Section[]>();
  for (const param of params) {
    const section = rfc2231Section(param);
    if (section === null) continue;
    const group = groups.get(section.base) ?? [];
    group.push(section);
    groups.set(section.base, group);
  }
  for (const group of groups.values()) group.sort((a, b) => a.index - b.index);
  return groups;
}

/**
 * Dovecot's merge (rfc2231_parse): plain params first in order, then each RFC 2231 group sorted by
 * name, joined into one "name*" value when any section is extended (plain sections then get their
 * "%" escaped, and a leading "''" when the first is plain), or one "name" value otherwise. A group
 * with missing section numbers is left as its separate sections.
 */
function mergeForWire(params: WireParam[]): WireParam[] {
  const plain = params.filter((p) => rfc2231Section(p) === null);
  const groups = [...groupSections(params).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const merged = groups.flatMap(([base, sections]) => mergeGroupForWire(base, sections));
  return [...plain, ...merged];
}

function mergeGroupForWire(base: string, sections: Section[]): WireParam[] {
  const contiguous = sections.every((s, i) => s.index === i);
  if (!contiguous) {
    return sections.map((s) => ({ name: `${base}*${s.index}${s.extended ? '*' : ''}`, value: s.value }));
  }
  const anyExtended = sections.some((s) => s.extended);
  if (!anyExtended) return [{ name: base, value: sections.map((s) => s.value).join('') }];
  const lead = sections[0]?.extended === false ? "''" : '';
  const value = lead + sections.map((s) => (s.extended ? s.value : s.value.replace(/%/g, '%25'))).join('');
  return [{ name: `${base}*`, value }];
}

/**
 * One decoded value per name. An RFC 2231 value wins over a plain one of the same name (senders add
 * the plain one for old readers); among duplicates the first wins.
 */
function decodeParams(params: WireParam[]): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const param of params) {
    if (rfc2231Section(param) !== null || param.name in decoded) continue;
    decoded[param.name] = param.value.includes('=?')
      ? decodeEncodedWords(param.value)
      : displayString(param.value);
  }
  for (const [base, sections] of groupSections(params)) decoded[base] = decodeSections(sections);
  return decoded;
}

/** Joins sections; extended ones are %-encoded bytes in the charset named by the first section. */
function decodeSections(sections: Section[]): string {
  let charset = '';
  const chunks: Buffer[] = [];
  for (const [i, section] of sections.entries()) {
    let value = section.value;
    const declared = section.extended && i === 0 ? /^([^']*)'[^']*'(.*)$/s.exec(value) : null;
    if (declared !== null) {
      charset = declared[1] ?? '';
      value = declared[2] ?? '';
    }
    chunks.push(section.extended ? percentDecode(value) : Buffer.from(value, 'latin1'));
  }
  const bytes = Buffer.concat(chunks);
  return charset === '' ? decodeUnlabelled(bytes) : decodeCharset(bytes, charset);
}

function percentDecode(value: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value[i] === '%' ? value.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(value.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}
