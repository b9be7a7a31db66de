/**
 * The decoded text of one message for HEADER, BODY and TEXT keys, lower-cased once and kept for the
 * rest of the command (several keys may look at the same message). Each piece is computed on first
 * use, so a HEADER key never decodes the body.
 */
import { decodedBodyText, decodedHeaders, type MimeIndex, type MimePart } from '../../mime/index.ts';

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

  /**
   * TEXT: the body text or any header contains `needle` (folded). "The header or body of the
   * message" (RFC 3501) is read as Dovecot does: the headers are those of every entity, the
   * message's own, each part's MIME header and each attached message's header, as `name: value`
   * lines; the body is the decoded text.
   */
  textContains(needle: string): boolean {
    this.headerBlock ??= this.allHeaders();
    return this.headerBlock.includes(needle) || this.body().includes(needle);
  }

  private allHeaders(): string {
    const lines: string[] = [];
    const add = (headers: LowerHeader[]) => {
      for (const header of headers) lines.push(`${header.name}: ${header.value}`);
    };
    add(this.headers());
    const visit = (part: MimePart): void => {
      for (const child of part.children) {
        add(this.partHeaders(child));
        visit(child);
      }
      if (part.message !== null) {
        add(this.partHeaders(part.message));
        visit(part.message);
      }
    };
    visit(this.index.root);
    return lines.join('\n');
  }

  /** The decoded header of one entity: decodedHeaders reads the header of the index's root. */
  private partHeaders(part: MimePart): LowerHeader[] {
    return decodedHeaders(this.raw, { ...this.index, root: part }).map((header) => ({
      name: header.name,
      value: foldCase(header.value),
    }));
  }
}
