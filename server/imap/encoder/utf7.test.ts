import { describe, expect, it } from 'vitest';
import { Utf7Error, decodeModifiedUtf7, encodeModifiedUtf7, isValidModifiedUtf7 } from './utf7.ts';

const PAIRS: Array<[string, string]> = [
  ['', ''],
  ['INBOX', 'INBOX'],
  ['&', '&-'],
  ['a&b&&', 'a&-b&-&-'],
  ['ä', '&AOQ-'],
  ['Entwürfe', 'Entw&APw-rfe'],
  ['Gelöschte Elemente', 'Gel&APY-schte Elemente'],
  // RFC 3501 5.1.3 example
  ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
  ['Отправленные', '&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-'],
  ['😀', '&2D3eAA-'],
  ['a😀b€', 'a&2D3eAA-b&IKw-'],
  ['tab\there', 'tab&AAk-here'],
  ['\u0000', '&AAA-'],
  ['&ä&', '&-&AOQ-&-'],
  ['ää', '&AOQA5A-'],
  ['~!@#$%^*()_+-={}[]|\\:;"\'<>,.?/ ', '~!@#$%^*()_+-={}[]|\\:;"\'<>,.?/ '],
];

describe('modified UTF-7', () => {
  it.each(PAIRS)('encodes %j as %j', (decoded, encoded) => {
    expect(encodeModifiedUtf7(decoded)).toBe(encoded);
    expect(decodeModifiedUtf7(encoded)).toBe(decoded);
  });

  it.each([
    ['&', 'unterminated'],
    ['&AOQ', 'unterminated'],
    ['abc&', 'unterminated'],
    ['&A-', 'padding'],
    ['&AO-', 'padding'],
    ['&AOR-', 'padding (non-zero bits)'],
    ['&AGE-', 'printable ASCII encoded'],
    ['&ACY-', '& encoded in base64'],
    ['&2D0-', 'lone high surrogate'],
    ['&3gA-', 'lone low surrogate'],
    ['&2D3YPQ-', 'high surrogate followed by high surrogate'],
    ['&AOQ/-', '"/" instead of ","'],
    ['&A=Q-', 'invalid base64 character'],
    ['&AOQ=-', 'padding character'],
    ['ä', 'raw 8-bit'],
    ['a\tb', 'control character'],
    ['a\u007fb', 'DEL'],
  ])('rejects %j (%s)', (input) => {
    expect(() => decodeModifiedUtf7(input)).toThrow(Utf7Error);
    expect(isValidModifiedUtf7(input)).toBe(false);
  });

  it('decodes adjacent encoded runs (non-canonical but unambiguous)', () => {
    expect(decodeModifiedUtf7('&AOQ-&AOQ-')).toBe('ää');
  });

  it('refuses to encode a lone surrogate', () => {
    expect(() => encodeModifiedUtf7('a\ud800b')).toThrow(Utf7Error);
    expect(() => encodeModifiedUtf7('\udc00')).toThrow(Utf7Error);
  });

  it('round-trips random strings and always encodes to printable ASCII', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const ranges: Array<[number, number]> = [
      [0x20, 0x7e],
      [0x00, 0x1f],
      [0x80, 0x7ff],
      [0x800, 0xd7ff],
      [0xe000, 0xffff],
      [0x10000, 0x10ffff],
    ];
    for (let n = 0; n < 2000; n++) {
      let text = '';
      const length = Math.floor(random() * 12);
      for (let i = 0; i < length; i++) {
        const [low, high] = ranges[Math.floor(random() * ranges.length)]!;
        text += String.fromCodePoint(low + Math.floor(random() * (high - low + 1)));
      }
      const encoded = encodeModifiedUtf7(text);
      expect(encoded).toMatch(/^[\x20-\x7e]*$/);
      expect(decodeModifiedUtf7(encoded)).toBe(text);
      expect(encodeModifiedUtf7(decodeModifiedUtf7(encoded))).toBe(encoded);
    }
  });
});
