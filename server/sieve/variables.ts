/**
 * Variable references in strings (RFC 5229 section 3): ${name}, ${global.name} (RFC 6609) and match
 * variables ${0}..${9}; unknown names expand to "". Expansion is done once, never recursively. Also
 * encoded characters (RFC 5228 section 2.4.2.4), ${hex:...} and ${unicode:...}, decoded when the
 * script requires "encoded-character".
 */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|[0-9]+)\}/g;

export function expandVariables(text: string, lookup: (name: string) => string | undefined): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (reference, name: string) => lookup(name.toLowerCase()) ?? '');
}

const ENCODED = /\$\{(hex|unicode)\s*:([\s0-9A-Fa-f]*)\}/gi;

export function decodeEncodedCharacters(text: string): string {
  if (!text.includes('${')) return text;
  return text.replace(ENCODED, (whole, kind: string, digits: string) => {
    const units = digits.trim() === '' ? [] : digits.trim().split(/\s+/);
    if (kind.toLowerCase() === 'hex') {
      return Buffer.from(units.map((unit) => parseInt(unit, 16))).toString('utf8');
    }
    const codePoints = units.map((unit) => parseInt(unit, 16));
    if (codePoints.some((point) => point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff))) return whole;
    return String.fromCodePoint(...codePoints);
  });
}

/** The modifiers of "set" (RFC 5229 section 4.1), applied from the highest precedence down. */
export const SET_MODIFIERS: Record<string, { precedence: number; apply: (value: string) => string }> = {
  lower: { precedence: 40, apply: (value) => value.toLowerCase() },
  upper: { precedence: 40, apply: (value) => value.toUpperCase() },
  lowerfirst: { precedence: 30, apply: (value) => value.charAt(0).toLowerCase() + value.slice(1) },
  upperfirst: { precedence: 30, apply: (value) => value.charAt(0).toUpperCase() + value.slice(1) },
  quotewildcard: { precedence: 20, apply: (value) => value.replace(/[*?\\]/g, '\\$&') },
  quoteregex: { precedence: 20, apply: (value) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') },
  length: { precedence: 10, apply: (value) => String([...value].length) },
};
