/**
 * Extended URLFETCH (RFC 5524, capability URLAUTH=BINARY): for a URL sent as
 * `(url [BODY | BINARY] [BODYPARTSTRUCTURE])` the answer is metadata items instead of one string:
 *
 *   * URLFETCH url (BODYPARTSTRUCTURE ("text" "plain" ...) BINARY ~{n}\r\n...)
 *
 * - BODY: the bytes as URLFETCH gives them (the section as stored, PARTIAL applied).
 * - BINARY: the part with its Content-Transfer-Encoding undone, by the code of FETCH BINARY
 *   (server/imap/fetch/binary.ts), then PARTIAL applied to the decoded bytes. A header, MIME or
 *   TEXT section has no encoding of its own and comes as stored. An encoding we cannot undo gives
 *   `BINARY NIL` (RFC 5524 3.2 lets the server answer NIL where it cannot convert).
 * - BODYPARTSTRUCTURE: the BODYSTRUCTURE of the part the section's number names (the message
 *   without a section; for `2.MIME`, part 2), taken from the stored one; asked with BINARY, a
 *   single part shows the size of its decoded content. Both as Dovecot answers
 *   (test/oracle/urlfetch.test.ts).
 *
 * Items go out in Dovecot's order and form: one parenthesised list, the structure first.
 */
import { parseSectionSpec, type MimeIndex, type NestedValue } from '../../mime/index.ts';
import type { Mailbox, Store } from '../../store/types.ts';
import { ImapError } from '../errors.ts';
import { binaryContent } from '../fetch/binary.ts';
import type { UrlFetchWant } from '../parser/index.ts';
import { UrlError, type ImapUrl } from './parse.ts';
import { extractUrlSection, urlMessage, urlPartial } from './resolve.ts';

/** What one extended URL answers: each item asked for (null: NIL), absent when not asked. */
export interface ExtendedUrlData {
  structure?: NestedValue[];
  body?: Buffer;
  binary?: Buffer | null;
}

export async function extendedUrlData(
  store: Store,
  url: ImapUrl,
  mailbox: Mailbox,
  want: UrlFetchWant,
): Promise<ExtendedUrlData> {
  const { raw, index } = await urlMessage(store, url, mailbox, true);
  const section = url.section === null ? { part: [] as number[], text: null } : parseSectionSpec(url.section);
  if (section === null) throw new UrlError(`Invalid section "${url.section}"`);
  const stored = url.section === null ? raw : extractUrlSection(raw, index!, url.section);
  const reply: ExtendedUrlData = {};
  const isPart = section.text === null;
  // Decoded only when asked: BINARY of a part, and the size its structure then shows.
  const decoded = want.binary ? decodedPart(raw, index!, section.part) : null;
  if (want.bodyPartStructure) {
    const structure = partStructure(index!, section.part);
    // The whole message "decoded" is the message as stored (FETCH BINARY[]): no size to change.
    const resized = decoded !== null && section.part.length > 0;
    reply.structure = resized ? withSize(structure, decoded.length) : structure;
  }
  if (want.body) reply.body = urlPartial(stored, url);
  if (want.binary) {
    const data = isPart ? decoded : stored;
    reply.binary = data === null ? null : urlPartial(data, url);
  }
  return reply;
}

/**
 * A single part's structure with another body size (index 6): with BINARY, the size of the decoded
 * content, as Dovecot shows it. A multipart (a list first) has no size of its own.
 */
function withSize(structure: NestedValue[], size: number): NestedValue[] {
  if (Array.isArray(structure[0])) return structure;
  const copy = [...structure];
  copy[6] = size;
  return copy;
}

/** The part's content without its transfer encoding, null when that encoding is unknown. */
function decodedPart(raw: Buffer, index: MimeIndex, part: number[]): Buffer | null {
  try {
    return binaryContent(raw, index, part);
  } catch (error) {
    if (error instanceof ImapError && error.code === 'UNKNOWN-CTE') return null;
    throw error;
  }
}

/**
 * The BODYSTRUCTURE of part `path`, walking the stored structure beside the part tree as
 * findSectionPart walks the tree: a multipart lists its parts first; a message/rfc822 part has the
 * body of its message at index 8 (type, subtype, params, id, description, encoding, size,
 * envelope, body, lines). The caller has made sure the part exists (extractUrlSection).
 */
export function partStructure(index: MimeIndex, path: readonly number[]): NestedValue[] {
  let part = index.root;
  let structure = index.bodyStructure;
  for (const [i, number] of path.entries()) {
    const more = i < path.length - 1;
    if (part.contentType.type === 'multipart') {
      part = part.children[number - 1]!;
      structure = structure[number - 1] as NestedValue[];
    }
    if (more && part.message !== null) {
      part = part.message;
      structure = structure[8] as NestedValue[];
    }
  }
  return structure;
}
