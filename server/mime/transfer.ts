/**
 * Content-Transfer-Encoding decoders, tolerant of what real mail contains (bad hex after "=",
 * whitespace before line ends, stray characters in base64). They never throw.
 */

const EQUALS = 0x3d;

/** Decodes a body by its (lower-case) transfer encoding; unknown encodings pass through unchanged. */
export function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case 'base64':
      return decodeBase64(body);
    default:
      return body;
  }
}

/**
 * RFC 2045 6.7: "=XX" is a byte, "=" at the end of a line is a soft line break, and whitespace at the
 * end of a line is transport padding. A "=" not followed by two hex digits is kept as it is.
 */
export function decodeQuotedPrintable(input: Buffer): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let length = 0;
  let lineStart = 0;
  while (lineStart < input.length) {
    const nl = input.indexOf(0x0a, lineStart);
    const lineEnd = nl < 0 ? input.length : nl;
    const contentEnd = trimLineEnd(input, lineStart, lineEnd);
    const soft = contentEnd > lineStart && input[contentEnd - 1] === EQUALS;
    length = decodeQpLine(input, lineStart, soft ? contentEnd - 1 : contentEnd, out, length);
    if (nl >= 0 && !soft) {
      // Keep the line break as it was written, so that the output never outgrows the input.
      if (nl > lineStart && input[nl - 1] === 0x0d) out[length++] = 0x0d;
      out[length++] = 0x0a;
    }
    lineStart = nl < 0 ? input.length : nl + 1;
  }
  return out.subarray(0, length);
}

function trimLineEnd(input: Buffer, start: number, end: number): number {
  let e = end;
  while (e > start && (input[e - 1] === 0x20 || input[e - 1] === 0x09 || input[e - 1] === 0x0d)) e--;
  return e;
}

function decodeQpLine(input: Buffer, start: number, end: number, out: Buffer, at: number): number {
  let length = at;
  for (let i = start; i < end; i++) {
    const b = input[i] ?? 0;
    const hi = b === EQUALS && i + 2 < end ? hexValue(input[i + 1]) : -1;
    const lo = hi >= 0 ? hexValue(input[i + 2]) : -1;
    if (lo >= 0) {
      out[length++] = hi * 16 + lo;
      i += 2;
    } else {
      out[length++] = b;
    }
  }
  return length;
}

function hexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** Base64 with everything outside the alphabet skipped, and decoding stopped at the padding. */
export function decodeBase64(input: Buffer): Buffer {
  const text = input.toString('latin1');
  const padding = text.indexOf('=');
  const clean = (padding >= 0 ? text.slice(0, padding) : text).replace(/[^A-Za-z0-9+/]/g, '');
  // A dangling single character cannot encode a byte; Node would ignore it anyway.
  return Buffer.from(clean, 'base64');
}
