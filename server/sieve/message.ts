/**
 * The message as a Sieve script sees it: header fields (decoded, and editable by editheader, RFC
 * 5293), addresses in address headers, the body for the body test (RFC 5173), and the size. Built
 * on the MIME index the store keeps, so a delivery parses the message once.
 */
import { parseAddressList } from '../mime/address.ts';
import { buildIndex } from '../mime/build-index.ts';
import { displayString } from '../mime/bytes.ts';
import { decodeHeaderValue } from '../mime/encoded-word.ts';
import { parseHeaderFields, rawFieldValue } from '../mime/header.ts';
import { partText } from '../mime/text.ts';
import type { MimeIndex, MimePart } from '../mime/types.ts';

export interface SieveHeader {
  /** Field name as written. */
  name: string;
  /** Raw unfolded value (binary string), without the leading space. */
  value: string;
  /** The field's bytes as they arrived (binary string, line breaks included); absent when added. */
  source?: string;
}

export class SieveMessage {
  readonly index: MimeIndex;
  /** The header as the script currently sees it (editheader changes it). */
  headers: SieveHeader[];
  readonly size: number;

  constructor(readonly raw: Buffer) {
    this.index = buildIndex(raw);
    const { root } = this.index;
    this.headers = parseHeaderFields(raw, root.headerStart, root.bodyStart)
      .filter((field) => field.valueStart >= 0)
      .map((field) => ({
        name: field.name,
        value: rawFieldValue(raw, field),
        source: raw.subarray(field.start, field.end).toString('latin1'),
      }));
    this.size = raw.length;
  }

  /** Raw values of the fields named `name` (case-insensitive), in order. */
  rawValues(name: string): string[] {
    const key = name.toLowerCase();
    return this.headers.filter((header) => header.name.toLowerCase() === key).map((header) => header.value);
  }

  /** Decoded values (RFC 2047 words decoded, trimmed) of the fields named `name`. */
  headerValues(name: string): string[] {
    return this.rawValues(name).map((value) => decodeHeaderValue(value));
  }

  /** The addresses (local@domain, group markers left out) of each field named `name`, per field. */
  addresses(name: string): string[][] {
    return this.rawValues(name).map((value) =>
      parseAddressList(value)
        .filter((tuple) => tuple[2] !== null && tuple[3] !== null)
        .map((tuple) => displayString(`${tuple[2]}@${tuple[3]}`)),
    );
  }

  /** The body as text per RFC 5173: :raw is undecoded, :text the text parts, :content by type. */
  body(transform: 'raw' | 'text' | 'content', types: string[]): string[] {
    const { root } = this.index;
    if (transform === 'raw')
      return [displayString(this.raw.subarray(root.bodyStart, root.bodyEnd).toString('latin1'))];
    const wanted = transform === 'text' ? ['text'] : types.map((type) => type.toLowerCase());
    const texts: string[] = [];
    collectParts(this.raw, root, wanted, texts);
    return texts;
  }
}

function typeMatches(part: MimePart, wanted: string[]): boolean {
  const { type, subtype } = part.contentType;
  return wanted.some((entry) => entry === '' || entry === type || entry === `${type}/${subtype}`);
}

function collectParts(raw: Buffer, part: MimePart, wanted: string[], out: string[]): void {
  if (part.children.length > 0) {
    for (const child of part.children) collectParts(raw, child, wanted, out);
    return;
  }
  if (part.message !== null) {
    collectParts(raw, part.message, wanted, out);
    return;
  }
  if (typeMatches(part, wanted)) out.push(partText(raw, part));
}

/**
 * The message with the header the script left (editheader): fields it did not touch keep their
 * bytes, added ones are written "Name: value" and folded by nobody (values are one line).
 */
export function messageWithHeaders(message: SieveMessage): Buffer {
  const { root } = message.index;
  const header = message.headers.map((field) => field.source ?? `${field.name}: ${field.value}\r\n`).join('');
  const blankLine =
    message.raw.subarray(root.bodyStart - 2, root.bodyStart).toString('latin1') === '\r\n' ? '\r\n' : '\n';
  return Buffer.concat([Buffer.from(header + blankLine, 'latin1'), message.raw.subarray(root.bodyStart)]);
}

/** Splits an address into local part and domain at the last "@". */
export function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf('@');
  return at < 0
    ? { local: address, domain: '' }
    : { local: address.slice(0, at), domain: address.slice(at + 1) };
}
