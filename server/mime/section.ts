/**
 * IMAP BODY[section] extraction (RFC 3501 6.4.5) straight from the raw bytes and the index. The
 * bytes come back as stored; only HEADER.FIELDS[.NOT] builds a new buffer (the chosen lines plus the
 * blank line). A section that does not exist gives an empty buffer.
 */
import { CR, LF } from './bytes.ts';
import { parseHeaderFields, type HeaderField } from './header.ts';
import type { MimeIndex, MimePart } from './types.ts';

export type SectionText = 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

/** A parsed BODY[...] section: `part` is the dotted part number ([] for the message itself). */
export interface SectionSpec {
  part: number[];
  text: SectionText | null;
  /** Field names for HEADER.FIELDS and HEADER.FIELDS.NOT (any case). */
  fields?: string[];
}

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');

export function extractSection(raw: Buffer, index: MimeIndex, section: SectionSpec): Buffer {
  const target = findSectionPart(index.root, section.part);
  if (target === null) return EMPTY;
  const top = section.part.length === 0;
  switch (section.text) {
    case null:
      return top ? raw : raw.subarray(target.bodyStart, target.bodyEnd);
    case 'MIME':
      // For a message/rfc822 part this is its MIME header; for part 1 of a single-part message,
      // the message header (Dovecot's answer to a question RFC 3501 leaves open).
      return raw.subarray(target.headerStart, target.bodyStart);
    case 'HEADER':
    case 'TEXT':
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      return messageSection(raw, top ? target : target.message, section.text, section.fields ?? []);
  }
}

/** HEADER, TEXT and HEADER.FIELDS apply to a message: the top level or an encapsulated one. */
function messageSection(
  raw: Buffer,
  message: MimePart | null,
  text: Exclude<SectionText, 'MIME'>,
  fields: string[],
): Buffer {
  if (message === null) return EMPTY;
  switch (text) {
    case 'HEADER':
      return raw.subarray(message.headerStart, message.bodyStart);
    case 'TEXT':
      return raw.subarray(message.bodyStart, message.bodyEnd);
    case 'HEADER.FIELDS':
      return filterHeader(raw, message, fields, true);
    case 'HEADER.FIELDS.NOT':
      return filterHeader(raw, message, fields, false);
  }
}

/**
 * The part a section number names, walking as Dovecot does: a multipart's number N is its Nth
 * part; any other entity only has part 1, itself; a message/rfc822 part followed by more numbers
 * continues inside its encapsulated message. Null when there is no such part.
 */
export function findSectionPart(root: MimePart, path: number[]): MimePart | null {
  let part: MimePart | null = root;
  for (const [i, number] of path.entries()) {
    if (part === null || !Number.isInteger(number) || number < 1) return null;
    const more = i < path.length - 1;
    if (part.contentType.type === 'multipart') part = part.children[number - 1] ?? null;
    else if (number !== 1 || (more && part.message === null)) return null;
    if (part !== null && more && part.message !== null) part = part.message;
  }
  return part;
}

/** The header lines whose names are (or, for NOT, are not) in `names`, then the blank line. */
function filterHeader(raw: Buffer, message: MimePart, names: string[], include: boolean): Buffer {
  const fields = parseHeaderFields(raw, message.headerStart, message.bodyStart);
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const lineBreak = headerLineBreak(raw, message, fields);
  const chunks: Buffer[] = [];
  for (const field of fields) {
    if (wanted.has(field.key) !== include) continue;
    chunks.push(raw.subarray(field.start, field.end));
    if (raw[field.end - 1] !== LF) chunks.push(lineBreak);
  }
  chunks.push(lineBreak);
  return Buffer.concat(chunks);
}

/** The header's own blank line (so LF-only mail stays LF-only), or CRLF when it has none. */
function headerLineBreak(raw: Buffer, message: MimePart, fields: HeaderField[]): Buffer {
  const blankStart = fields.at(-1)?.end ?? message.headerStart;
  const blank = raw.subarray(blankStart, message.bodyStart);
  const isBreak = (blank.length === 1 && blank[0] === LF) || (blank.length === 2 && blank[0] === CR);
  return isBreak ? blank : CRLF;
}

/** BODY[...]<offset.length>: the slice of an extracted section (empty when the offset is past the end). */
export function partial(buf: Buffer, offset: number, length?: number): Buffer {
  const start = Math.min(Math.max(0, offset), buf.length);
  const end = length === undefined ? buf.length : Math.min(buf.length, start + Math.max(0, length));
  return buf.subarray(start, end);
}

/**
 * Parses the text between the brackets of BODY[...], e.g. "", "TEXT", "1.2", "1.2.MIME",
 * "HEADER.FIELDS (From Subject)". Null when it is not a valid section.
 */
export function parseSectionSpec(text: string): SectionSpec | null {
  const numbers = /^(?:[1-9]\d*)(?:\.[1-9]\d*)*/.exec(text)?.[0] ?? '';
  const part = numbers === '' ? [] : numbers.split('.').map(Number);
  let rest = text.slice(numbers.length);
  if (numbers !== '' && rest !== '') {
    if (!rest.startsWith('.') || rest === '.') return null;
    rest = rest.slice(1);
  }
  const upper = rest.toUpperCase();
  if (rest === '') return { part, text: null };
  if (upper === 'HEADER' || upper === 'TEXT') return { part, text: upper };
  if (upper === 'MIME') return part.length === 0 ? null : { part, text: 'MIME' };
  const fields = /^HEADER\.FIELDS(\.NOT)? \((.*)\)$/is.exec(rest);
  const names = fields === null ? null : parseFieldNames(fields[2] ?? '');
  if (fields === null || names === null || names.length === 0) return null;
  return { part, text: fields[1] === undefined ? 'HEADER.FIELDS' : 'HEADER.FIELDS.NOT', fields: names };
}

const FIELD_NAME = /"((?:[^"\\]|\\.)*)"|([^\s"()]+)/g;

/** A space-separated list of atoms or quoted strings; null when anything else is in it. */
function parseFieldNames(list: string): string[] | null {
  const names: string[] = [];
  for (const match of list.matchAll(FIELD_NAME)) {
    names.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] ?? ''));
  }
  return list.replace(FIELD_NAME, '').trim() === '' ? names : null;
}
