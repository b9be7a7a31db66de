/**
 * The part tree and BODYSTRUCTURE on small hand-written messages, one rule per test. Expected values
 * are worked out by hand from RFC 2046 / RFC 3501 (sizes count the body bytes as stored; the line
 * break before a boundary belongs to the boundary; lines count LF bytes, as Dovecot does).
 */
import { describe, expect, it } from 'vitest';
import { extractSection, indexMessage } from './index.ts';
import { MAX_DEPTH } from './parser.ts';
import { allParts, formatNested, invariantViolations } from './test-support.ts';
import type { MimeIndex } from './types.ts';

const crlf = (text: string): Buffer => Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');

function index(raw: Buffer): MimeIndex {
  const result = indexMessage(raw);
  expect(invariantViolations(raw, result)).toEqual([]);
  return result;
}

const bodystructure = (raw: Buffer): string => formatNested(index(raw).bodyStructure);
const body = (raw: Buffer): string => formatNested(index(raw).body);
const parts = (raw: Buffer): string[] =>
  allParts(index(raw).root).map(
    (p) =>
      `${p.path || '-'} ${p.contentType.type}/${p.contentType.subtype} ${raw.toString('latin1', p.bodyStart, p.bodyEnd)}`,
  );

describe('single-part messages', () => {
  it('counts the body size in bytes and its lines as LF bytes', () => {
    const raw = crlf('Subject: x\nContent-Type: text/plain; charset=utf-8\n\nline 1\nline 2');
    expect(body(raw)).toBe('("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 14 1)');
  });

  it('defaults to text/plain; charset=us-ascii and 7bit', () => {
    expect(bodystructure(crlf('Subject: x\n\nhi\n'))).toBe(
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 4 1 NIL NIL NIL NIL)',
    );
  });

  it('adds charset us-ascii to a text type without one, but not to other types', () => {
    expect(body(crlf('Content-Type: text/html\n\nx'))).toBe(
      '("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 1 0)',
    );
    expect(body(crlf('Content-Type: image/gif\n\nx'))).toBe('("image" "gif" NIL NIL NIL "7bit" 1)');
  });

  it('lower-cases type, subtype and encoding', () => {
    const raw = crlf(
      'Content-Type: TEXT/HTML; CHARSET=UTF-8\nContent-Transfer-Encoding: QUOTED-PRINTABLE\n\nx',
    );
    expect(body(raw)).toBe('("text" "html" ("charset" "UTF-8") NIL NIL "quoted-printable" 1 0)');
  });

  it('uses the default type for a Content-Type without a valid subtype', () => {
    expect(body(crlf('Content-Type: text\n\nx'))).toBe(
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0)',
    );
    expect(body(crlf('Content-Type: text/pl ain/x\n\nx'))).toBe(
      '("text" "pl" ("charset" "us-ascii") NIL NIL "7bit" 1 0)',
    );
  });

  it('allows whitespace and comments around the slash of a Content-Type', () => {
    expect(body(crlf('Content-Type: text / html (markup); charset=utf-8\n\nx'))).toBe(
      '("text" "html" ("charset" "utf-8") NIL NIL "7bit" 1 0)',
    );
  });

  it('takes an invalid transfer encoding as 7bit', () => {
    expect(body(crlf('Content-Transfer-Encoding: ?bad\n\nx'))).toBe(
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0)',
    );
  });

  it('ignores Content-* headers of a message that is not MIME (no MIME-Version, no Content-Type)', () => {
    const raw = crlf('Content-Transfer-Encoding: base64\nContent-Description: ignored\n\nx');
    expect(body(raw)).toBe('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0)');
    const mime = crlf('MIME-Version: 1.0\nContent-Transfer-Encoding: base64\nContent-Description: kept\n\nx');
    expect(body(mime)).toBe('("text" "plain" ("charset" "us-ascii") NIL "kept" "base64" 1 0)');
  });

  it('takes the first of repeated Content-* headers', () => {
    const raw = crlf(
      'Content-Type: text/html\nContent-Type: image/png\nContent-ID: <a>\nContent-ID: <b>\n\nx',
    );
    expect(body(raw)).toBe('("text" "html" ("charset" "us-ascii") "<a>" NIL "7bit" 1 0)');
  });

  it('writes all extension data: md5, disposition, language, location', () => {
    const raw = crlf(
      [
        'Content-Type: application/octet-stream; name=a.bin',
        'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
        'Content-Disposition: ATTACHMENT; filename="a b.bin"; size=3',
        'Content-Language: en-GB, (comment) fr',
        'Content-Location: http://example.com/a.bin',
        '',
        'abc',
      ].join('\n'),
    );
    expect(bodystructure(raw)).toBe(
      '("application" "octet-stream" ("name" "a.bin") NIL NIL "7bit" 3 "Q2hlY2sgSW50ZWdyaXR5IQ==" ' +
        '("attachment" ("filename" "a b.bin" "size" "3")) ("en-GB" "fr") "http://example.com/a.bin")',
    );
  });

  it('unfolds header values and keeps RFC 2047 words raw in BODYSTRUCTURE strings', () => {
    const raw = crlf(
      'Content-Type: text/plain;\n\tcharset="utf-8"\nContent-Description: =?utf-8?q?caf=C3=A9?=\n  menu\n\nx',
    );
    expect(body(raw)).toBe(
      '("text" "plain" ("charset" "utf-8") NIL "=?utf-8?q?caf=C3=A9?=  menu" "7bit" 1 0)',
    );
  });

  it('indexes an empty message and a header without body', () => {
    expect(body(Buffer.alloc(0))).toBe('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)');
    const headerOnly = index(crlf('Subject: only\n'));
    expect(headerOnly.root.bodyStart).toBe(headerOnly.root.bodyEnd);
  });

  it('starts the body after the first blank line, even a bare LF one', () => {
    const raw = Buffer.from('Subject: x\n\nbody\n');
    const { root } = index(raw);
    expect([root.bodyStart, root.bodyEnd, root.lines]).toEqual([12, 17, 1]);
  });

  it('keeps a line without a colon inside the header', () => {
    const raw = crlf('Subject: x\nthis is not a header\nContent-Type: text/html\n\nbody');
    const { root } = index(raw);
    expect(root.contentType.subtype).toBe('html');
    expect(raw.toString('latin1', root.bodyStart)).toBe('body');
  });
});

