/**
 * The decoded text of one message for HEADER, BODY and TEXT keys, lower-cased once and kept for the
 * rest of the command (several keys may look at the same message). Each piece is computed on first
 * use, so a HEADER key never decodes the body.
 */
import { decodeHeaderValue } from '../../mime/encoded-word.ts';
import { decodedBodyText, decodedHeaders, entityHeaders, type MimeIndex } from '../../mime/index.ts';

/** The address fields FROM, TO, CC and BCC search, by their place in the ENVELOPE. */
const ENVELOPE_ADDRESS_FIELDS: Readonly<Record<string, number>> = { from: 2, to: 5, cc: 6, bcc: 7 };

/** True for the header fields SEARCH matches as addresses as well as text. */
export function isAddressField(name: string): boolean {
  return name in ENVELOPE_ADDRESS_FIELDS;
}

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
  private readonly addressTexts = new Map<string, string[]>();
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

  /**
   * FROM, TO, CC, BCC: the header text contains `needle`, or one of the field's parsed addresses
   * does, as `mailbox@host` or by its decoded display name. So `FROM user@domain.org` finds
   * `<user (comment)@ (comment) domain.org>`, whose header text never spells it out (Dovecot
   * matches addresses the same way).
   */
  addressContains(name: string, needle: string): boolean {
    if (this.headerContains(name, needle)) return true;
    return this.addressesOf(name).some((text) => text.includes(needle));
  }

  private addressesOf(name: string): string[] {
    let texts = this.addressTexts.get(name);
    if (texts === undefined) {
      texts = [];
      const list = this.index.envelope[ENVELOPE_ADDRESS_FIELDS[name] ?? -1];
      for (const address of Array.isArray(list) ? list : []) {
        if (!Array.isArray(address)) continue;
        const [display, , mailbox, host] = address.map((part) => (typeof part === 'string' ? part : null));
        if (mailbox && host) texts.push(foldCase(`${mailbox}@${host}`));
        // Envelope strings are display text with encoded words kept: decode them from their bytes.
        if (display) texts.push(foldCase(decodeHeaderValue(Buffer.from(display, 'utf8').toString('latin1'))));
      }
      this.addressTexts.set(name, texts);
    }
    return texts;
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
    return entityHeaders(this.raw, this.index)
      .map((header) => `${header.name}: ${foldCase(header.value)}`)
      .join('\n');
  }
}
