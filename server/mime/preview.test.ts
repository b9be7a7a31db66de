/**
 * The preview read from a window of the body's start (preview.ts) must be what the whole body
 * gives: long bodies in every transfer encoding and in UTF-8 and a legacy charset, HTML whose
 * window ends inside a style element, a comment, a long tag or an entity, white space long enough
 * to push the text past the first window; and the bounds of the rule over the MIME corpus.
 */
import { describe, expect, it } from 'vitest';
import { buildIndex } from './build-index.ts';
import { htmlToText, messagePreview, PREVIEW_MAX_CHARS } from './preview.ts';
import { partText } from './text.ts';
import { corpusNames, readCorpus } from './test-support.ts';
import type { MimePart } from './types.ts';

/** The rule applied to the whole decoded body: what the window must agree with. */
function wholeBodyPreview(raw: Buffer): string {
  const index = buildIndex(raw);
  const leaves: MimePart[] = [];
  const walk = (part: MimePart) =>
    part.children.length === 0 ? leaves.push(part) : part.children.forEach(walk);
  walk(index.root);
  const part = leaves.find((leaf) => leaf.contentType.type === 'text');
  if (!part) return '';
  const text = partText(raw, part);
  const plain = part.contentType.subtype === 'html' ? htmlToText(text) : text;
  return [...plain.replace(/\s+/g, ' ').trim()].slice(0, PREVIEW_MAX_CHARS).join('');
}

function message(type: string, encoding: string, charset: string, body: Buffer): Buffer {
  const encoded =
    encoding === 'base64'
      ? (body.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')
      : encoding === 'quoted-printable'
        ? quotedPrintable(body)
        : body.toString('latin1');
  return Buffer.from(
    `Subject: preview\r\nMIME-Version: 1.0\r\nContent-Type: ${type}; charset=${charset}\r\n` +
      `Content-Transfer-Encoding: ${encoding}\r\n\r\n${encoded}\r\n`,
    'latin1',
  );
}

function quotedPrintable(body: Buffer): string {
  let out = '';
  let line = 0;
  for (const byte of body) {
    const piece =
      byte === 0x0a
        ? '\r\n'
        : byte === 0x0d
          ? ''
          : byte >= 0x21 && byte <= 0x7e && byte !== 0x3d
            ? String.fromCharCode(byte)
            : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    if (piece === '\r\n') line = 0;
    else if (line + piece.length > 75) {
      out += '=\r\n';
      line = 0;
    }
    out += piece;
    line += piece.length;
  }
  return out;
}

const WORDS = 'Grüße aus Köln, 東京 📬 naïve café — entrée des artistes'.split(' ');

function prose(words: number, seed: number): string {
  return Array.from({ length: words }, (_, i) => WORDS[(i * 7 + seed) % WORDS.length]).join(' ');
}

describe('preview from a window of the body', () => {
  it('agrees with the whole body in every encoding and charset', () => {
    for (const encoding of ['7bit', 'base64', 'quoted-printable']) {
      for (const charset of ['utf-8', 'iso-8859-1']) {
        for (const lead of [0, 9000, 40000]) {
          const text = ' \r\n'.repeat(lead / 3) + prose(5000, lead);
          const body =
            charset === 'utf-8'
              ? Buffer.from(text)
              : Buffer.from(text.replace(/[^\p{ASCII}\u0080-\u00ff]/gu, '?'), 'latin1');
          const raw = message('text/plain', encoding, charset, body);
          const preview = messagePreview(raw, buildIndex(raw));
          expect([...preview].length).toBe(PREVIEW_MAX_CHARS);
          expect(preview).toBe(wholeBodyPreview(raw));
        }
      }
    }
  });

  it('agrees with the whole body for HTML cut inside styles, comments, tags and entities', () => {
    const bodies = [
      `<html><head><style>${'p { color: red }\n'.repeat(2000)}</style></head><body><p>${prose(400, 1)}</p>`,
      `<!-- ${'comment '.repeat(3000)} --><p>${prose(400, 2)}</p>`,
      `<p><img src="data:image/png;base64,${'A'.repeat(50000)}">${prose(400, 3)}</p>`,
      `<p>${'&amp; &#x1F4EC; &nbsp; '.repeat(3000)}</p>`,
      `<p>${'<b>x</b> '.repeat(200)}</p><script>${'var a = "<p>not text</p>";\n'.repeat(2000)}</script><p>${prose(400, 4)}</p>`,
      `<div>${prose(5000, 5)}</div>`,
    ];
    for (const [n, html] of bodies.entries()) {
      for (const encoding of ['7bit', 'base64', 'quoted-printable']) {
        const raw = message('text/html', encoding, 'utf-8', Buffer.from(html));
        expect(messagePreview(raw, buildIndex(raw)), `body ${n} ${encoding}`).toBe(wholeBodyPreview(raw));
      }
    }
  });

  it('keeps to 256 code points, trimmed, for every corpus message', () => {
    for (const name of corpusNames()) {
      const raw = readCorpus(name);
      const index = buildIndex(raw);
      const preview = messagePreview(raw, index);
      expect([...preview].length).toBeLessThanOrEqual(PREVIEW_MAX_CHARS);
      expect(preview).not.toMatch(/^\s|\s$/);
    }
  });
});
