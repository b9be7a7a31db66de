/**
 * Address and CIDR range checks for the rule form, run as the user types. The server has the final
 * word (server/hooks/cidr.ts, which uses node:net); this is the same grammar in plain code so the
 * browser can say at once what is wrong with an entry: IPv4 dotted quads, IPv6 in full, compressed
 * (`::`) or with an embedded IPv4 tail, an optional prefix length (0–32 / 0–128), and optional
 * brackets around an IPv6 address. Zones (`fe80::1%eth0`) are refused, as the server does.
 */

export type CidrCheck =
  | {
      ok: true;
      family: 4 | 6;
      /** The prefix length written, or the full length for a single address. */
      prefix: number;
      /** Whether the entry is one address (no prefix, or /32 and /128). */
      single: boolean;
      /** The entry with host bits cleared, as the server will store it (e.g. 10.0.0.0/8). */
      canonical: string;
    }
  | { ok: false; error: string };

/** The four bytes of a dotted IPv4 address, or null. Leading zeros are refused (as node:net does). */
export function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes.push(value);
  }
  return bytes;
}

/** The eight 16-bit groups of an IPv6 address, or null. */
export function parseIPv6(text: string): number[] | null {
  if (text === '' || /[^0-9a-fA-F:.]/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const toGroups = (part: string, last: boolean): number[] | null => {
    if (part === '') return [];
    const pieces = part.split(':');
    const groups: number[] = [];
    for (const [index, piece] of pieces.entries()) {
      if (piece.includes('.')) {
        // An embedded IPv4 address may only end the address.
        if (!last || index !== pieces.length - 1) return null;
        const four = parseIPv4(piece);
        if (!four) return null;
        groups.push((four[0]! << 8) | four[1]!, (four[2]! << 8) | four[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
      groups.push(parseInt(piece, 16));
    }
    return groups;
  };
  if (halves.length === 1) {
    const groups = toGroups(text, true);
    return groups && groups.length === 8 ? groups : null;
  }
  const left = toGroups(halves[0]!, false);
  const right = toGroups(halves[1]!, true);
  if (!left || !right) return null;
  // "::" stands for at least one group of zeros.
  const missing = 8 - left.length - right.length;
  if (missing < 1) return null;
  return [...left, ...Array<number>(missing).fill(0), ...right];
}

function formatIPv6(groups: number[]): string {
  // RFC 5952: the longest run of two or more zero groups becomes "::" (the first on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = (list: number[]) => list.map((group) => group.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Clears the bits after `prefix` in a list of `width`-bit numbers. */
function mask(values: number[], width: number, prefix: number): number[] {
  return values.map((value, index) => {
    const keep = Math.max(0, Math.min(width, prefix - index * width));
    const bits = keep === 0 ? 0 : ((1 << width) - 1) ^ ((1 << (width - keep)) - 1);
    return value & bits;
  });
}

/** Whether `text` is one IPv4 or IPv6 address (no prefix length). */
export function isIpAddress(text: string): boolean {
  const address = text.trim();
  return parseIPv4(address) !== null || parseIPv6(address) !== null;
}

/** Checks one address or CIDR range; the error says what is wrong in words. */
export function checkCidr(input: string): CidrCheck {
  const text = input.trim();
  if (text === '') return { ok: false, error: 'empty entry' };
  const slash = text.indexOf('/');
  let address = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  if (address.includes('%')) return { ok: false, error: `${text}: a zone (%…) cannot be used in a rule` };

  const v4 = parseIPv4(address);
  const v6 = v4 ? null : parseIPv6(address);
  if (!v4 && !v6) {
    const looksV4 = /^[\d.]+$/.test(address);
    return {
      ok: false,
      error: looksV4
        ? `${text}: an IPv4 address has four numbers from 0 to 255 (e.g. 192.0.2.10)`
        : `${text}: not an IPv4 or IPv6 address`,
    };
  }
  const bits = v4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== null) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      return { ok: false, error: `${text}: the prefix length must be 0 to ${bits}` };
    }
    prefix = Number(prefixText);
  }
  const single = prefix === bits;
  const network = v4 ? mask(v4, 8, prefix).join('.') : formatIPv6(mask(v6!, 16, prefix));
  return {
    ok: true,
    family: v4 ? 4 : 6,
    prefix,
    single,
    canonical: single ? network : `${network}/${prefix}`,
  };
}

/** Splits the form's text (one entry per line, or separated by commas or spaces) into entries. */
export function splitCidrs(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** The problems of a list of entries, one message each (empty when all are fine). */
export function cidrListErrors(entries: readonly string[]): string[] {
  const errors: string[] = [];
  for (const entry of entries) {
    const result = checkCidr(entry);
    if (!result.ok) errors.push(result.error);
  }
  return errors;
}

/** The single-address range that blocks exactly `address` (/32 or /128), or null. */
export function hostRange(address: string): string | null {
  let text = address.trim();
  // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d: block the IPv4 address.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  if (mapped) text = mapped[1]!;
  if (parseIPv4(text)) return `${text}/32`;
  const v6 = parseIPv6(text);
  return v6 ? `${formatIPv6(v6)}/128` : null;
}
