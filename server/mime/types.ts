/**
 * The MIME index: the part tree of one message with exact byte offsets into its raw bytes, plus the
 * precomputed ENVELOPE and BODYSTRUCTURE values. It is computed once per stored body and kept beside
 * it, so FETCH never re-parses a message. Nothing here knows a protocol: ENVELOPE and BODYSTRUCTURE
 * are kept as nested lists (`NestedValue`) that a protocol encoder turns into its own syntax.
 */

/** A value of a nested list: a string, a number, NIL (null) or a list. */
export type NestedValue = string | number | null | NestedValue[];

export interface ContentType {
  /** Lower-cased type, e.g. "text". */
  type: string;
  /** Lower-cased subtype, e.g. "plain". */
  subtype: string;
  /** Parameters with lower-cased names and decoded (RFC 2231 joined) values. */
  params: Record<string, string>;
}

export interface Disposition {
  /** Lower-cased disposition type, e.g. "attachment". */
  type: string;
  params: Record<string, string>;
}

export interface MimePart {
  /**
   * IMAP section path of this part: "" for the message itself, "1", "1.2", ... For the message
   * inside a message/rfc822 part, the path is the rfc822 part's own path (its children go on
   * from there), as in RFC 3501. A message whose own type is message/rfc822 (the top level, or an
   * encapsulated message) has its body as part "<path>.1", so the message inside has that path
   * ("1" at the top level).
   */
  path: string;
  /** Offset of the first header byte. */
  headerStart: number;
  /** Offset just after the blank line that ends the header (= start of the body). */
  bodyStart: number;
  /** Offset just after the last body byte. */
  bodyEnd: number;
  contentType: ContentType;
  /** Lower-cased Content-Transfer-Encoding, "7bit" when absent. */
  encoding: string;
  id: string | null;
  description: string | null;
  md5: string | null;
  disposition: Disposition | null;
  language: string[] | null;
  location: string | null;
  /** Number of lines in the body (text/* and message/rfc822 parts). */
  lines: number;
  /** Child parts of a multipart, in order. Empty for a leaf. */
  children: MimePart[];
  /** For message/rfc822: the encapsulated message (whose own children are its parts). */
  message: MimePart | null;
}

export interface MimeIndex {
  /** Format version of the stored index, so a stored index can be rebuilt when the format changes. */
  version: number;
  root: MimePart;
  /** ENVELOPE of the message as a nested list (RFC 3501 order). */
  envelope: NestedValue[];
  /** BODYSTRUCTURE (extensible form) as a nested list. */
  bodyStructure: NestedValue[];
  /** BODY (non-extensible form) as a nested list. */
  body: NestedValue[];
  /** Decoded Subject, for listings. */
  subject: string;
  /** Decoded From, for listings. */
  from: string;
  /** Date header parsed, epoch ms, or null when missing or unparsable. */
  date: number | null;
  /** Message-ID header, raw. */
  messageId: string | null;
  /**
   * References header, raw (as THREAD reads it), null when absent. Undefined in indexes stored
   * before it was kept: THREAD then reads it from the stored header.
   */
  references?: string | null;
}
