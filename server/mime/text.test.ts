/**
 * Decoding for SEARCH and listings: encoded words, charsets, transfer encodings, dates.
 */
import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { decodeCharset } from './charset.ts';
import { parseDate } from './date.ts';
import { decodeEncodedWords } from './encoded-word.ts';
import { decodedBodyText, decodedHeaders, indexMessage } from './index.ts';
import { decodeBase64, decodeQuotedPrintable } from './transfer.ts';

const crlf = (text: string): Buffer => Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');
const latin1 = (bytes: Buffer): string => bytes.toString('latin1');
const b64 = (bytes: Buffer): string => bytes.toString('base64');

describe('RFC 2047 encoded words', () => {
  it('decodes B and Q words in several charsets', () => {
    expect(decodeEncodedWords('=?UTF-8?B?w6lsw6h2ZQ==?=')).toBe('élève');
    expect(decodeEncodedWords('=?iso-8859-1?q?caf=E9_cr=E8me?=')).toBe('café crème');
    expect(decodeEncodedWords(`=?koi8-r?B?${b64(iconv.encode('Привет', 'koi8-r'))}?=`)).toBe('Привет');
    expect(decodeEncodedWords(`=?Shift_JIS?B?${b64(iconv.encode('日本', 'shift_jis'))}?=`)).toBe('日本');
    expect(decodeEncodedWords(`=?big5?B?${b64(iconv.encode('中文', 'big5'))}?=`)).toBe('中文');
    expect(decodeEncodedWords('=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=')).toBe('テスト');
    expect(decodeEncodedWords('=?utf-8*en?q?hello?=')).toBe('hello');
  });

  it('drops whitespace between adjacent encoded words but keeps it around plain text', () => {
    expect(decodeEncodedWords('=?utf-8?q?a?= =?utf-8?q?b?=\t=?utf-8?q?c?=')).toBe('abc');
    expect(decodeEncodedWords('x =?utf-8?q?a?= y')).toBe('x a y');
  });

  it('joins the bytes of adjacent words in one charset, so a split character survives', () => {
    const bytes = Buffer.from('€', 'utf8');
    const split = `=?utf-8?B?${b64(bytes.subarray(0, 1))}?= =?utf-8?B?${b64(bytes.subarray(1))}?=`;
    expect(decodeEncodedWords(split)).toBe('€');
  });

  it('falls back for unknown charsets and leaves malformed words alone', () => {
    expect(decodeEncodedWords('=?x-unknown?q?ok?=')).toBe('ok');
    expect(decodeEncodedWords('=?utf-8?x?nope?= =?utf-8?q?unterminated')).toBe(
      '=?utf-8?x?nope?= =?utf-8?q?unterminated',
    );
  });

  it('shows raw 8-bit text as UTF-8 when valid, else as Windows-1252', () => {
    expect(decodeEncodedWords(latin1(Buffer.from('ünï', 'utf8')))).toBe('ünï');
    expect(decodeEncodedWords(latin1(Buffer.from([0x93, 0x61, 0x94])))).toBe('“a”');
  });
});

describe('charsets', () => {
  it('never throws and guesses for unknown or lying labels', () => {
    expect(decodeCharset(Buffer.from('é', 'utf8'), 'us-ascii')).toBe('é');
    expect(decodeCharset(Buffer.from([0xe9]), 'us-ascii')).toBe('é');
    expect(decodeCharset(Buffer.from([0xe9]), 'no-such-charset')).toBe('é');
    expect(decodeCharset(Buffer.from([0x80]), 'iso-8859-1')).toBe('€');
    expect(decodeCharset(Buffer.from('x'), '"UTF-8"')).toBe('x');
    expect(decodeCharset(Buffer.from('x'), null)).toBe('x');
  });

  it('decodes ISO-2022-JP, which iconv-lite lacks', () => {
    expect(decodeCharset(Buffer.from('\x1b$B$3$s$K$A$O\x1b(B!', 'latin1'), 'iso-2022-jp')).toBe(
      'こんにちは!',
    );
    expect(decodeCharset(Buffer.from('\x1b(I1\x1b(B', 'latin1'), 'ISO-2022-JP')).toBe('ｱ');
  });
});

