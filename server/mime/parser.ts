/**
 * The part tree of a message, with exact byte offsets into the raw bytes. A hand-written parser over
 * the whole Buffer: the message is always in memory, and offsets must be exact whatever the line
 * endings, so no streaming and no normalisation.
 *
 * Boundary rules follow RFC 2046 as Dovecot applies it, since clients have long been served by it:
 * - a boundary line starts with "--" + boundary; only the prefix has to match, and when the
 *   boundaries of several open multiparts match, the longest wins (the innermost on a tie);
 * - the line break before a boundary line belongs to the boundary, not to the part before it;
 * - a boundary of an outer multipart ends every part inside it, even in the middle of a header;
 * - a closing boundary ("--b--") ends its multipart; the epilogue after it is the multipart's body.
 * Broken input never throws: a missing closing boundary runs to the end, a multipart whose
 * boundary is missing or never found has no children, and nesting is capped.
 */
import { contentEnd, countLines, DASH, isBlankLine, LF, lineBreakBefore, lineEnd } from './bytes.ts';
import { readContentHeaders, type EntityKind } from './content-headers.ts';
import { parseHeaderFields, type HeaderField } from './header.ts';
import type { WireParam } from './params.ts';
import type { MimePart } from './types.ts';

/** Deeper nesting is indexed as opaque leaves: no real mail needs it, and recursion must stay bounded. */
export const MAX_DEPTH = 64;
/** More parts than this are left inside their parent's body, to bound the index of a hostile message. */
export const MAX_PARTS = 10_000;

/** What BODYSTRUCTURE and ENVELOPE need beyond the MimePart itself. */
export interface PartExtras {
  fields: HeaderField[];
  typeParams: WireParam[];
  dispositionParams: WireParam[];
}

export interface ParsedMessage {
  root: MimePart;
  extras: Map<MimePart, PartExtras>;
}

/** The boundary of a multipart being parsed; its identity tells whose boundary a line is. */
interface OpenBoundary {
  delimiter: Buffer;
}

interface BoundaryLine {
  lineStart: number;
  /** Offset just after the line (after its line break). */
  lineEnd: number;
  boundary: OpenBoundary;
  closing: boolean;
}

interface Context {
  raw: Buffer;
  /** Boundaries of the multiparts being parsed, outermost first. */
  open: OpenBoundary[];
  partCount: number;
  extras: Map<MimePart, PartExtras>;
}

interface Entity {
  path: string;
  depth: number;
  kind: EntityKind;
}

interface Parsed {
  part: MimePart;
  /** The boundary line that ended this entity, or null when it ran to the end of the message. */
  end: BoundaryLine | null;
}

export function parseMessage(raw: Buffer): ParsedMessage {
  const ctx: Context = { raw, open: [], partCount: 0, extras: new Map() };
  const { part } = parseEntity(ctx, 0, { path: '', depth: 0, kind: { isMessage: true, inDigest: false } });
  return { root: part, extras: ctx.extras };
}

/** One entity: a header, then a body that is a leaf, a multipart or an encapsulated message. */
function parseEntity(ctx: Context, start: number, entity: Entity): Parsed {
  ctx.partCount++;
  const header = scanHeader(ctx, start);
  const fields = parseHeaderFields(ctx.raw, start, header.bodyStart);
  const content = readContentHeaders(ctx.raw, fields, entity.kind);
  const part: MimePart = {
    path: entity.path,
    headerStart: start,
    bodyStart: header.bodyStart,
    bodyEnd: header.bodyStart,
    contentType: content.contentType,
    encoding: content.encoding,
    id: content.id,
    description: content.description,
    md5: content.md5,
    disposition: content.disposition,
    language: content.language,
    location: content.location,
    lines: 0,
    children: [],
    message: null,
  };
  ctx.extras.set(part, {
    fields,
    typeParams: content.typeParams,
    dispositionParams: content.dispositionParams,
  });
  let end = header.end;
  if (end === null) end = parseBody(ctx, part, content.boundary, entity);
  else if (isRfc822(part)) part.message = emptyMessage(ctx, part);
  if (part.contentType.type === 'text' || isRfc822(part)) {
    part.lines = countLines(ctx.raw, part.bodyStart, part.bodyEnd);
  }
  return { part, end };
}

