/**
 * Header fields of one header block, located by byte offsets so that HEADER.FIELDS can return the
 * lines exactly as stored, and with their values unfolded for everything else.
 */
import { binaryString, contentEnd, isBlankLine, lineEnd, SP, TAB } from './bytes.ts';

export interface HeaderField {
  /** Field name as written (binary string), without the LWSP some writers put before the colon. */
  name: string;
  /** Lower-cased name, for lookups. */
  key: string;
  /** Offset of the field's first byte. */
  start: number;
  /** Offset just after the field's last line (including its line break, when it has one). */
  end: number;
  /** Offset just after the colon, or -1 for a line without one. */
  valueStart: number;
}

const COLON = 0x3a;

/**
 * Splits the header block [start, end) into fields. The block stops early at a blank line; lines that
 * begin with a space or tab continue the previous field (RFC 5322 folding). A line without a colon
 * is kept as a field with no value, as Dovecot does, so that it never swallows the lines after it.
 */
export function parseHeaderFields(raw: Buffer, start: number, end: number): HeaderField[] {
  const fields: HeaderField[] = [];
  let pos = start;
  while (pos < end && !isBlankLine(raw, pos)) {
    const next = lineEnd(raw, pos, end);
    const last = fields[fields.length - 1];
    if (last !== undefined && (raw[pos] === SP || raw[pos] === TAB)) {
      last.end = next;
    } else {
      fields.push(newField(raw, pos, next));
    }
    pos = next;
  }
  return fields;
}

function newField(raw: Buffer, start: number, next: number): HeaderField {
  const lineContentEnd = contentEnd(raw, start, next);
  const colon = raw.indexOf(COLON, start);
  const hasColon = colon >= 0 && colon < lineContentEnd;
  const name = binaryString(raw, start, hasColon ? colon : lineContentEnd).replace(/[ \t]+$/, '');
  return { name, key: name.toLowerCase(), start, end: next, valueStart: hasColon ? colon + 1 : -1 };
}

/**
 * The field's value unfolded, as a binary string: line breaks removed, the whitespace that began each
 * continuation line kept (RFC 5322 unfolding), leading whitespace skipped. Like Dovecot, a value
 * made only of whitespace keeps all but its first whitespace char.
 */
export function rawFieldValue(raw: Buffer, field: HeaderField): string {
  if (field.valueStart < 0) return '';
  let value = '';
  let pos = field.valueStart;
  while (pos < field.end) {
    const next = lineEnd(raw, pos, field.end);
    value += binaryString(raw, pos, contentEnd(raw, pos, next));
    pos = next;
  }
  const trimmed = value.replace(/^[ \t]+/, '');
  if (trimmed === '' && /^[ \t]/.test(value)) return value.slice(1);
  return trimmed;
}

/** The value of the last field with this (lower-case) name, or null (ENVELOPE keeps the last, as Dovecot). */
export function lastValue(raw: Buffer, fields: HeaderField[], key: string): string | null {
  for (let i = fields.length - 1; i >= 0; i--) {
    const field = fields[i];
    if (field !== undefined && field.key === key) return rawFieldValue(raw, field);
  }
  return null;
}
