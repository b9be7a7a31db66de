/**
 * IP addresses and CIDR ranges, IPv4 and IPv6, for the allow and deny rules.
 *
 * Every address is held as 16 bytes: IPv4 as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so a
 * client seen as `::ffff:10.0.0.1` (a dual-stack listener) and one seen as `10.0.0.1` are the same
 * address and both match `10.0.0.0/8`. Families do not mix otherwise: an IPv6 range such as `::/0`
 * or `2001:db8::/32` never matches an IPv4 client, and an IPv4 range never matches a native IPv6
 * one. A range written in mapped form (`::ffff:10.0.0.0/104`) is an IPv4 range.
 *
 * Host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`); the canonical text of a range is what the
 * store keeps: IPv4 in dotted form, IPv6 compressed and lower-cased (RFC 5952), a single address
 * without a prefix length.
 */

// Node's net.isIPv4 and net.isIPv6, written out (the same patterns as Node's lib/internal/net.js):
// node:net loads Node's stream machinery, some milliseconds at the start of every command that
// reads connection rules, `mallard deliver` among them. cidr.test.ts compares the two.
const V4_SEG = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const V4 = `(?:${V4_SEG}\\.){3}${V4_SEG}`;
const V6_SEG = '(?:[0-9a-fA-F]{1,4})';
const IPV4 = new RegExp(`^${V4}$`);
const IPV6 = new RegExp(
  '^(?:' +
    `(?:${V6_SEG}:){7}(?:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){6}(?:${V4}|:${V6_SEG}|:)|` +
    `(?:${V6_SEG}:){5}(?::${V4}|(?::${V6_SEG}){1,2}|:)|` +
    `(?:${V6_SEG}:){4}(?:(?::${V6_SEG}){0,1}:${V4}|(?::${V6_SEG}){1,3}|:)|` +
    `(?:${V6_SEG}:){3}(?:(?::${V6_SEG}){0,2}:${V4}|(?::${V6_SEG}){1,4}|:)|` +
    `(?:${V6_SEG}:){2}(?:(?::${V6_SEG}){0,3}:${V4}|(?::${V6_SEG}){1,5}|:)|` +
    `(?:${V6_SEG}:){1}(?:(?::${V6_SEG}){0,4}:${V4}|(?::${V6_SEG}){1,6}|:)|` +
    `(?::(?:(?::${V6_SEG}){0,5}:${V4}|(?::${V6_SEG}){1,7}|:))` +
    ')(?:%[0-9a-zA-Z-.:]{1,})?$',
);

/** Whether `text` is an IPv4 address in dotted form, as net.isIPv4 says. */
export const isIPv4 = (text: string): boolean => IPV4.test(text);

/** Whether `text` is an IPv6 address (a zone allowed), as net.isIPv6 says. */
export const isIPv6 = (text: string): boolean => IPV6.test(text);

export class CidrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CidrError';
  }
}