export function isRfc822(part: MimePart): boolean {
  return part.contentType.type === 'message' && part.contentType.subtype === 'rfc822';
}

/**
 * Finds where the header ends: after the blank line, at the end of the message, or at a boundary
 * line of an enclosing multipart, in which case the line break before it belongs to the boundary.
 */
function scanHeader(ctx: Context, start: number): { bodyStart: number; end: BoundaryLine | null } {
  const { raw } = ctx;
  let pos = start;
  let previousBreak = 0;
  while (pos < raw.length) {
    const boundary = matchBoundaryLine(ctx, pos);
    if (boundary !== null) return { bodyStart: Math.max(start, pos - previousBreak), end: boundary };
    const next = lineEnd(raw, pos);
    if (isBlankLine(raw, pos)) return { bodyStart: next, end: null };
    previousBreak = next - contentEnd(raw, pos, next);
    pos = next;
  }
  return { bodyStart: raw.length, end: null };
}

function parseBody(
  ctx: Context,
  part: MimePart,
  boundary: Buffer | null,
  entity: Entity,
): BoundaryLine | null {
  const canDescend = entity.depth < MAX_DEPTH && ctx.partCount < MAX_PARTS;
  if (boundary !== null && canDescend) return parseMultipartBody(ctx, part, boundary, entity);
  if (isRfc822(part) && canDescend) {
    const inner = parseEntity(ctx, part.bodyStart, {
      // A body part's encapsulated message takes the part's number (RFC 3501); but the body of a
      // message is its part 1, so a message that is itself message/rfc822 holds part "<path>.1".
      path: entity.kind.isMessage ? childPath(part.path, 1) : part.path,
      depth: entity.depth + 1,
      kind: { isMessage: true, inDigest: false },
    });
    part.message = inner.part;
    part.bodyEnd = inner.part.bodyEnd;
    return inner.end;
  }
  const end = findBoundaryLine(ctx, part.bodyStart);
  part.bodyEnd = bodyEndBefore(ctx, end, part.bodyStart);
  return end;
}

/**
 * The preamble, the parts between our boundary lines, the epilogue; until an outer boundary or the end.
 * Where the body stops before a boundary line depends on what came just before that line: the line
 * break before it belongs to the boundary, unless it already ended something else (a part header
 * with no body, or our own closing boundary line), which is why each step carries `endBeforeLine`.
 */
function parseMultipartBody(
  ctx: Context,
  part: MimePart,
  delimiter: Buffer,
  entity: Entity,
): BoundaryLine | null {
  const own: OpenBoundary = { delimiter };
  const level = ctx.open.length;
  ctx.open.push(own);
  let line = findBoundaryLine(ctx, part.bodyStart);
  let endBeforeLine = bodyEndBefore(ctx, line, part.bodyStart);
  for (;;) {
    if (line !== null && line.boundary === own && !line.closing && ctx.raw[line.lineEnd - 1] !== LF) {
      // A boundary line cut off by the end of the message opens nothing (Dovecot waits for its LF).
      line = null;
      endBeforeLine = ctx.raw.length;
    }
    if (line === null || line.boundary !== own) {
      // The end of the message, or an enclosing multipart's boundary: we end here too, and the
      // owner of that boundary will forget ours.
      if (line === null) ctx.open.length = level;
      part.bodyEnd = endBeforeLine;
      return line;
    }
    if (line.closing) {
      ctx.open.length = level;
      const outer = findBoundaryLine(ctx, line.lineEnd);
      part.bodyEnd = bodyEndBefore(ctx, outer, line.lineEnd);
      return outer;
    }
    // Boundaries of unclosed multiparts inside the previous part are forgotten (as Dovecot does).
    ctx.open.length = level + 1;
    if (ctx.partCount < MAX_PARTS) {
      const child = parseChild(ctx, part, line, entity);
      line = child.end;
      endBeforeLine = child.part.bodyEnd;
    } else {
      const from = line.lineEnd;
      line = findBoundaryLine(ctx, from);
      endBeforeLine = bodyEndBefore(ctx, line, from);
    }
  }
}

