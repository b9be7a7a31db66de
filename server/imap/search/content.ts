/**
 * The decoded text of one message for HEADER, BODY and TEXT keys, lower-cased once and kept for the
 * rest of the command (several keys may look at the same message). Each piece is computed on first
 * use, so a HEADER key never decodes the body.
 */
import { decodedBodyText, decodedHeaders, type MimeIndex } from '../../mime/index.ts';

interface LowerHeader {
  name: string;
  value: string;
}

/** Case folding for SEARCH: Unicode lower case, compared with `includes`. */
export function foldCase(text: string): string {
  return text.toLowerCase();
}

export class MessageText {
  private headerList: LowerHeader[] | null = null;
  private bodyText: string | null = null;
  private headerBlock: string | null = null;

  constructor(
    private readonly raw: Buffer,
    private readonly index: MimeIndex,
  ) {}

  /** Top-level header fields, decoded (RFC 2047) and lower-cased. */
  headers(): LowerHeader[] {
    this.headerList ??= decodedHeaders(this.raw, this.index).map((header) => ({
      name: header.name,
      value: foldCase(header.value),
    }));
    return this.headerList;
  }

  /** True when a field `name` (lower-case) contains `needle` (folded); "" asks only for presence. */
  headerContains(name: string, needle: string): boolean {
    for (const header of this.headers()) {
      if (header.name === name && header.value.includes(needle)) return true;
    }
    return false;
  }

  /** The text of every text part, transfer- and charset-decoded, lower-cased. */
  body(): string {
    this.bodyText ??= foldCase(decodedBodyText(this.raw, this.index));
    return this.bodyText;
  }

  /** TEXT: the header fields (as `name: value` lines) or the body text contain `needle` (folded). */
  textContains(needle: string): boolean {
    this.headerBlock ??= this.headers()
      .map((header) => `${header.name}: ${header.value}`)
      .join('\n');
    return this.headerBlock.includes(needle) || this.body().includes(needle);
  }
}
