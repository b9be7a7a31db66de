/**
 * BINARY[part] content (RFC 3516): a leaf part with its Content-Transfer-Encoding undone. Choices
 * where the RFC leaves room, documented here:
 * - `BINARY[]` (the whole message) and multipart or message/rfc822 parts are returned as stored:
 *   a container has no transfer encoding of its own to undo.
 * - A part that does not exist gives null (answered as "", as BODY[] does, and BINARY.SIZE as 0).
 * - An encoding we cannot decode (x-uuencode, ...) is refused with NO [UNKNOWN-CTE], as Dovecot does.
 */
import { decodeTransfer, findSectionPart, type MimeIndex, type MimePart } from '../../mime/index.ts';
import { no } from '../errors.ts';

/** Encodings whose bytes are already the content. */
const IDENTITY_ENCODINGS = new Set(['7bit', '8bit', 'binary', '']);
const DECODED_ENCODINGS = new Set(['quoted-printable', 'base64']);

function isContainer(part: MimePart): boolean {
  return part.children.length > 0 || part.message !== null || part.contentType.type === 'multipart';
}

/** Where a BINARY part's content is: ready (null: no such part), or bytes still to decode. */
export type BinaryTarget =
  | { kind: 'ready'; content: Buffer | null }
  | { kind: 'decode'; start: number; end: number; encoding: string };

/** Finds the part and says what decoding it needs, without doing it (the pool may do it). */
export function binaryTarget(raw: Buffer, index: MimeIndex | null, part: readonly number[]): BinaryTarget {
  if (part.length === 0) return { kind: 'ready', content: raw };
  if (index === null) return { kind: 'ready', content: null };
  const target = findSectionPart(index.root, [...part]);
  if (target === null) return { kind: 'ready', content: null };
  const body = raw.subarray(target.bodyStart, target.bodyEnd);
  if (isContainer(target) || IDENTITY_ENCODINGS.has(target.encoding)) return { kind: 'ready', content: body };
  if (DECODED_ENCODINGS.has(target.encoding)) {
    return { kind: 'decode', start: target.bodyStart, end: target.bodyEnd, encoding: target.encoding };
  }
  throw no('UNKNOWN-CTE', `Cannot decode the Content-Transfer-Encoding of part ${part.join('.')}`);
}

/** The decoded content of a part, null when the part does not exist. */
export function binaryContent(raw: Buffer, index: MimeIndex | null, part: readonly number[]): Buffer | null {
  const target = binaryTarget(raw, index, part);
  if (target.kind === 'ready') return target.content;
  return decodeTransfer(raw.subarray(target.start, target.end), target.encoding);
}
