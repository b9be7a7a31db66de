/**
 * Decoded text for SEARCH: header values with encoded words decoded, and the text of every text/*
 * part with transfer and charset encodings undone. Nothing here throws on odd input.
 */
import { buildIndex } from './build-index.ts';
import { decodeCharset } from './charset.ts';
import { decodeHeaderValue } from './encoded-word.ts';
import { parseHeaderFields, rawFieldValue } from './header.ts';
import { decodeTransfer } from './transfer.ts';
import type { MimeIndex, MimePart } from './types.ts';

export interface DecodedHeader {
  /** Lower-cased field name. */
  name: string;
  /** Unfolded, RFC 2047-decoded UTF-8 value, trimmed. */
  value: string;
}

/** The top-level header fields in order (lines without a colon are not fields and are left out). */
export function decodedHeaders(raw: Buffer, index: MimeIndex): DecodedHeader[] {
  const { root } = index;
  return parseHeaderFields(raw, root.headerStart, root.bodyStart)
    .filter((field) => field.valueStart >= 0)
    .map((field) => ({ name: field.key, value: decodeHeaderValue(rawFieldValue(raw, field)) }));
}

/**
 * The header fields of every entity, in order: the message's own, then, depth first, each part's
 * MIME header and each attached message's header. What SEARCH TEXT matches headers against.
 */
export function entityHeaders(raw: Buffer, index: MimeIndex): DecodedHeader[] {
  const headers = [...decodedHeaders(raw, index)];
  const visit = (part: MimePart): void => {
    for (const child of part.children) {
      headers.push(...decodedHeaders(raw, { ...index, root: child }));
      visit(child);
    }
    if (part.message !== null) {
      headers.push(...decodedHeaders(raw, { ...index, root: part.message }));
      visit(part.message);
    }
  };
  visit(index.root);
  return headers;
}

/**
 * The distinct words, lower-cased and split at white space, of everything SEARCH BODY and TEXT
 * look at (every entity's header fields as `name: value`, and the decoded body text): a body
 * containing a needle contains, as whole words, the needle's words that white space bounds on both
 * sides (a store's text index narrows BODY/TEXT searches with them; see server/store/types.ts).
 */
export function searchableWords(raw: Buffer, index: MimeIndex): string[] {
  const words = new Set<string>();
  const add = (text: string) => {
    for (const word of text.toLowerCase().split(/\s+/)) if (word !== '') words.add(word);
  };
  for (const header of entityHeaders(raw, index)) add(`${header.name}: ${header.value}`);
  add(decodedBodyText(raw, index));
  return [...words];
}

/**
 * The text of all text/* leaves, including those inside attached messages, one after another. HTML is
 * included as it is. A multipart whose parts could not be found counts as text, so its words stay
 * searchable.
 */
export function decodedBodyText(raw: Buffer, index: MimeIndex): string {
  const texts: string[] = [];
  collectText(raw, index.root, texts, 0);
  return texts.join('\n');
}

/** How many transfer-encoded attached messages deep we decode for text (each level is re-parsed). */
const MAX_ENCODED_MESSAGE_DEPTH = 4;

function collectText(raw: Buffer, part: MimePart, out: string[], encodedDepth: number): void {
  if (part.message !== null && !isTransferEncoded(part)) {
    collectText(raw, part.message, out, encodedDepth);
    return;
  }
  if (part.children.length > 0) {
    for (const child of part.children) collectText(raw, child, out, encodedDepth);
    return;
  }
  const { type, subtype } = part.contentType;
  if (type === 'text' || type === 'multipart') out.push(partText(raw, part));
  else if (type === 'message' && subtype === 'rfc822' && encodedDepth < MAX_ENCODED_MESSAGE_DEPTH) {
    // Some senders base64-encode attached messages: the index sees only encoded bytes, so the
    // message is decoded and indexed on the spot to make its text searchable all the same.
    const inner = decodeTransfer(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
    collectText(inner, buildIndex(inner).root, out, encodedDepth + 1);
  }
}

function isTransferEncoded(part: MimePart): boolean {
  return part.encoding === 'base64' || part.encoding === 'quoted-printable';
}

/** One leaf's body, transfer-decoded and charset-decoded to UTF-8. */
export function partText(raw: Buffer, part: MimePart): string {
  const body = decodeTransfer(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
  return decodeCharset(body, part.contentType.params.charset);
}
