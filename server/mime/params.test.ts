/**
 * Content-Type / Content-Disposition parameters: the decoded view (MimePart) and the wire view
 * (BODYSTRUCTURE, RFC 2231 sections merged but left encoded, as Dovecot shows them).
 */
import { describe, expect, it } from 'vitest';
import { parseHeaderValue } from './params.ts';

const wire = (value: string): string[] =>
  parseHeaderValue(value).wireParams.flatMap((p) => [p.name, p.value]);
const decoded = (value: string): Record<string, string> => parseHeaderValue(value).params;

describe('parameter syntax', () => {
  it('reads tokens and quoted strings, lower-casing names only', () => {
    const parsed = parseHeaderValue('Text/Plain; Charset=UTF-8; Name="a \\"b\\"; c.txt"');
    expect(parsed.head).toBe('text/plain');
    expect(parsed.params).toEqual({ charset: 'UTF-8', name: 'a "b"; c.txt' });
  });

  it('skips comments and whitespace, and survives stray semicolons', () => {
    expect(decoded('text/plain (comment); ; charset = "us-ascii" (the default) ;')).toEqual({
      charset: 'us-ascii',
    });
  });

  it('tolerates a missing semicolon after the type and unquoted values with spaces or "="', () => {
    expect(parseHeaderValue('multipart/mixed boundary=abc').params).toEqual({ boundary: 'abc' });
    expect(decoded('application/pdf; name=my file.pdf; boundary=----=_Part_1')).toEqual({
      name: 'my file.pdf',
      boundary: '----=_Part_1',
    });
  });

  it('ignores parameters without a name or "="', () => {
    expect(decoded('text/plain; =x; junk; a=1')).toEqual({ a: '1' });
  });
});

describe('RFC 2231', () => {
  it('decodes a charset-tagged value', () => {
    expect(decoded("attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf")).toEqual({
      filename: '€ rates.pdf',
    });
    expect(decoded("attachment; filename*=iso-8859-1'de'M%FCnchen.txt")).toEqual({ filename: 'München.txt' });
  });

  it('joins continuations in section order, mixing encoded and plain sections', () => {
    const value =
      'attachment; filename*1*=%20final; filename*2=".pdf"; filename*0*=UTF-8\'\'R%C3%A9sum%C3%A9';
    expect(decoded(value)).toEqual({ filename: 'Résumé final.pdf' });
    expect(wire(value)).toEqual(['filename*', "UTF-8''R%C3%A9sum%C3%A9%20final.pdf"]);
  });

  it('merges plain continuations into a plain parameter', () => {
    expect(wire('text/plain; title*0="Part "; title*1="one"')).toEqual(['title', 'Part one']);
  });

  it('escapes "%" in plain sections and adds the empty charset when the first section is plain', () => {
    expect(wire('x/y; n*0="100%"; n*1*=%21')).toEqual(['n*', "''100%25%21"]);
    expect(decoded('x/y; n*0="100%"; n*1*=%21')).toEqual({ n: '100%!' });
  });

  it('leaves sections with a gap separate on the wire, and joins what is there when decoding', () => {
    expect(wire('x/y; a*0=one; a*2=three')).toEqual(['a*0', 'one', 'a*2', 'three']);
    expect(decoded('x/y; a*0=one; a*2=three')).toEqual({ a: 'onethree' });
  });

  it('puts plain parameters first, then merged ones by name (Dovecot order)', () => {
    expect(wire("x/y; z*=utf-8''z; b=1; a*0=a")).toEqual(['b', '1', 'a', 'a', 'z*', "utf-8''z"]);
  });

  it('prefers the RFC 2231 value over a plain one of the same name', () => {
    expect(decoded('attachment; filename="fallback.txt"; filename*=UTF-8\'\'%C3%A9.txt')).toEqual({
      filename: 'é.txt',
    });
  });

  it('falls back gracefully on an unknown charset or bad escapes', () => {
    expect(decoded("x/y; f*=x-unknown''%C3%A9%zz")).toEqual({ f: 'é%zz' });
  });
});

describe('RFC 2047 in parameters (not allowed, but common)', () => {
  it('decodes encoded words in the decoded view and keeps them on the wire', () => {
    const value = 'attachment; filename="=?UTF-8?B?w7xiZXIudHh0?="';
    expect(decoded(value)).toEqual({ filename: 'über.txt' });
    expect(wire(value)).toEqual(['filename', '=?UTF-8?B?w7xiZXIudHh0?=']);
  });
});