export interface Cidr {
  /** The network address, 16 bytes (IPv4 mapped into ::ffff:0:0/96). */
  bytes: Uint8Array;
  /** Prefix length in the 128-bit space (an IPv4 /8 is 104). */
  prefix: number;
  ipv4: boolean;
  /** Canonical text: `10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`. */
  text: string;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function isMapped(bytes: Uint8Array): boolean {
  return MAPPED_PREFIX.every((value, index) => bytes[index] === value);
}

function stripAddress(text: string): string {
  let address = text.trim();
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  // A zone (fe80::1%eth0) says which link, not which host.
  const zone = address.indexOf('%');
  return zone >= 0 ? address.slice(0, zone) : address;
}

function ipv4Bytes(text: string, into: Uint8Array, offset: number): void {
  text.split('.').forEach((part, index) => {
    into[offset + index] = Number(part);
  });
}

/** The 16 bytes of an IPv4 or IPv6 address, or null when `text` is not one. */
export function parseIp(text: string): Uint8Array | null {
  const address = stripAddress(text);
  const bytes = new Uint8Array(16);
  if (isIPv4(address)) {
    bytes.set(MAPPED_PREFIX);
    ipv4Bytes(address, bytes, 12);
    return bytes;
  }
  if (!isIPv6(address)) return null;
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const [head = '', tail] = address.toLowerCase().split('::') as [string, string | undefined];
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for two groups.
  const words: number[] = [];
  const toWords = (parts: string[]): number[] =>
    parts.flatMap((part) => {
      if (!part.includes('.')) return [parseInt(part, 16)];
      const four = new Uint8Array(4);
      ipv4Bytes(part, four, 0);
      return [(four[0]! << 8) | four[1]!, (four[2]! << 8) | four[3]!];
    });
  const leftWords = toWords(left);
  const rightWords = toWords(right);
  words.push(...leftWords);
  if (tail !== undefined) {
    for (let fill = 8 - leftWords.length - rightWords.length; fill > 0; fill--) words.push(0);
  }
  words.push(...rightWords);
  if (words.length !== 8) return null;
  words.forEach((word, index) => {
    bytes[index * 2] = word >> 8;
    bytes[index * 2 + 1] = word & 0xff;
  });
  return bytes;
}

/** Text of 16 address bytes: dotted IPv4 for a mapped address, else compressed IPv6 (RFC 5952). */
export function formatIp(bytes: Uint8Array): string {
  if (isMapped(bytes)) return Array.from(bytes.subarray(12)).join('.');
  const words = Array.from({ length: 8 }, (_, index) => (bytes[index * 2]! << 8) | bytes[index * 2 + 1]!);
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8;) {
    if (words[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && words[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = (list: number[]) => list.map((word) => word.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}

/**
 * The key connections from one client are counted under: its canonical address, so `::ffff:1.2.3.4`
 * and `1.2.3.4` count together. Text that is no IP address is kept as it is.
 */
export function normalizeIp(text: string): string {
  const bytes = parseIp(text);
  return bytes ? formatIp(bytes) : text;
}

/** Parses `10.0.0.0/8`, `2001:db8::/32`, or a single address; throws CidrError saying what is wrong. */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string' || text.trim() === '') throw new CidrError('empty address range');
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash < 0 ? null : trimmed.slice(slash + 1);
  // "10.0.0.0 /8" must not parse as something else: no spaces, no zone index in the address.
  if (/[\s%]/.test(addressText)) throw new CidrError(`not an IP address or CIDR range: ${trimmed}`);
  const bytes = parseIp(addressText);
  if (!bytes) throw new CidrError(`not an IP address or CIDR range: ${trimmed}`);
  const written4 = isIPv4(addressText);
  const bits = written4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== null) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      throw new CidrError(`bad prefix length in ${trimmed}: expected 0 to ${bits}`);
    }
    prefix = Number(prefixText);
  }
  if (written4) prefix += 96;
  const ipv4 = isMapped(bytes) && prefix >= 96;
  maskBytes(bytes, prefix);
  const single = prefix === 128;
  const shownPrefix = ipv4 ? prefix - 96 : prefix;
  return { bytes, prefix, ipv4, text: single ? formatIp(bytes) : `${formatIp(bytes)}/${shownPrefix}` };
}

function maskBytes(bytes: Uint8Array, prefix: number): void {
  for (let index = 0; index < 16; index++) {
    const keep = Math.max(0, Math.min(8, prefix - index * 8));
    bytes[index] = bytes[index]! & ((0xff << (8 - keep)) & 0xff);
  }
}

/** The canonical text of a range, or a CidrError. */
export function normalizeCidr(text: string): string {
  return parseCidr(text).text;
}

/** Whether the address (16 bytes from parseIp) lies in the range. */
export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (cidr.ipv4 !== isMapped(address)) return false;
  const full = Math.floor(cidr.prefix / 8);
  for (let index = 0; index < full; index++) if (address[index] !== cidr.bytes[index]) return false;
  const rest = cidr.prefix % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[full]! & mask) === cidr.bytes[full];
}

/** A list of ranges to test addresses against. */
export class CidrSet {
  readonly cidrs: readonly Cidr[];

  /** Throws CidrError for the first range that does not parse. */
  constructor(texts: readonly string[]) {
    this.cidrs = texts.map(parseCidr);
  }

  /** Whether the address (text or parsed bytes) is in any range; an unparsable address is in none. */
  has(address: string | Uint8Array | null): boolean {
    const bytes = typeof address === 'string' ? parseIp(address) : address;
    if (!bytes) return false;
    return this.cidrs.some((cidr) => cidrContains(cidr, bytes));
  }
}
