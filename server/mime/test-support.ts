/**
 * Helpers shared by the MIME tests (not used by the server): corpus loading, an IMAP-like rendering of
 * nested lists for golden files a human can check against RFC 3501, and the structural invariants
 * every index must satisfy, whatever the input.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import { countLines } from './bytes.ts';
import { parseHeaderFields } from './header.ts';
import { decodedBodyText, decodedHeaders, extractSection, parseSectionSpec } from './index.ts';
import type { MimeIndex, MimePart, NestedValue } from './types.ts';

export const CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url));

export function corpusNames(): string[] {
  return readdirSync(CORPUS_DIR)
    .filter((name) => name.endsWith('.eml'))
    .map((name) => name.slice(0, -4))
    .sort();
}

export function readCorpus(name: string): Buffer {
  return readFileSync(`${CORPUS_DIR}${name}.eml`);
}

/** Renders a nested list the way an IMAP server would write it (one space between all items). */
export function formatNested(value: NestedValue): string {
  if (value === null) return 'NIL';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `"${value.replace(/[\\"]/g, '\\$&')}"`;
  return `(${value.map(formatNested).join(' ')})`;
}

/** Every entity of the tree in document order: parts and encapsulated messages. */
export function allParts(root: MimePart): MimePart[] {
  const out: MimePart[] = [];
  const visit = (part: MimePart): void => {
    out.push(part);
    if (part.message !== null) visit(part.message);
    part.children.forEach(visit);
  };
  visit(root);
  return out;
}

/** Bytes as readable text when they are UTF-8 without NULs, else tagged base64. */
function showBytes(buf: Buffer): string {
  return isUtf8(buf) && !buf.includes(0) ? buf.toString('utf8') : `base64:${buf.toString('base64')}`;
}

function describePart(part: MimePart, isMessage: boolean): string {
  const type = `${part.contentType.type}/${part.contentType.subtype}`;
  const label = isMessage ? `${part.path || '(top)'} message` : part.path || '(top)';
  const extra = [
    Object.keys(part.contentType.params).length > 0 ? JSON.stringify(part.contentType.params) : '',
    part.disposition === null ? '' : `disposition ${JSON.stringify(part.disposition)}`,
  ].filter((s) => s !== '');
  const offsets = `header ${part.headerStart}-${part.bodyStart} body ${part.bodyStart}-${part.bodyEnd}`;
  return [label, type, offsets, `lines ${part.lines}`, part.encoding, ...extra].join(' ');
}

/** The sections a golden file records: each part and its MIME header, and each message's header and text. */
function goldenSections(index: MimeIndex): string[] {
  const sections = [
    'HEADER.FIELDS (From Subject)',
    'HEADER.FIELDS.NOT (From Subject Received X-Long X-Folded)',
  ];
  const visit = (part: MimePart, isMessage: boolean): void => {
    if (isMessage && part.path !== '') {
      sections.push(`${part.path}.HEADER`, `${part.path}.TEXT`, `${part.path}.HEADER.FIELDS (subject)`);
    } else if (!isMessage && part.path !== '') {
      sections.push(part.path, `${part.path}.MIME`);
    }
    if (part.message !== null) visit(part.message, true);
    part.children.forEach((child) => visit(child, false));
  };
  visit(index.root, true);
  if (index.root.children.length === 0) sections.push('1', '1.MIME', '2');
  else sections.push(String(index.root.children.length + 1));
  return sections;
}

export interface Golden {
  size: number;
  parts: string[];
  envelope: string;
  bodystructure: string;
  body: string;
  subject: string;
  from: string;
  date: string | null;
  messageId: string | null;
  headers: string[];
  text: string;
  sections: Record<string, string>;
}

export function goldenOf(raw: Buffer, index: MimeIndex): Golden {
  const messages = new Set<MimePart>([index.root]);
  for (const part of allParts(index.root)) if (part.message !== null) messages.add(part.message);
  const sections: Record<string, string> = {};
  for (const spec of goldenSections(index)) {
    const parsed = parseSectionSpec(spec);
    if (parsed === null) throw new Error(`bad section ${spec}`);
    sections[spec] = showBytes(extractSection(raw, index, parsed));
  }
  return {
    size: raw.length,
    parts: allParts(index.root).map((part) => describePart(part, messages.has(part))),
    envelope: formatNested(index.envelope),
    bodystructure: formatNested(index.bodyStructure),
    body: formatNested(index.body),
    subject: index.subject,
    from: index.from,
    date: index.date === null ? null : new Date(index.date).toISOString(),
    messageId: index.messageId,
    headers: decodedHeaders(raw, index).map((h) => `${h.name}: ${h.value}`),
    text: decodedBodyText(raw, index),
    sections,
  };
}

/** Violations of the structural invariants (empty when all hold). */
export function invariantViolations(raw: Buffer, index: MimeIndex): string[] {
  const problems: string[] = [];
  const fail = (part: MimePart, what: string): void => {
    problems.push(`${part.path || '(top)'}: ${what}`);
  };
  const { root } = index;
  if (root.headerStart !== 0 || root.bodyEnd !== raw.length)
    fail(root, 'top level does not span the message');
  checkEntity(raw, root, true, fail);
  checkSections(raw, index, problems);
  checkStructureSizes(index.root, index.bodyStructure, fail);
  return problems;
}

