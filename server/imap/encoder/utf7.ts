/**
 * Modified UTF-7 for mailbox names (RFC 3501 5.1.3): printable US-ASCII stands for itself except
 * `&`, written `&-`; everything else is UTF-16BE in modified base64 (`,` for `/`, no padding)
 * between `&` and `-`.
 */

export class Utf7Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Utf7Error';
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const B64_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

const isPrintable = (c: number): boolean => c >= 0x20 && c <= 0x7e;

function encodeRun(units: number[]): string {
  let out = '';
  let bits = 0;
  let nbits = 0;
  for (const unit of units) {
    bits = (bits << 16) | unit;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out += B64[(bits >> nbits) & 0x3f];
    }
    bits &= (1 << nbits) - 1;
  }
  if (nbits > 0) out += B64[(bits << (6 - nbits)) & 0x3f];
  return out;
}

/** Encodes a mailbox name. Throws Utf7Error on a lone surrogate (not representable). */
export function encodeModifiedUtf7(name: string): string {
  let out = '';
  let run: number[] = [];
  const flush = (): void => {
    if (run.length > 0) {
      out += `&${encodeRun(run)}-`;
      run = [];
    }
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (isPrintable(c)) {
      flush();
      out += c === 0x26 ? '&-' : name[i];
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = name.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw new Utf7Error('Lone surrogate in mailbox name');
      run.push(c, next);
      i++;
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) throw new Utf7Error('Lone surrogate in mailbox name');
    run.push(c);
  }
  flush();
  return out;
}

function decodeRun(b64: string): string {
  let bits = 0;
  let nbits = 0;
  const units: number[] = [];
  for (let i = 0; i < b64.length; i++) {
    const code = b64.charCodeAt(i);
    const v = code < 128 ? B64_INDEX[code]! : -1;
    if (v < 0) throw new Utf7Error(`Invalid character "${b64[i]!}" in modified UTF-7`);
    bits = ((bits << 6) | v) & 0xffffff;
    nbits += 6;
    if (nbits >= 16) {
      nbits -= 16;
      units.push((bits >> nbits) & 0xffff);
    }
  }
  // Leftover bits: fewer than 6, and zero (a canonical encoding).
  if (nbits >= 6 || (bits & ((1 << nbits) - 1)) !== 0)
    throw new Utf7Error('Invalid padding in modified UTF-7');
  let out = '';
  for (let i = 0; i < units.length; i++) {
    const u = units[i]!;
    if (u >= 0xd800 && u <= 0xdbff) {
      const low = units[i + 1];
      if (low === undefined || low < 0xdc00 || low > 0xdfff)
        throw new Utf7Error('Invalid UTF-16 in modified UTF-7');
      out += String.fromCharCode(u, low);
      i++;
      continue;
    }
    if (u >= 0xdc00 && u <= 0xdfff) throw new Utf7Error('Invalid UTF-16 in modified UTF-7');
    if (isPrintable(u)) throw new Utf7Error('Printable ASCII must not be base64-encoded in modified UTF-7');
    out += String.fromCharCode(u);
  }
  return out;
}

/**
 * Decodes a mailbox name. Throws Utf7Error on anything that is not modified UTF-7: non-printable
 * or 8-bit characters, an unterminated or empty `&...-` shift, bad base64 or padding, invalid
 * UTF-16, or printable ASCII encoded in base64.
 */
export function decodeModifiedUtf7(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isPrintable(c))
      throw new Utf7Error('Modified UTF-7 contains a non-printable or non-ASCII character');
    if (c !== 0x26) {
      out += name[i];
      continue;
    }
    const end = name.indexOf('-', i + 1);
    if (end < 0) throw new Utf7Error('Unterminated "&" shift in modified UTF-7');
    if (end === i + 1) out += '&';
    else out += decodeRun(name.slice(i + 1, end));
    i = end;
  }
  return out;
}

/** True when `name` is valid modified UTF-7. */
export function isValidModifiedUtf7(name: string): boolean {
  try {
    decodeModifiedUtf7(name);
    return true;
  } catch {
    return false;
  }
}
