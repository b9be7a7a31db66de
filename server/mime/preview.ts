/**
 * A message's preview (RFC 8970 PREVIEW): the start of what a reader would see first, for a
 * message list. The rule:
 * - the first text/plain or text/html leaf that is not an attachment, in MIME order, not looking
 *   inside attached messages; in a multipart/alternative the text/plain alternative is preferred;
 * - HTML loses its style and script elements, comments and tags, and the common entities are
 *   decoded;
 * - white space (line ends included) is collapsed to one space, and the text is cut to 256
 *   characters (code points), as RFC 8970 3 allows at most.
 * A message with no such part has the empty preview.
 */
import type { MimeIndex, MimePart } from './types.ts';
import { partText } from './text.ts';

export const PREVIEW_MAX_CHARS = 256;

function isTextLeaf(part: MimePart): boolean {
  const { type, subtype } = part.contentType;
  return (
    part.children.length === 0 &&
    type === 'text' &&
    (subtype === 'plain' || subtype === 'html') &&
    part.disposition?.type !== 'attachment'
  );
}

function firstTextPart(part: MimePart): MimePart | null {
  if (isTextLeaf(part)) return part;
  if (part.children.length === 0) return null;
  const { subtype } = part.contentType;
  if (subtype === 'alternative') {
    const plain = part.children.find((child) => isTextLeaf(child) && child.contentType.subtype === 'plain');
    if (plain) return plain;
  }
  for (const child of part.children) {
    const found = firstTextPart(child);
    if (found) return found;
  }
  return null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function htmlToText(html: string): string {
  return html
    .replace(/<(style|script)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1));
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
}

export function messagePreview(raw: Buffer, index: MimeIndex): string {
  const part = firstTextPart(index.root);
  if (!part) return '';
  const text = partText(raw, part);
  const plain = part.contentType.subtype === 'html' ? htmlToText(text) : text;
  const collapsed = plain.replace(/\s+/g, ' ').trim();
  return [...collapsed].slice(0, PREVIEW_MAX_CHARS).join('');
}
