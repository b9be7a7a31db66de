/**
 * Charset decoding for text shown to users and searched: never throws, and an unknown or lying label
 * degrades to "UTF-8 if the bytes are valid UTF-8, else Windows-1252" instead of failing.
 */
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import type IconvLite from 'iconv-lite';

let iconvLite: typeof IconvLite | undefined;

/**
 * iconv-lite with its character set tables (half a megabyte of code), loaded at the first text
 * that is neither ASCII nor UTF-8: `mallard deliver`, which an MTA may start for every message,
 * then does not load it for most mail.
 */
function iconv(): typeof IconvLite {
  return (iconvLite ??= createRequire(import.meta.url)('iconv-lite') as typeof IconvLite);
}

const ESC = 0x1b;

/** Lower-cased label without quotes, spaces or an RFC 2231 language suffix ("utf-8*en"). */
export function normalizeCharset(label: string): string {
  return label
    .trim()
    .replace(/^["']|["']$/g, '')
    .replace(/\*.*$/, '')
    .trim()
    .toLowerCase();
}

/** Decodes bytes declared to be in `label`; the label may be anything a sender wrote. */
export function decodeCharset(bytes: Buffer, label: string | null | undefined): string {
  const charset = normalizeCharset(label ?? '');
  try {
    return decodeKnown(bytes, charset);
  } catch {
    return decodeUnlabelled(bytes);
  }
}

/** For bytes with no usable label: UTF-8 when valid, Windows-1252 (a superset of latin1) otherwise. */
export function decodeUnlabelled(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : iconv().decode(bytes, 'windows-1252');
}

function decodeKnown(bytes: Buffer, charset: string): string {
  switch (charset) {
    case '':
    case 'us-ascii':
    case 'ascii':
    case 'ansi_x3.4-1968':
    case 'unknown-8bit':
    case 'x-unknown':
    case 'default':
      // Mail labelled us-ascii very often carries 8-bit text anyway; guess rather than mangle it.
      return decodeUnlabelled(bytes);
    case 'utf-8':
    case 'utf8':
      return bytes.toString('utf8');
    case 'iso-8859-1':
    case 'latin1':
    case 'l1':
      // As browsers do: real-world "latin1" text uses the Windows-1252 printable range 0x80-0x9f.
      return iconv().decode(bytes, 'windows-1252');
    case 'iso-2022-jp':
    case 'iso-2022-jp-1':
    case 'iso-2022-jp-2':
    case 'csiso2022jp':
      return decodeIso2022Jp(bytes);
    default:
      return iconv().encodingExists(charset) ? iconv().decode(bytes, charset) : decodeUnlabelled(bytes);
  }
}

type JisMode = 'ascii' | 'jis0208' | 'kana';

/**
 * ISO-2022-JP (still common in Japanese mail) is not in iconv-lite. Its JIS X 0208 byte pairs map to
 * EUC-JP by setting the high bit, and half-width katakana to SS2 + byte; so we rewrite to EUC-JP.
 */
function decodeIso2022Jp(bytes: Buffer): string {
  const out: number[] = [];
  let mode: JisMode = 'ascii';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    if (b === ESC) {
      const switched = escapeMode(bytes, i);
      if (switched !== null) {
        mode = switched.mode;
        i += switched.length - 1;
        continue;
      }
    }
    if (b === 0x0a || b === 0x0d || b < 0x21 || b > 0x7e || mode === 'ascii') {
      out.push(b);
    } else if (mode === 'kana') {
      out.push(0x8e, b | 0x80);
    } else {
      out.push(b | 0x80);
    }
  }
  return iconv().decode(Buffer.from(out), 'euc-jp');
}

function escapeMode(bytes: Buffer, i: number): { mode: JisMode; length: number } | null {
  const seq = bytes.toString('latin1', i + 1, i + 3);
  if (seq === '(B' || seq === '(J') return { mode: 'ascii', length: 3 };
  if (seq === '(I') return { mode: 'kana', length: 3 };
  if (seq === '$@' || seq === '$B') return { mode: 'jis0208', length: 3 };
  return null;
}
