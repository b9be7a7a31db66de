/**
 * The Content-* headers of one entity (RFC 2045/2183/3066/2557), interpreted with the defaults and
 * tolerance of RFC 2045 and Dovecot: the first occurrence of each header counts; an invalid
 * Content-Type means the default type; an invalid transfer encoding means "7bit".
 */
import { displayString } from './bytes.ts';
import { rawFieldValue, type HeaderField } from './header.ts';
import { isToken, parseHeaderValue, type WireParam } from './params.ts';
import type { ContentType, Disposition } from './types.ts';

export interface ContentHeaders {
  contentType: ContentType;
  /** Content-Type params as BODYSTRUCTURE shows them. */
  typeParams: WireParam[];
  /** The multipart boundary as bytes, or null when absent or empty. */
  boundary: Buffer | null;
  encoding: string;
  id: string | null;
  description: string | null;
  md5: string | null;
  disposition: Disposition | null;
  /** Content-Disposition params as BODYSTRUCTURE shows them. */
  dispositionParams: WireParam[];
  language: string[] | null;
  location: string | null;
}

/** Where the entity sits decides its defaults and whether Content-* headers count at all. */
export interface EntityKind {
  /** A message header (the top level or an encapsulated message), as opposed to a body part's. */
  isMessage: boolean;
  /** A part of multipart/digest, whose default type is message/rfc822 (RFC 2046 5.1.5). */
  inDigest: boolean;
}

function defaultContentType(kind: EntityKind): ContentType {
  return kind.inDigest
    ? { type: 'message', subtype: 'rfc822', params: {} }
    : { type: 'text', subtype: 'plain', params: { charset: 'us-ascii' } };
}

export function readContentHeaders(raw: Buffer, fields: HeaderField[], kind: EntityKind): ContentHeaders {
  const values = contentFieldValues(raw, fields, kind);
  const type = contentType(values.get('content-type') ?? null, kind);
  const disposition = contentDisposition(values.get('content-disposition') ?? null);
  return {
    contentType: type.contentType,
    typeParams: type.typeParams,
    boundary: type.boundary,
    encoding: transferEncoding(values.get('content-transfer-encoding') ?? null),
    id: nstring(values.get('content-id')),
    description: nstring(values.get('content-description')),
    md5: nstring(values.get('content-md5')),
    disposition: disposition?.disposition ?? null,
    dispositionParams: disposition?.wireParams ?? [],
    language: contentLanguage(values.get('content-language') ?? null),
    location: nstring(values.get('content-location')),
  };
}

/**
 * The first value of each Content-* field, in one pass. Body parts are always MIME; a message header
 * is MIME when it says so with MIME-Version, or (like Dovecot, leniently) when it has a
 * Content-Type; otherwise its Content-* headers are ignored.
 */
function contentFieldValues(raw: Buffer, fields: HeaderField[], kind: EntityKind): Map<string, string> {
  const values = new Map<string, string>();
  let isMime = !kind.isMessage;
  for (const field of fields) {
    if (field.key === 'mime-version') isMime = true;
    if (!field.key.startsWith('content-') || values.has(field.key)) continue;
    if (field.key === 'content-type') isMime = true;
    values.set(field.key, rawFieldValue(raw, field));
  }
  return isMime ? values : new Map();
}

function nstring(value: string | undefined): string | null {
  return value === undefined ? null : displayString(value);
}

function contentType(
  value: string | null,
  kind: EntityKind,
): Pick<ContentHeaders, 'contentType' | 'typeParams' | 'boundary'> {
  const parsed = value === null ? null : parseHeaderValue(value);
  const slash = parsed?.head.indexOf('/') ?? -1;
  const type = parsed === null ? '' : parsed.head.slice(0, slash);
  const subtype = parsed === null ? '' : parsed.head.slice(slash + 1);
  if (parsed === null || slash < 0 || !isToken(type) || !isToken(subtype)) {
    return { contentType: defaultContentType(kind), typeParams: [], boundary: null };
  }
  const boundary = parsed.wireParams.find((p) => p.name === 'boundary')?.value ?? '';
  return {
    contentType: { type, subtype, params: parsed.params },
    typeParams: parsed.wireParams,
    boundary: type === 'multipart' && boundary !== '' ? Buffer.from(boundary, 'latin1') : null,
  };
}

function contentDisposition(
  value: string | null,
): { disposition: Disposition; wireParams: WireParam[] } | null {
  if (value === null) return null;
  const parsed = parseHeaderValue(value);
  if (!isToken(parsed.head)) return null;
  return { disposition: { type: parsed.head, params: parsed.params }, wireParams: parsed.wireParams };
}

function transferEncoding(value: string | null): string {
  const encoding = (value ?? '')
    .replace(/\([^)]*\)/g, '')
    .trim()
    .toLowerCase();
  return isToken(encoding) ? encoding : '7bit';
}

/** Content-Language: a comma-separated list of language tags. */
function contentLanguage(value: string | null): string[] | null {
  if (value === null) return null;
  const tags = value
    .replace(/\([^)]*\)/g, '')
    .split(',')
    .map((t) => displayString(t.trim()))
    .filter((t) => t !== '');
  return tags.length === 0 ? null : tags;
}