describe('multipart', () => {
  it('gives the CRLF before a boundary line to the boundary', () => {
    const raw = crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n\n--b\n\ntwo\n--b--\n');
    expect(parts(raw).slice(1)).toEqual(['1 text/plain one\r\n', '2 text/plain two']);
    expect(body(raw)).toBe(
      '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1)' +
        ' ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 3 0) "mixed")',
    );
  });

  it('joins a folded quoted boundary and matches it with its space', () => {
    const raw = crlf('Content-Type: multipart/mixed; boundary="a\n b"\n\n--a b\n\nx\n--a b--\n');
    expect(parts(raw).slice(1)).toEqual(['1 text/plain x']);
  });

  it('matches a boundary line by prefix, ignoring what follows it', () => {
    const raw = crlf(
      'Content-Type: multipart/mixed; boundary=b\n\n--b   trailing junk\n\nx\n--b--junk\nepilogue',
    );
    expect(parts(raw).slice(1)).toEqual(['1 text/plain x']);
  });

  it('takes the longest matching boundary when one is a prefix of another', () => {
    const raw = crlf(
      [
        'Content-Type: multipart/mixed; boundary="xx"',
        '',
        '--xx',
        'Content-Type: multipart/alternative; boundary="xx-inner"',
        '',
        '--xx-inner',
        '',
        'a',
        '--xx-inner',
        '',
        'b',
        '--xx-inner--',
        '--xx',
        '',
        'c',
        '--xx--',
      ].join('\n'),
    );
    expect(
      parts(raw)
        .slice(1)
        .map((p) => p.split(' ')[0] + ' ' + p.split(' ').slice(2).join(' ')),
    ).toEqual(['1 --xx-inner\r\n\r\na\r\n--xx-inner\r\n\r\nb\r\n--xx-inner--\r\n', '1.1 a', '1.2 b', '2 c']);
  });

  it('lets an outer boundary end an inner multipart that was never closed', () => {
    const raw = crlf(
      'Content-Type: multipart/mixed; boundary=out\n\n--out\nContent-Type: multipart/mixed; boundary=in\n\n--in\n\ninner\n--out\n\nafter\n--out--\n',
    );
    expect(
      parts(raw)
        .slice(1)
        .map((p) => p.split(' ')[0]),
    ).toEqual(['1', '1.1', '2']);
    expect(parts(raw)[2]).toBe('1.1 text/plain inner');
  });

  it('lets an outer boundary cut a part header short; the line break goes to the boundary', () => {
    const raw = crlf(
      'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n--b\n\nx\n--b--\n',
    );
    const root = index(raw).root;
    const first = root.children[0];
    expect(raw.toString('latin1', first?.headerStart, first?.bodyStart)).toBe('Content-Type: text/html');
    expect(first?.contentType.subtype).toBe('html');
    expect(first?.bodyEnd).toBe(first?.bodyStart);
    expect(root.children).toHaveLength(2);
  });

  it('does not end a part at a line that merely starts with "--"', () => {
    const raw = crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\n-- \nsignature\n--c\n--b--\n');
    expect(parts(raw)[1]).toBe('1 text/plain -- \r\nsignature\r\n--c');
  });

  it('opens a part at a final boundary line only when the line is complete', () => {
    expect(
      index(crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b')).root.children,
    ).toHaveLength(1);
    const complete = index(crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b\n')).root
      .children;
    expect(complete.map((p) => [p.bodyStart === p.bodyEnd, p.headerStart === p.bodyStart])).toEqual([
      [false, false],
      [true, true],
    ]);
  });

  it('runs to the end of the message when the closing boundary is missing', () => {
    const raw = crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\nunterminated\n');
    expect(parts(raw)[1]).toBe('1 text/plain unterminated\r\n');
  });

  it('shows a multipart without boundary, or whose boundary never appears, as one empty text part', () => {
    const expected =
      '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" NIL NIL NIL NIL)';
    const noBoundary = crlf('Content-Type: multipart/mixed\n\n--x\n\ntext\n');
    expect(bodystructure(noBoundary)).toBe(expected);
    expect(index(noBoundary).root.children).toEqual([]);
    const neverFound = crlf('Content-Type: multipart/mixed; boundary=zz\n\n--x\n\ntext\n');
    expect(bodystructure(neverFound)).toBe(expected.replace('"mixed" NIL', '"mixed" ("boundary" "zz")'));
    const emptyBoundary = crlf('Content-Type: multipart/mixed; boundary=""\n\n--\n\ntext\n');
    expect(index(emptyBoundary).root.children).toEqual([]);
  });

  it('defaults parts of multipart/digest to message/rfc822', () => {
    const raw = crlf(
      'Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody\n--d\nContent-Type: text/plain\n\nplain\n--d--\n',
    );
    expect(body(raw)).toBe(
      '(("message" "rfc822" NIL NIL NIL "7bit" 20 (NIL "one" NIL NIL NIL NIL NIL NIL NIL NIL) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 4 0) 2) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 0) "digest")',
    );
  });

  it('numbers nested parts as RFC 3501 does', () => {
    const raw = crlf(
      [
        'Content-Type: multipart/mixed; boundary=a',
        '',
        '--a',
        '',
        'one',
        '--a',
        'Content-Type: message/rfc822',
        '',
        'Subject: inner',
        'Content-Type: multipart/alternative; boundary=b',
        '',
        '--b',
        '',
        'inner one',
        '--b',
        'Content-Type: message/rfc822',
        '',
        'Subject: innermost',
        '',
        'deep',
        '--b--',
        '--a--',
      ].join('\n'),
    );
    expect(allParts(index(raw).root).map((p) => p.path)).toEqual(['', '1', '2', '2', '2.1', '2.2', '2.2']);
  });
});

describe('message/rfc822', () => {
  it('shows the encapsulated envelope, body and line count', () => {
    const raw = crlf('Content-Type: message/rfc822\nMIME-Version: 1.0\n\nFrom: a@b.c\nSubject: s\n\nbody\n');
    expect(body(raw)).toBe(
      '("message" "rfc822" NIL NIL NIL "7bit" 33 (NIL "s" ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ' +
        '((NIL NIL "a" "b.c")) NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1) 4)',
    );
  });

  it('numbers a message inside a message that is itself message/rfc822 as its part 1', () => {
    const raw = crlf(
      [
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: message/rfc822',
        '',
        'Subject: wrapper',
        'Content-Type: message/rfc822',
        '',
        'Subject: wrapped',
        'Content-Type: multipart/alternative; boundary=c',
        '',
        '--c',
        '',
        'deep',
        '--c--',
        '--b--',
      ].join('\n'),
    );
    const result = index(raw);
    expect(allParts(result.root).map((p) => p.path)).toEqual(['', '1', '1', '1.1', '1.1.1']);
    const deep = extractSection(raw, result, { part: [1, 1, 1], text: null }).toString();
    expect(deep).toBe('deep');
    expect(extractSection(raw, result, { part: [1, 1], text: 'HEADER' }).toString()).toBe(
      'Subject: wrapped\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n',
    );
  });

  it('keeps an empty encapsulated message when a boundary cuts the part header', () => {
    const raw = crlf(
      'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n--b--\n',
    );
    expect(body(raw)).toBe(
      '(("message" "rfc822" NIL NIL NIL "7bit" 0 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) 0) "mixed")',
    );
  });
});

describe('limits', () => {
  function nestedMultiparts(depth: number): Buffer {
    let text = 'deep\n';
    for (let i = depth; i > 0; i--) {
      text = `Content-Type: multipart/mixed; boundary=b${i}\n\n--b${i}\n${text}--b${i}--\n`;
    }
    return crlf(`Subject: deep\n${text}`);
  }

  function nestedMessages(depth: number): Buffer {
    let text = 'Subject: innermost\n\ndeep\n';
    for (let i = 0; i < depth; i++) text = `Content-Type: message/rfc822\n\n${text}`;
    return crlf(`MIME-Version: 1.0\n${text}`);
  }

  it('caps multipart nesting and still indexes the message', () => {
    const result = index(nestedMultiparts(500));
    const depth = Math.max(...allParts(result.root).map((p) => p.path.split('.').length));
    expect(depth).toBeLessThanOrEqual(MAX_DEPTH);
    expect(depth).toBeGreaterThan(MAX_DEPTH - 2);
  });

  it('caps message/rfc822 nesting with a placeholder that keeps BODYSTRUCTURE well-formed', () => {
    const result = index(nestedMessages(300));
    const text = formatNested(result.bodyStructure);
    expect(text).toContain('(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
    expect(allParts(result.root).length).toBeLessThanOrEqual(2 * MAX_DEPTH + 2);
  });

  it('stops adding parts after the part limit without losing bytes', () => {
    const many = Array.from({ length: 12_000 }, (_, i) => `--b\n\n${i}\n`).join('');
    const raw = crlf(`Content-Type: multipart/mixed; boundary=b\n\n${many}--b--\n`);
    const result = index(raw);
    expect(result.root.children.length).toBeLessThan(10_000);
    expect(result.root.bodyEnd).toBe(raw.length);
  });
});