type Fail = (part: MimePart, what: string) => void;

function checkEntity(raw: Buffer, part: MimePart, isMessage: boolean, fail: Fail): void {
  if (!(0 <= part.headerStart && part.headerStart <= part.bodyStart)) fail(part, 'header start out of order');
  if (!(part.bodyStart <= part.bodyEnd && part.bodyEnd <= raw.length)) fail(part, 'body out of bounds');
  checkHeaderHasNoBlankLine(raw, part, fail);
  if (part.contentType.type === 'text' && part.lines !== countLines(raw, part.bodyStart, part.bodyEnd)) {
    fail(part, 'line count');
  }
  if (part.message !== null) {
    const m = part.message;
    if (m.headerStart !== part.bodyStart || m.bodyEnd !== part.bodyEnd)
      fail(part, 'message does not fill body');
    const expected = !isMessage ? part.path : part.path === '' ? '1' : `${part.path}.1`;
    if (m.path !== expected) fail(part, `message path should be ${expected}`);
    checkEntity(raw, m, true, fail);
  }
  let previousEnd = part.bodyStart;
  part.children.forEach((child, i) => {
    const expected = part.path === '' ? String(i + 1) : `${part.path}.${i + 1}`;
    if (child.path !== expected) fail(child, `path should be ${expected}`);
    if (child.headerStart < previousEnd || child.bodyEnd > part.bodyEnd) fail(child, 'outside parent');
    if (!followsBoundaryLine(raw, child.headerStart)) fail(child, 'not after a boundary line');
    if (!precedesBoundaryLine(raw, child.bodyEnd, part.bodyEnd)) fail(child, 'not before a boundary line');
    previousEnd = child.bodyEnd;
    checkEntity(raw, child, false, fail);
  });
}

function checkHeaderHasNoBlankLine(raw: Buffer, part: MimePart, fail: Fail): void {
  const fields = parseHeaderFields(raw, part.headerStart, part.bodyStart);
  const fieldsEnd = fields.at(-1)?.end ?? part.headerStart;
  const rest = raw.subarray(fieldsEnd, part.bodyStart).toString('latin1');
  if (!['', '\n', '\r\n'].includes(rest)) fail(part, `header ends with ${JSON.stringify(rest)}`);
}

/** The line just before `pos` starts with "--" (a part's header follows its opening boundary line). */
function followsBoundaryLine(raw: Buffer, pos: number): boolean {
  if (pos === 0 || raw[pos - 1] !== 0x0a) return false;
  const lineStart = raw.lastIndexOf(0x0a, pos - 2) + 1;
  return raw[lineStart] === 0x2d && raw[lineStart + 1] === 0x2d;
}

/** After `pos`, an optional line break and then "--" (a boundary line), or the end of the parent. */
function precedesBoundaryLine(raw: Buffer, pos: number, parentEnd: number): boolean {
  if (pos === parentEnd) return true;
  let at = pos;
  if (raw[at] === 0x0d && raw[at + 1] === 0x0a) at += 2;
  else if (raw[at] === 0x0a) at += 1;
  return raw[at] === 0x2d && raw[at + 1] === 0x2d;
}

function section(raw: Buffer, index: MimeIndex, spec: string): Buffer {
  const parsed = parseSectionSpec(spec);
  if (parsed === null) throw new Error(`bad section ${spec}`);
  return extractSection(raw, index, parsed);
}

function checkSections(raw: Buffer, index: MimeIndex, problems: string[]): void {
  if (!section(raw, index, '').equals(raw)) problems.push('BODY[] is not the message');
  const headerAndText = Buffer.concat([section(raw, index, 'HEADER'), section(raw, index, 'TEXT')]);
  if (!headerAndText.equals(raw)) problems.push('HEADER + TEXT is not the message');
  const encapsulated = new Set(allParts(index.root).flatMap((p) => (p.message === null ? [] : [p.message])));
  for (const part of allParts(index.root)) {
    if (part.path === '') continue;
    const whole = raw.subarray(part.headerStart, part.bodyEnd);
    const mimeAndBody = Buffer.concat([
      section(raw, index, `${part.path}.MIME`),
      section(raw, index, part.path),
    ]);
    // An encapsulated message shares its path with its rfc822 part; the part's own MIME header wins.
    if (part.message === null && !encapsulated.has(part) && !mimeAndBody.equals(whole)) {
      problems.push(`${part.path}: MIME + body is not the part`);
    }
  }
}

/** BODYSTRUCTURE sizes must be the stored body sizes. */
function checkStructureSizes(part: MimePart, structure: NestedValue[], fail: Fail): void {
  if (part.contentType.type === 'multipart') {
    part.children.forEach((child, i) => {
      const sub = structure[i];
      if (Array.isArray(sub)) checkStructureSizes(child, sub, fail);
      else fail(child, 'missing in BODYSTRUCTURE');
    });
    return;
  }
  if (structure[6] !== part.bodyEnd - part.bodyStart) fail(part, 'BODYSTRUCTURE size');
  const inner = structure[8];
  if (part.message !== null && Array.isArray(inner)) checkStructureSizes(part.message, inner, fail);
}
