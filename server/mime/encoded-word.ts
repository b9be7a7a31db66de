/**
 * RFC 2047 encoded words ("=?charset?Q?...?="), decoded for display and SEARCH. ENVELOPE and
 * BODYSTRUCTURE keep them raw (as Dovecot does); this is only for text we interpret ourselves.
 */
import { decodeCharset, decodeUnlabelled, normalizeCharset } from './charset.ts';
import { decodeBase64 } from './transfer.ts';

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=/g;

interface EncodedRun {
  charset: string;
  bytes: Buffer[];
}

/**
 * Decodes the encoded words in a header value given as a binary string (one char per byte).
 * Whitespace between two encoded words is dropped (RFC 2047 6.2), and adjacent words in the same
 * charset are joined before charset decoding, so a multi-byte character split across words survives.
 * Text outside encoded words is raw 8-bit: UTF-8 when valid, else Windows-1252.
 */
export function decodeEncodedWords(binary: string): string {
  if (!binary.includes('=?')) return decodeUnlabelled(Buffer.from(binary, 'latin1'));
  let out = '';
  let run: EncodedRun | null = null;
  let last = 0;
  for (const match of binary.matchAll(ENCODED_WORD)) {
    const between = binary.slice(last, match.index);
    if (run === null || !/^[ \t]*$/.test(between)) {
      out += flushRun(run) + decodeUnlabelled(Buffer.from(between, 'latin1'));
      run = null;
    }
    const charset = normalizeCharset(match[1] ?? '');
    const bytes = decodeWordText(match[2] ?? 'Q', match[3] ?? '');
    if (run !== null && run.charset === charset) {
      run.bytes.push(bytes);
    } else {
      out += flushRun(run);
      run = { charset, bytes: [bytes] };
    }
    last = match.index + match[0].length;
  }
  return out + flushRun(run) + decodeUnlabelled(Buffer.from(binary.slice(last), 'latin1'));
}

/** A raw (binary string) header value as text: encoded words decoded, 8-bit bytes guessed, trimmed. */
export function decodeHeaderValue(binary: string): string {
  return decodeEncodedWords(binary).replace(/\0/g, '\ufffd').trim();
}

function flushRun(run: EncodedRun | null): string {
  return run === null ? '' : decodeCharset(Buffer.concat(run.bytes), run.charset);
}

function decodeWordText(encoding: string, text: string): Buffer {
  if (encoding === 'B' || encoding === 'b') return decodeBase64(Buffer.from(text, 'latin1'));
  return decodeQ(text);
}

/** The "Q" encoding: QP where "_" stands for a space (RFC 2047 4.2). */
function decodeQ(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const hex = c === 0x3d ? text.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(c === 0x5f ? 0x20 : c & 0xff);
    }
  }
  return Buffer.from(bytes);
}
