/**
 * BODYSTRUCTURE (extensible) and BODY (non-extensible) of RFC 3501 7.4.2, as nested lists:
 * - basic part: type subtype params id description encoding size [md5 disposition language location]
 * - text/*: size is followed by the line count
 * - message/rfc822: size is followed by envelope, body, line count
 * - multipart: part... subtype [params disposition language location]
 * Choices follow Dovecot: a text part without charset gets ("charset" "us-ascii"); params are
 * shown as written (RFC 2231 sections merged, not decoded); a multipart without parts shows one
 * empty text/plain part, since the grammar needs at least one.
 */
import { displayString } from './bytes.ts';
import { buildEnvelope, EMPTY_ENVELOPE } from './envelope.ts';
import { isRfc822, type PartExtras } from './parser.ts';
import type { WireParam } from './params.ts';
import type { MimePart, NestedValue } from './types.ts';

export type StructureForm = 'extensible' | 'basic';

/** The 0-byte text/plain part Dovecot shows where the grammar needs a part and there is none. */
function emptyTextPart(form: StructureForm): NestedValue[] {
  const basic: NestedValue[] = ['text', 'plain', ['charset', 'us-ascii'], null, null, '7bit', 0, 0];
  return form === 'basic' ? basic : [...basic, null, null, null, null];
}

export function buildBodyStructure(
  part: MimePart,
  extras: Map<MimePart, PartExtras>,
  raw: Buffer,
  form: StructureForm,
): NestedValue[] {
  return new Builder(extras, raw, form).part(part);
}

class Builder {
  constructor(
    private readonly extras: Map<MimePart, PartExtras>,
    private readonly raw: Buffer,
    private readonly form: StructureForm,
  ) {}

  part(part: MimePart): NestedValue[] {
    return part.contentType.type === 'multipart' ? this.multipart(part) : this.single(part);
  }

  private multipart(part: MimePart): NestedValue[] {
    const children: NestedValue[] =
      part.children.length > 0 ? part.children.map((child) => this.part(child)) : [this.emptyText()];
    const list: NestedValue[] = [...children, part.contentType.subtype];
    if (this.form === 'basic') return list;
    return [...list, paramList(this.wire(part).typeParams), ...this.commonExtension(part)];
  }

  private single(part: MimePart): NestedValue[] {
    const text = part.contentType.type === 'text';
    const list: NestedValue[] = [
      part.contentType.type,
      part.contentType.subtype,
      paramList(withDefaultCharset(this.wire(part).typeParams, text)),
      part.id,
      part.description,
      part.encoding,
      part.bodyEnd - part.bodyStart,
    ];
    if (text) list.push(part.lines);
    else if (isRfc822(part)) list.push(...this.encapsulated(part.message), part.lines);
    if (this.form === 'basic') return list;
    return [...list, part.md5, ...this.commonExtension(part)];
  }

  /** Envelope and body of an encapsulated message (placeholders when nesting was too deep to index it). */
  private encapsulated(message: MimePart | null): NestedValue[] {
    if (message === null) return [[...EMPTY_ENVELOPE], this.emptyText()];
    return [buildEnvelope(this.raw, this.wire(message).fields), this.part(message)];
  }

  /** disposition, language, location: the extension data every part ends with. */
  private commonExtension(part: MimePart): NestedValue[] {
    const disposition =
      part.disposition === null
        ? null
        : [part.disposition.type, paramList(this.wire(part).dispositionParams)];
    return [disposition, part.language, part.location];
  }

  private emptyText(): NestedValue[] {
    return emptyTextPart(this.form);
  }

  private wire(part: MimePart): PartExtras {
    return this.extras.get(part) ?? { fields: [], typeParams: [], dispositionParams: [] };
  }
}

function withDefaultCharset(params: WireParam[], text: boolean): WireParam[] {
  if (!text || params.some((p) => p.name === 'charset')) return params;
  return [...params, { name: 'charset', value: 'us-ascii' }];
}

/** ("name" "value" ...) or NIL when there are none. */
function paramList(params: WireParam[]): NestedValue[] | null {
  if (params.length === 0) return null;
  return params.flatMap((p) => [p.name, displayString(p.value)]);
}