/** Where a body whose content was searched from `from` stops: before `line`, or at the message end. */
function bodyEndBefore(ctx: Context, line: BoundaryLine | null, from: number): number {
  return line === null ? ctx.raw.length : endBefore(ctx, line, from);
}

function parseChild(ctx: Context, parent: MimePart, opening: BoundaryLine, entity: Entity): Parsed {
  const child = parseEntity(ctx, opening.lineEnd, {
    path: childPath(parent.path, parent.children.length + 1),
    depth: entity.depth + 1,
    kind: { isMessage: false, inDigest: parent.contentType.subtype === 'digest' },
  });
  parent.children.push(child.part);
  return child;
}

function childPath(path: string, number: number): string {
  return path === '' ? String(number) : `${path}.${number}`;
}

/** The encapsulated message of a message/rfc822 part whose header was cut short by a boundary. */
function emptyMessage(ctx: Context, part: MimePart): MimePart {
  const message: MimePart = {
    ...part,
    headerStart: part.bodyStart,
    contentType: { type: 'text', subtype: 'plain', params: { charset: 'us-ascii' } },
    encoding: '7bit',
    id: null,
    description: null,
    md5: null,
    disposition: null,
    language: null,
    location: null,
    children: [],
    message: null,
  };
  ctx.extras.set(message, { fields: [], typeParams: [], dispositionParams: [] });
  return message;
}

/** Where a body ends before a boundary line: before the line break that belongs to the boundary. */
function endBefore(ctx: Context, line: BoundaryLine, floor: number): number {
  return Math.max(floor, line.lineStart - lineBreakBefore(ctx.raw, line.lineStart, floor));
}

const LF_DASH_DASH = Buffer.from('\n--');

/** The first boundary line of any open multipart at or after `from`, which must be a line start. */
function findBoundaryLine(ctx: Context, from: number): BoundaryLine | null {
  if (ctx.open.length === 0) return null;
  let lineStart = from;
  while (lineStart < ctx.raw.length) {
    const line = matchBoundaryLine(ctx, lineStart);
    if (line !== null) return line;
    const next = ctx.raw.indexOf(LF_DASH_DASH, lineStart);
    if (next < 0) return null;
    lineStart = next + 1;
  }
  return null;
}

/** The boundary that the line at `lineStart` opens or closes, if any (longest prefix match wins). */
function matchBoundaryLine(ctx: Context, lineStart: number): BoundaryLine | null {
  const { raw, open } = ctx;
  if (open.length === 0 || raw[lineStart] !== DASH || raw[lineStart + 1] !== DASH) return null;
  const end = lineEnd(raw, lineStart);
  const textEnd = contentEnd(raw, lineStart, end);
  const from = lineStart + 2;
  let best: OpenBoundary | null = null;
  for (let i = open.length - 1; i >= 0; i--) {
    const candidate = open[i];
    if (candidate === undefined) continue;
    const length = candidate.delimiter.length;
    if (from + length > textEnd || (best !== null && length <= best.delimiter.length)) continue;
    if (raw.compare(candidate.delimiter, 0, length, from, from + length) === 0) best = candidate;
  }
  if (best === null) return null;
  const after = from + best.delimiter.length;
  const closing = after + 2 <= textEnd && raw[after] === DASH && raw[after + 1] === DASH;
  return { lineStart, lineEnd: end, boundary: best, closing };
}
