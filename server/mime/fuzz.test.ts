/**
 * Property tests: random mutations and truncations of the corpus, and random messages assembled from
 * MIME fragments, must index without throwing, satisfy the structural invariants, and answer any
 * section request. A seeded generator keeps failures reproducible (the seed is in the test name).
 */
import { describe, expect, it } from 'vitest';
import { buildIndex } from './build-index.ts';
import { decodedBodyText, decodedHeaders, extractSection, indexMessage, type SectionSpec } from './index.ts';
import { allParts, corpusNames, invariantViolations, readCorpus } from './test-support.ts';
import type { MimeIndex } from './types.ts';

/** mulberry32: small, fast, good enough to drive mutations reproducibly. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(rnd: Random, items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
const int = (rnd: Random, max: number): number => Math.floor(rnd() * (max + 1));

const FRAGMENTS = [
  '\r\n',
  '\n',
  '\r',
  '\0',
  '--',
  '--b\r\n',
  '--b--\r\n',
  '\r\n\r\n',
  ' ',
  '\t',
  ':',
  ';',
  '"',
  '(',
  ')',
  '=?utf-8?b?',
  '?=',
  '=?x?q?a',
  'Content-Type: multipart/mixed; boundary=b\r\n\r\n',
  'Content-Type: multipart/digest; boundary="b"\r\n\r\n',
  'Content-Type: message/rfc822\r\n\r\n',
  "Content-Type: text/plain; charset*0*=utf-8''%C3; charset*1*=%A9\r\n",
  'Content-Transfer-Encoding: base64\r\n',
  'Content-Transfer-Encoding: quoted-printable\r\n',
  'To: a:b,c;d<e@f>(g\r\n',
  '\xff\xfe\x80',
];

function mutate(raw: Buffer, rnd: Random): Buffer {
  let out = raw;
  const steps = 1 + int(rnd, 3);
  for (let i = 0; i < steps; i++) out = mutateOnce(out, rnd);
  return out;
}

function mutateOnce(raw: Buffer, rnd: Random): Buffer {
  const at = int(rnd, raw.length);
  const span = int(rnd, Math.min(64, raw.length - at));
  switch (int(rnd, 6)) {
    case 0:
      return raw.subarray(0, at);
    case 1:
      return Buffer.concat([raw.subarray(0, at), raw.subarray(at + span)]);
    case 2:
      return Buffer.concat([
        raw.subarray(0, at),
        Buffer.from(pick(rnd, FRAGMENTS), 'latin1'),
        raw.subarray(at),
      ]);
    case 3:
      return Buffer.concat([raw.subarray(0, at + span), raw.subarray(at)]);
    case 4: {
      const copy = Buffer.from(raw);
      for (let i = 0; i < 4 && copy.length > 0; i++) copy[int(rnd, copy.length - 1)] = int(rnd, 255);
      return copy;
    }
    case 5:
      return Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    default:
      return Buffer.from(raw.toString('latin1').replace(/\n/g, pick(rnd, ['\r', '\r\n', '\n\n'])), 'latin1');
  }
}

/** A message assembled from header lines, boundary lines, blank lines and text. */
function assemble(rnd: Random): Buffer {
  const pieces = [
    'Content-Type: multipart/mixed; boundary=b\r\n',
    'Content-Type: multipart/alternative; boundary=bb\r\n',
    'Content-Type: message/rfc822\r\n',
    'Subject: =?utf-8?q?x?=\r\n',
    'From: A <a@b>, g: c@d;\r\n',
    '\r\n',
    '--b\r\n',
    '--bb\r\n',
    '--b--\r\n',
    '--bb--\r\n',
    'text line\r\n',
    ' folded\r\n',
    'no colon line\r\n',
  ];
  const count = 1 + int(rnd, 40);
  return Buffer.from(Array.from({ length: count }, () => pick(rnd, pieces)).join(''), 'latin1');
}

function randomSection(index: MimeIndex, rnd: Random): SectionSpec {
  const paths = allParts(index.root)
    .map((p) => p.path)
    .filter((p) => p !== '');
  const base = paths.length > 0 && rnd() < 0.8 ? pick(rnd, paths).split('.').map(Number) : [];
  const part = rnd() < 0.2 ? [...base, 1 + int(rnd, 3)] : base;
  const text = pick(rnd, [null, 'HEADER', 'TEXT', 'MIME', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT'] as const);
  return { part, text, fields: ['subject', 'CONTENT-TYPE', 'x-none'] };
}

function checkAll(raw: Buffer, rnd: Random): void {
  const index = buildIndex(raw);
  expect(invariantViolations(raw, index)).toEqual([]);
  expect(JSON.parse(JSON.stringify(index))).toEqual(index);
  decodedHeaders(raw, index);
  decodedBodyText(raw, index);
  for (let i = 0; i < 5; i++) {
    const result = extractSection(raw, index, randomSection(index, rnd));
    // Only HEADER.FIELDS builds bytes: at most a line break for an unterminated last line, and the blank line.
    expect(result.length).toBeLessThanOrEqual(raw.length + 4);
  }
}

describe('fuzz', () => {
  for (const name of corpusNames()) {
    const seed = [...name].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7);
    it(`mutations of ${name} (seed ${seed})`, () => {
      const rnd = random(seed);
      const raw = readCorpus(name);
      for (let i = 0; i < 60; i++) checkAll(mutate(raw, rnd), rnd);
    });
  }

  it('every truncation of the torture message', () => {
    const raw = readCorpus('torture');
    for (let end = 0; end <= raw.length; end++) {
      const cut = raw.subarray(0, end);
      expect(invariantViolations(cut, buildIndex(cut))).toEqual([]);
    }
  });

  it('assembled messages (seed 2024)', () => {
    const rnd = random(2024);
    for (let i = 0; i < 400; i++) checkAll(assemble(rnd), rnd);
  });

  it('indexMessage never throws, even on arbitrary bytes', () => {
    const rnd = random(99);
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Array.from({ length: int(rnd, 300) }, () => int(rnd, 255)));
      expect(() => indexMessage(bytes)).not.toThrow();
    }
  });

  it('indexes a large message quickly', () => {
    const attachment = Buffer.alloc(8 * 1024 * 1024, 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n');
    const raw = Buffer.concat([
      Buffer.from('Content-Type: multipart/mixed; boundary=big\r\n\r\n--big\r\n\r\ntext\r\n--big\r\n'),
      Buffer.from('Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n'),
      attachment,
      Buffer.from('--big--\r\n'),
    ]);
    const started = performance.now();
    const index = indexMessage(raw);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(index.root.children).toHaveLength(2);
  });
});
