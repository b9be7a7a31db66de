/**
 * The MIME index of a message: computed once per stored body, so FETCH and SEARCH never re-parse.
 * indexMessage never throws: broken mail is indexed as well as it can be, and if something still
 * goes wrong the message is indexed as one opaque text part rather than refused.
 */
import { buildIndex, MIME_INDEX_VERSION } from './build-index.ts';
import { countLines } from './bytes.ts';
import { EMPTY_ENVELOPE } from './envelope.ts';
import type { MimeIndex, MimePart } from './types.ts';

export type { ContentType, Disposition, MimeIndex, MimePart, NestedValue } from './types.ts';
export { extractSection, findSectionPart, parseSectionSpec, partial } from './section.ts';
export type { SectionSpec, SectionText } from './section.ts';
export { decodedBodyText, decodedHeaders, entityHeaders, partText, searchableWords } from './text.ts';
export type { DecodedHeader } from './text.ts';
export { decodeTransfer } from './transfer.ts';
export { MIME_INDEX_VERSION };

export function indexMessage(raw: Buffer): MimeIndex {
  try {
    return buildIndex(raw);
  } catch {
    return fallbackIndex(raw);
  }
}

/** The whole message as a headerless text/plain body: a last resort that keeps the bytes reachable. */
function fallbackIndex(raw: Buffer): MimeIndex {
  const root: MimePart = {
    path: '',
    headerStart: 0,
    bodyStart: 0,
    bodyEnd: raw.length,
    contentType: { type: 'text', subtype: 'plain', params: { charset: 'us-ascii' } },
    encoding: '7bit',
    id: null,
    description: null,
    md5: null,
    disposition: null,
    language: null,
    location: null,
    lines: countLines(raw, 0, raw.length),
    children: [],
    message: null,
  };
  const body = ['text', 'plain', ['charset', 'us-ascii'], null, null, '7bit', raw.length, root.lines];
  return {
    version: MIME_INDEX_VERSION,
    root,
    envelope: [...EMPTY_ENVELOPE],
    bodyStructure: [...body, null, null, null, null],
    body,
    subject: '',
    from: '',
    date: null,
    messageId: null,
    references: null,
  };
}
