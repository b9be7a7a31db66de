/**
 * BODY[section] extraction (RFC 3501 6.4.5) and the section parser.
 */
import { describe, expect, it } from 'vitest';
import { extractSection, indexMessage, parseSectionSpec, partial, type SectionSpec } from './index.ts';

const crlf = (text: string): Buffer => Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');

const raw = crlf(
  [
    'From: a@example.org',
    'Subject: outer',
    'X-Folded: one',
    '\ttwo',
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'first',
    '--b',
    'Content-Type: message/rfc822',
    'Content-Description: attached',
    '',
    'Subject: inner',
    'from: b@example.org',
    '',
    'inner body',
    '--b--',
  ].join('\n'),
);
const index = indexMessage(raw);

function section(text: string): string {
  const spec = parseSectionSpec(text);
  if (spec === null) throw new Error(`invalid section ${text}`);
  return extractSection(raw, index, spec).toString('latin1');
}

describe('extractSection', () => {
  it('returns the whole message, its header and its text', () => {
    expect(section('')).toBe(raw.toString('latin1'));
    expect(section('HEADER') + section('TEXT')).toBe(raw.toString('latin1'));
    expect(section('HEADER').endsWith('boundary=b\r\n\r\n')).toBe(true);
  });

  it('returns a part body and its MIME header', () => {
    expect(section('1')).toBe('first');
    expect(section('1.MIME')).toBe('Content-Type: text/plain\r\n\r\n');
    expect(section('2.MIME')).toBe('Content-Type: message/rfc822\r\nContent-Description: attached\r\n\r\n');
  });

  it('applies HEADER and TEXT of a part to its encapsulated message', () => {
    expect(section('2')).toBe('Subject: inner\r\nfrom: b@example.org\r\n\r\ninner body');
    expect(section('2.HEADER')).toBe('Subject: inner\r\nfrom: b@example.org\r\n\r\n');
    expect(section('2.TEXT')).toBe('inner body');
    expect(section('2.1')).toBe('inner body');
    expect(section('2.HEADER.FIELDS (FROM)')).toBe('from: b@example.org\r\n\r\n');
  });

  it('is empty for HEADER or TEXT of a part that is not a message, and for missing parts', () => {
    expect(section('1.HEADER')).toBe('');
    expect(section('1.TEXT')).toBe('');
    expect(section('3')).toBe('');
    expect(section('2.2')).toBe('');
    expect(section('2.1.1')).toBe('');
  });

  it('selects header fields case-insensitively, with continuation lines, in message order', () => {
    expect(section('HEADER.FIELDS (x-folded FROM)')).toBe(
      'From: a@example.org\r\nX-Folded: one\r\n\ttwo\r\n\r\n',
    );
    expect(section('HEADER.FIELDS.NOT (Content-Type X-Folded)')).toBe(
      'From: a@example.org\r\nSubject: outer\r\n\r\n',
    );
    expect(section('HEADER.FIELDS (No-Such-Field)')).toBe('\r\n');
  });

  it('takes part 1 of any single part as the part itself, as Dovecot does', () => {
    expect(section('1.1')).toBe('first');
    expect(section('1.2')).toBe('');
  });

  it('treats part 1 of a single-part message as its body', () => {
    const single = crlf('Subject: s\n\nbody');
    const singleIndex = indexMessage(single);
    const get = (spec: SectionSpec): string => extractSection(single, singleIndex, spec).toString();
    expect(get({ part: [1], text: null })).toBe('body');
    expect(get({ part: [1], text: 'MIME' })).toBe('Subject: s\r\n\r\n');
    expect(get({ part: [2], text: null })).toBe('');
    expect(get({ part: [0], text: null })).toBe('');
  });

  it('keeps bare-LF line ends in HEADER.FIELDS of a bare-LF message', () => {
    const lf = Buffer.from('A: 1\nB: 2\n\nbody');
    const spec: SectionSpec = { part: [], text: 'HEADER.FIELDS', fields: ['b'] };
    expect(extractSection(lf, indexMessage(lf), spec).toString()).toBe('B: 2\n\n');
  });

  it('ends an unterminated last field line before the blank line', () => {
    const headerOnly = Buffer.from('A: 1\r\nB: 2');
    const spec: SectionSpec = { part: [], text: 'HEADER.FIELDS', fields: ['B'] };
    expect(extractSection(headerOnly, indexMessage(headerOnly), spec).toString()).toBe('B: 2\r\n\r\n');
  });
});

describe('partial', () => {
  const buf = Buffer.from('0123456789');
  it('slices by offset and length, clamped to the section', () => {
    expect(partial(buf, 2, 3).toString()).toBe('234');
    expect(partial(buf, 8, 100).toString()).toBe('89');
    expect(partial(buf, 4).toString()).toBe('456789');
    expect(partial(buf, 20, 5).toString()).toBe('');
    expect(partial(buf, 0, 0).toString()).toBe('');
  });
});

describe('parseSectionSpec', () => {
  it('parses every section form', () => {
    expect(parseSectionSpec('')).toEqual({ part: [], text: null });
    expect(parseSectionSpec('header')).toEqual({ part: [], text: 'HEADER' });
    expect(parseSectionSpec('TEXT')).toEqual({ part: [], text: 'TEXT' });
    expect(parseSectionSpec('1.2.3')).toEqual({ part: [1, 2, 3], text: null });
    expect(parseSectionSpec('4.MIME')).toEqual({ part: [4], text: 'MIME' });
    expect(parseSectionSpec('2.HEADER')).toEqual({ part: [2], text: 'HEADER' });
    expect(parseSectionSpec('HEADER.FIELDS (From "Subject" x-y)')).toEqual({
      part: [],
      text: 'HEADER.FIELDS',
      fields: ['From', 'Subject', 'x-y'],
    });
    expect(parseSectionSpec('1.HEADER.FIELDS.NOT (Received)')).toEqual({
      part: [1],
      text: 'HEADER.FIELDS.NOT',
      fields: ['Received'],
    });
  });

  it('rejects malformed sections', () => {
    for (const bad of [
      'MIME',
      '0',
      '1.0',
      '1.',
      '.1',
      '1..2',
      '1HEADER',
      'BODY',
      'HEADER.FIELDS ()',
      'HEADER.FIELDS (a',
      'HEADER.FIELDS (a(b))',
    ]) {
      expect(parseSectionSpec(bad), bad).toBeNull();
    }
  });
});
