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

/** Style and script elements and comments, in one left-to-right pass. */
const HIDDEN = /<(style|script)\b[^>]*>[\s\S]*?<\/\1\s*>|<!--[\s\S]*?-->/gi;
const HIDDEN_OPENER = /<(?:style|script)\b|<!--/i;

export function htmlToText(html: string): string {
  return html
    .replace(HIDDEN, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : Number(name.slice(1));
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
}

/**
 * The start of an HTML text cut where what follows cannot change the text before the cut: before
 * a style, script or comment that is not closed within it (its end would hide what follows it),
 * and before a tag that is not.
 */
function safeHtmlPrefix(html: string): string {
  let settled = 0;
  for (const match of html.matchAll(HIDDEN)) settled = match.index + match[0].length;
  const opener = HIDDEN_OPENER.exec(html.slice(settled));
  const hidden = opener ? html.slice(0, settled + opener.index) : html;
  // And before a tag left open: a long one (a data: URL) would otherwise read as text.
  const lastTag = hidden.lastIndexOf('<');
  return lastTag >= 0 && hidden.indexOf('>', lastTag) < 0 ? hidden.slice(0, lastTag) : hidden;
}

/** The first `max` code points of `text`, without splitting the whole text into an array. */
function firstCodePoints(text: string, max: number): string {
  let count = 0;
  let end = 0;
  while (end < text.length && count < max) {
    end += (text.codePointAt(end) ?? 0) > 0xffff ? 2 : 1;
    count += 1;
  }
  return text.slice(0, end);
}

function countCodePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) if ((text.charCodeAt(i) & 0xfc00) !== 0xdc00) count += 1;
  return count;
}

/** Bytes of the encoded body read first; a short text after markup widens it fourfold. */
const FIRST_WINDOW = 8192;
/** Code points beyond the preview that must come out of a window: a cut spoils only its very end. */
const SLACK = 64;

/**
 * The text of the part's start, as what a person reads: cheap for a long body because only a
 * window of its start is decoded. A window is enough when its text goes SLACK code points past
 * the preview: the cut (mid-character, mid-escape, mid-tag, mid-entity) only alters the text at
 * its end, and a style, script or comment left open is cut away before it is read.
 */
function previewOf(raw: Buffer, part: MimePart): string {
  const html = part.contentType.subtype === 'html';
  for (let window = FIRST_WINDOW; ; window *= 4) {
    const end = Math.min(part.bodyEnd, part.bodyStart + window);
    const whole = end === part.bodyEnd;
    const window_ = { ...part, bodyEnd: end };
    const decoded = partText(raw, window_);
    const text = html ? htmlToText(whole ? decoded : safeHtmlPrefix(decoded)) : decoded;
    const collapsed = text.replace(/\s+/g, ' ').trim();
    if (whole) return firstCodePoints(collapsed, PREVIEW_MAX_CHARS);
    const enough = firstCodePoints(collapsed, PREVIEW_MAX_CHARS + SLACK);
    if (countCodePoints(enough) >= PREVIEW_MAX_CHARS + SLACK)
      return firstCodePoints(collapsed, PREVIEW_MAX_CHARS);
  }
}

export function messagePreview(raw: Buffer, index: MimeIndex): string {
  const part = firstTextPart(index.root);
  return part ? previewOf(raw, part) : '';
}
