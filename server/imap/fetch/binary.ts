/**
 * BINARY[part] content (RFC 3516): a leaf part with its Content-Transfer-Encoding undone. Choices
 * where the RFC leaves room, documented here:
 * - `BINARY[]` (the whole message) and multipart or message/rfc822 parts are returned as stored:
 *   a container has no transfer encoding of its own to undo.
 * - A part that does not exist gives null (answered as NIL, and BINARY.SIZE as 0).
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

/** The decoded content of a part, null when the part does not exist. */
export function binaryContent(raw: Buffer, index: MimeIndex | null, part: readonly number[]): Buffer | null {
  if (part.length === 0) return raw;
  if (index === null) return null;
  const target = findSectionPart(index.root, [...part]);
  if (target === null) return null;
  const body = raw.subarray(target.bodyStart, target.bodyEnd);
  if (isContainer(target) || IDENTITY_ENCODINGS.has(target.encoding)) return body;
  if (DECODED_ENCODINGS.has(target.encoding)) return decodeTransfer(body, target.encoding);
  throw no('UNKNOWN-CTE', `Cannot decode the Content-Transfer-Encoding of part ${part.join('.')}`);
}