describe('transfer encodings', () => {
  it('decodes quoted-printable: soft breaks, escapes, padding, bad escapes', () => {
    const input = Buffer.from('a=3Db=\r\nc  \r\nd=20\r\n=ZZ=4', 'latin1');
    expect(decodeQuotedPrintable(input).toString('latin1')).toBe('a=bc\r\nd \r\n=ZZ=4');
    expect(decodeQuotedPrintable(Buffer.from('x=\ny\n')).toString()).toBe('xy\n');
  });

  it('decodes base64 with line breaks, junk and missing padding', () => {
    expect(decodeBase64(Buffer.from('aGVs\r\nbG8g\r\n d29y*bGQ')).toString()).toBe('hello world');
    expect(decodeBase64(Buffer.from('aGk=\r\n\r\nignored after padding')).toString()).toBe('hi');
  });
});

describe('decodedHeaders and decodedBodyText', () => {
  const raw = crlf(
    [
      'From: =?utf-8?q?Zo=C3=AB?= <zoe@example.com>',
      'Subject: =?iso-8859-1?q?R=E9sum=E9?=',
      '  of the week',
      'not a header line',
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'caf=E9',
      '--b',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      b64(Buffer.from('<b>gr\u00fc\u00df</b>', 'utf8')),
      '--b',
      'Content-Type: application/octet-stream',
      '',
      'binary stuff',
      '--b--',
    ].join('\n'),
  );
  const index = indexMessage(raw);

  it('lists top-level fields, lower-cased, unfolded and decoded', () => {
    expect(decodedHeaders(raw, index)).toEqual([
      { name: 'from', value: 'Zoë <zoe@example.com>' },
      { name: 'subject', value: 'Résumé  of the week' },
      { name: 'content-type', value: 'multipart/mixed; boundary=b' },
    ]);
  });

  it('joins the text of text/* parts, inside attached messages too, but not other types', () => {
    expect(decodedBodyText(raw, index)).toBe('café\n<b>grüß</b>');
  });

  it('decodes a transfer-encoded attached message to search its text', () => {
    const inner = Buffer.from(
      'Subject: inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nen\u00e7oded\r\n',
    );
    const encoded = crlf(
      [
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: message/rfc822',
        'Content-Transfer-Encoding: base64',
        '',
        b64(inner),
        '--b--',
      ].join('\n'),
    );
    expect(decodedBodyText(encoded, indexMessage(encoded))).toBe('ençoded\r\n');
  });

  it('fills the listing fields of the index', () => {
    expect(index.subject).toBe('Résumé  of the week');
    expect(index.from).toBe('Zoë <zoe@example.com>');
    expect(index.messageId).toBeNull();
  });
});

describe('dates', () => {
  it('parses RFC 5322 dates with zones and comments', () => {
    expect(parseDate('Tue, 3 Jun 2025 11:59:58 +0200')).toBe(Date.UTC(2025, 5, 3, 9, 59, 58));
    expect(parseDate('3 Jun 2025 11:59 -0130 (odd)')).toBe(Date.UTC(2025, 5, 3, 13, 29));
  });

  it('accepts obsolete forms: two-digit years, named zones, no seconds', () => {
    expect(parseDate('Fri, 13 Feb 09 23:31:30 PST')).toBe(Date.UTC(2009, 1, 14, 7, 31, 30));
    expect(parseDate('1 Jan 99 00:00 GMT')).toBe(Date.UTC(1999, 0, 1));
    expect(parseDate('Mon, 02 June 2025 10:00:00 Z')).toBe(Date.UTC(2025, 5, 2, 10));
  });

  it('returns null for missing or unparsable dates', () => {
    expect(parseDate(null)).toBeNull();
    expect(parseDate('yesterday')).toBeNull();
    expect(parseDate('')).toBeNull();
  });
});
