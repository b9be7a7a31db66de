import { describe, expect, it } from 'vitest';
import { indexMessage } from '../../mime/index.ts';
import type { JournalEntry, MessageSummary } from '../../store/types.ts';
import { ResponseBuilder } from '../encoder/index.ts';
import { MailboxView } from '../mailbox-view.ts';
import { CORPUS, ENCODED, FORWARD, MULTIPART, PLAIN } from '../fetch/test-corpus.ts';
import type { SearchCommand } from '../parser/index.ts';
import { parse } from '../parser/test-helpers.ts';
import type { TimeSlice } from '../time-slice.ts';
import { compileSearch, Cost, type CompiledSearch, type MatchNode } from './compile.ts';
import { MessageText } from './content.ts';
import { dayNumber, localDay, sentDay } from './dates.ts';
import { evaluate, inRanges, type SearchSubject, type Verdict } from './evaluate.ts';
import { isFilterableNeedle, RawText } from './raw-filter.ts';
import { writeEsearch, writeNumbers, writeSearch } from './response.ts';
import { searchView } from './view-only.ts';
import { journalEntry, testMailbox, testSummary } from '../view-test-helpers.ts';

const NOW = Date.UTC(2025, 5, 10, 12, 0, 0);

function searchCommand(criteria: string): SearchCommand {
  const parsed = parse(`a SEARCH ${criteria}`);
  if (!('name' in parsed) || parsed.name !== 'SEARCH') throw new Error(`not a SEARCH: ${criteria}`);
  return parsed;
}

const compile = (criteria: string, exists = 5, maxUid = 50): CompiledSearch =>
  compileSearch(searchCommand(criteria).criteria, { exists, maxUid, now: NOW });

function subject(over: Partial<SearchSubject> = {}): SearchSubject {
  return {
    seq: 1,
    uid: 10,
    flags: [],
    recent: false,
    modseq: 5,
    summary: null,
    index: null,
    raw: null,
    text: null,
    ...over,
  };
}

function summary(over: Partial<MessageSummary> = {}): MessageSummary {
  return {
    mailboxId: '1',
    uid: 10,
    modseq: 5,
    flags: [],
    internalDate: new Date(NOW - 3600_000),
    size: 1000,
    blobId: 'x',
    savedAt: null,
    threadId: null,
    ...over,
  };
}

/** A subject with everything loaded from a raw message. */
function loaded(raw: Buffer, over: Partial<SearchSubject> = {}): SearchSubject {
  const index = indexMessage(raw);
  return subject({
    summary: summary({ size: raw.length }),
    index,
    raw: new RawText(raw),
    text: new MessageText(raw, index),
    ...over,
  });
}

const matches = (criteria: string, s: SearchSubject) => evaluate(compile(criteria).root, s);

describe('search compilation', () => {
  it('orders AND children and OR branches cheapest first', () => {
    const search = compile('BODY x LARGER 5 SEEN');
    expect(search.root).toMatchObject({
      kind: 'and',
      nodes: [{ kind: 'flag' }, { kind: 'size' }, { kind: 'body' }],
      cost: Cost.content,
    });
    expect(compile('OR TEXT a UID 1').root).toMatchObject({
      kind: 'or',
      nodes: [{ kind: 'uid' }, { kind: 'text' }],
    });
  });

  it('notes MODSEQ and index-only keys', () => {
    expect(compile('MODSEQ 4')).toMatchObject({ hasModseq: true, cost: Cost.view });
    expect(compile('SENTON 1-Jan-2025')).toMatchObject({ usesIndex: true, cost: Cost.index });
  });

  it('reads $ (SEARCHRES) as the saved result given, empty without one', () => {
    expect(compile('UID $').root).toMatchObject({ kind: 'uid', ranges: [] });
    const saved = { seqs: [1], uids: [7] };
    const withSaved = (criteria: string) =>
      compileSearch(searchCommand(criteria).criteria, { exists: 5, maxUid: 50, now: NOW, saved }).root;
    expect(withSaved('UID $')).toMatchObject({ kind: 'uid', ranges: [[7, 7]] });
    expect(withSaved('$')).toMatchObject({ kind: 'seq', ranges: [[1, 1]] });
  });
});

describe('search evaluation', () => {
  it('matches flags case-insensitively, \\Recent from the session, NEW and OLD', () => {
    const s = subject({ flags: ['\\Seen', '$Important'], recent: true });
    expect(matches('SEEN', s)).toBe(true);
    expect(matches('UNSEEN', s)).toBe(false);
    expect(matches('KEYWORD $important', s)).toBe(true);
    expect(matches('UNKEYWORD $Other', s)).toBe(true);
    expect(matches('RECENT', s)).toBe(true);
    expect(matches('NEW', s)).toBe(false);
    expect(matches('NEW', subject({ recent: true }))).toBe(true);
    expect(matches('OLD', s)).toBe(false);
    expect(matches('ANSWERED', s)).toBe(false);
  });

  it('takes a key a store index ruled out as false, NOT and OR included, without the body', () => {
    const search = compile('OR BODY "the quick brown" NOT TEXT "x lazy y"');
    const [body, text] = (search.root as { nodes: MatchNode[] }).nodes.flatMap((node) =>
      node.kind === 'not' ? [node.node] : [node],
    );
    // Neither key's bodies hold this message: BODY is false, so NOT TEXT is true; nothing read.
    const ruledOut = new Map<MatchNode, Verdict>([
      [body!, false],
      [text!, false],
    ]);
    expect(evaluate(search.root, subject({ summary: summary(), content: ruledOut }))).toBe(true);
    // Only TEXT ruled out: BODY still needs the body (unknown until it is read), then decides.
    const textOnly = new Map<MatchNode, Verdict>([[text!, false]]);
    expect(evaluate(compile('BODY "the quick brown"').root, subject({ content: textOnly }))).toBeNull();
    expect(evaluate(search.root, loaded(PLAIN, { content: textOnly }))).toBe(true);
  });

  it('matches sequence numbers, UIDs and MODSEQ', () => {
    const s = subject({ seq: 3, uid: 30, modseq: 7 });
    expect(matches('2:4', s)).toBe(true);
    expect(matches('*', s)).toBe(false);
    expect(matches('*', subject({ seq: 5 }))).toBe(true);
    expect(matches('UID 1:29,31:*', s)).toBe(false);
    expect(matches('UID 30', s)).toBe(true);
    expect(matches('MODSEQ 7', s)).toBe(true);
    expect(matches('MODSEQ 8', s)).toBe(false);
  });

  it('is unknown for data not loaded yet, unless cheaper keys decide', () => {
    const s = subject({ flags: ['\\Seen'] });
    expect(matches('BODY fox', s)).toBeNull();
    expect(matches('UNSEEN BODY fox', s)).toBe(false);
    expect(matches('OR SEEN BODY fox', s)).toBe(true);
    expect(matches('NOT BODY fox', s)).toBeNull();
    expect(matches('LARGER 10', s)).toBeNull();
  });

  it('compares sizes and internal dates', () => {
    const internalDate = new Date(2025, 5, 2, 12, 0, 0); // local noon, 2 June 2025
    const s = subject({ summary: summary({ size: 100, internalDate }) });
    expect(matches('LARGER 99', s)).toBe(true);
    expect(matches('LARGER 100', s)).toBe(false);
    expect(matches('SMALLER 101', s)).toBe(true);
    expect(matches('ON 2-Jun-2025', s)).toBe(true);
    expect(matches('BEFORE 2-Jun-2025', s)).toBe(false);
    expect(matches('BEFORE 3-Jun-2025', s)).toBe(true);
    expect(matches('SINCE 2-Jun-2025', s)).toBe(true);
    expect(matches('SINCE 3-Jun-2025', s)).toBe(false);
  });

  it('matches YOUNGER and OLDER against now', () => {
    const s = subject({ summary: summary({ internalDate: new Date(NOW - 3600_000) }) });
    expect(matches('YOUNGER 3601', s)).toBe(true);
    expect(matches('YOUNGER 3599', s)).toBe(false);
    expect(matches('OLDER 3599', s)).toBe(true);
    expect(matches('OLDER 3601', s)).toBe(false);
  });

  it('uses the Date header as written for SENT* keys', () => {
    // 2 June 23:30 -0700 is 3 June in UTC: the header's own day counts.
    const s = loaded(PLAIN);
    expect(matches('SENTON 2-Jun-2025', s)).toBe(true);
    expect(matches('SENTBEFORE 3-Jun-2025', s)).toBe(true);
    expect(matches('SENTSINCE 3-Jun-2025', s)).toBe(false);
    expect(matches('SENTON 6-Jun-2025', loaded(ENCODED))).toBe(true);
  });

  it('matches header fields on decoded values, "" as presence', () => {
    const s = loaded(MULTIPART);
    expect(matches('SUBJECT "grüße aus"', s)).toBe(true);
    expect(matches('FROM "jürgen"', s)).toBe(true);
    expect(matches('FROM JUERGEN@EXAMPLE.DE', s)).toBe(true);
    expect(matches('TO bob', s)).toBe(false);
    expect(matches('HEADER X-Colour vermilion', loaded(PLAIN))).toBe(true);
    expect(matches('HEADER X-Colour ""', loaded(PLAIN))).toBe(true);
    expect(matches('HEADER X-Colour ""', s)).toBe(false);
    expect(matches('CC team', loaded(FORWARD))).toBe(true);
    expect(matches('SUBJECT "réunion"', loaded(ENCODED))).toBe(true);
    expect(matches('FROM "andré"', loaded(ENCODED))).toBe(true);
  });

  it('matches BODY on decoded text only and TEXT on headers and text', () => {
    const s = loaded(MULTIPART);
    expect(matches('BODY "café ist geschlossen"', s)).toBe(true);
    expect(matches('BODY "köln"', s)).toBe(false);
    expect(matches('TEXT "köln"', s)).toBe(true);
    expect(matches('TEXT "subject: grüße"', s)).toBe(true);
    expect(matches('BODY "BUDGET APPROVED"', loaded(FORWARD))).toBe(true);
    expect(matches('BODY "ünïcödé"', loaded(ENCODED))).toBe(true);
    expect(matches('BODY "ÜNÏCÖDÉ"', loaded(ENCODED))).toBe(true);
    expect(matches('BODY ""', loaded(PLAIN))).toBe(true);
  });

  it('evaluates every corpus message without throwing', () => {
    for (const raw of CORPUS)
      expect(typeof matches('TEXT x OR BODY y SENTBEFORE 1-Jan-2030', loaded(raw))).toBe('boolean');
  });
});

describe('raw filter', () => {
  const message = (header: string, body: string) => Buffer.from(`${header}\r\n\r\n${body}`, 'latin1');

  it('rules out plain ASCII messages without the needle, and only those', () => {
    const plain = new RawText(message('Subject: Hello\r\nContent-Type: text/plain; charset=us-ascii', 'fox'));
    expect(plain.excludes('dog')).toBe(true);
    expect(plain.excludes('fox')).toBe(false);
    expect(plain.excludes('hello')).toBe(false);
    // A single part: only its header counts, "=?" in the body does not matter.
    expect(new RawText(message('Subject: x', 'a=?b')).excludes('dog')).toBe(true);
    expect(new RawText(message('Subject: x', 'Content-Transfer-Encoding: base64')).excludes('dog')).toBe(
      true,
    );
    expect(new RawText(Buffer.from('\r\nSubject: =?x?q?dog?=')).excludes('cat')).toBe(true);
    expect(new RawText(Buffer.from('Subject: x\n\nSubject: =?x?q?dog?=\r\n\r\n')).excludes('cat')).toBe(true);
  });

  it('never rules out when decoding could reveal the needle', () => {
    const cases = [
      message('Subject: =?utf-8?q?d=6Fg?=', 'x'),
      message('Content-Transfer-Encoding: base64', Buffer.from('dog').toString('base64')),
      message('Content-Transfer-Encoding: Quoted-Printable', 'd=6Fg'),
      message('Content-Transfer-Encoding: (old) base64', Buffer.from('dog').toString('base64')),
      message('Content-Transfer-Encoding:\r\n "base64"', Buffer.from('dog').toString('base64')),
      message('Content-Type: text/plain; charset="utf-16le"', 'd\0o\0g\0'),
      message("Content-Type: text/plain; charset*=utf-8''x", 'x'),
      message('Content-Type: text/plain; charset=iso-2022-jp', 'x'),
      Buffer.from('Subject: caf\xc3\xa9\r\n\r\nKelvin \xe2\x84\xaa', 'latin1'),
      message(
        'Content-Type: multipart/mixed; boundary=b',
        '--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nZG9n\r\n--b--',
      ),
      message(
        'Content-Type: (comment) multipart/mixed; boundary=b',
        '--b\r\nContent-Type: text/plain; charset=utf-7\r\n\r\nx',
      ),
      message('Content-Type: message/rfc822', 'Subject: =?utf-8?q?dog?=\r\n\r\nx'),
      Buffer.from('From: x\nSubject: =?utf-8?q?dog?=\n\nbody\r\n\r\nmore'),
      Buffer.from('From: x\r\nSubject: =?utf-8?q?dog?=\r\n\r\nbody\n\nmore'),
    ];
    for (const raw of cases) expect(new RawText(raw).excludes('dog')).toBe(false);
  });

  it('only takes needles without whitespace or colon', () => {
    expect(isFilterableNeedle('fox')).toBe(true);
    expect(isFilterableNeedle('lazy dog')).toBe(false);
    expect(isFilterableNeedle('subject:')).toBe(false);
    expect(isFilterableNeedle('')).toBe(false);
    expect(isFilterableNeedle('café')).toBe(false);
  });

  it('agrees with full decoding on the corpus', () => {
    const needles = [
      'fox',
      'budget',
      'strasse',
      'ünïcödé',
      'grüße',
      'erin',
      'attachment',
      'x-colour',
      'zzz',
      'data.bin',
    ];
    for (const raw of CORPUS) {
      const full = loaded(raw);
      const quick = subject({ raw: new RawText(raw) });
      for (const key of needles.flatMap((n) => [`TEXT "${n}"`, `BODY "${n}"`, `FROM "${n}"`])) {
        const verdict = matches(key, quick);
        if (verdict !== null) expect(matches(key, full), key).toBe(verdict);
      }
    }
  });
});

describe('search helpers', () => {
  it('finds numbers in ranges', () => {
    const ranges: Array<[number, number]> = [
      [1, 3],
      [7, 7],
      [10, 20],
    ];
    expect([0, 1, 3, 4, 7, 8, 10, 20, 21].map((n) => inRanges(ranges, n))).toEqual([
      false,
      true,
      true,
      false,
      true,
      false,
      true,
      true,
      false,
    ]);
    expect(inRanges([], 1)).toBe(false);
  });

  it('computes calendar days', () => {
    expect(dayNumber(1970, 1, 1)).toBe(0);
    expect(dayNumber(1970, 1, 2)).toBe(1);
    expect(dayNumber(50, 1, 1)).toBeLessThan(dayNumber(1950, 1, 1));
    expect(localDay(new Date(2025, 0, 31, 23, 59))).toBe(dayNumber(2025, 1, 31));
    expect(sentDay('Mon, 2 Jun 2025 23:30:00 -0700', null)).toBe(dayNumber(2025, 6, 2));
    expect(sentDay('2 Jun 99 10:00 GMT', null)).toBe(dayNumber(1999, 6, 2));
    expect(sentDay('(comment) 7 Jul 2024', null)).toBe(dayNumber(2024, 7, 7));
    expect(sentDay('garbage', Date.UTC(2024, 0, 5, 23))).toBe(dayNumber(2024, 1, 5));
    expect(sentDay(null, null)).toBeNull();
  });
});

describe('search responses', () => {
  const write = (fn: (builder: ResponseBuilder) => void) => {
    const builder = new ResponseBuilder();
    fn(builder);
    return builder.toBuffer().toString();
  };

  it('writes SEARCH, with MODSEQ only when something matched', () => {
    expect(write((b) => writeSearch(b, { numbers: [2, 5, 7], modseqs: [1, 9, 3], withModseq: false }))).toBe(
      '* SEARCH 2 5 7\r\n',
    );
    expect(write((b) => writeSearch(b, { numbers: [2, 5, 7], modseqs: [1, 9, 3], withModseq: true }))).toBe(
      '* SEARCH 2 5 7 (MODSEQ 9)\r\n',
    );
    expect(write((b) => writeSearch(b, { numbers: [], modseqs: [], withModseq: true }))).toBe('* SEARCH\r\n');
  });

  it('writes ESEARCH with the requested results', () => {
    const answer = { numbers: [2, 3, 4, 9], modseqs: [8, 1, 2, 3], withModseq: false };
    expect(write((b) => writeEsearch(b, 'A1', true, ['MIN', 'MAX', 'COUNT', 'ALL'], answer))).toBe(
      '* ESEARCH (TAG "A1") UID MIN 2 MAX 9 COUNT 4 ALL 2:4,9\r\n',
    );
    expect(
      write((b) => writeEsearch(b, 'A2', false, ['COUNT'], { ...answer, numbers: [], modseqs: [] })),
    ).toBe('* ESEARCH (TAG "A2") COUNT 0\r\n');
    expect(
      write((b) => writeEsearch(b, 'A3', false, ['MIN', 'ALL'], { ...answer, numbers: [], modseqs: [] })),
    ).toBe('* ESEARCH (TAG "A3")\r\n');
  });

  it('reports the MODSEQ of the returned messages with MIN/MAX only', () => {
    const answer = { numbers: [2, 3, 4, 9], modseqs: [8, 1, 20, 3], withModseq: true };
    expect(write((b) => writeEsearch(b, 'm', false, ['MAX'], answer))).toBe(
      '* ESEARCH (TAG "m") MAX 9 MODSEQ 3\r\n',
    );
    expect(write((b) => writeEsearch(b, 'm', false, ['MIN', 'MAX'], answer))).toBe(
      '* ESEARCH (TAG "m") MIN 2 MAX 9 MODSEQ 8\r\n',
    );
    expect(write((b) => writeEsearch(b, 'm', false, ['COUNT'], answer))).toBe(
      '* ESEARCH (TAG "m") COUNT 4 MODSEQ 20\r\n',
    );
  });
});

describe('writeNumbers', () => {
  it('writes every number, in the order given, across chunks sized by their longest number', () => {
    // Short numbers, then long ones, then short again (SORT's order is not ascending).
    const numbers = Array.from({ length: 10_000 }, (_, i) => (i % 4096 < 5 ? 4_294_967_295 - i : i % 97));
    numbers.push(Number.MAX_SAFE_INTEGER, 0);
    const builder = new ResponseBuilder();
    writeNumbers(builder, numbers);
    expect(builder.toBuffer().toString('latin1')).toBe(` ${numbers.join(' ')}`);
  });
});

describe('searchView on flags over a big mailbox', () => {
  const MESSAGES = 40_000;
  const mailbox = testMailbox(MESSAGES);
  const summaryOf = (uid: number) => testSummary(uid, uid % 3 === 0 ? [] : ['\\Seen']);
  let modseq = MESSAGES;
  const entry = (kind: JournalEntry['kind'], uid: number, flags: string[] | null = null) =>
    journalEntry(kind, uid, ++modseq, flags);
  const unseen = compile('UNSEEN', MESSAGES, MESSAGES);
  const thirds = (last: number) => Array.from({ length: Math.floor(last / 3) }, (_, i) => 3 * (i + 1));

  /** The search with `changes` made while it yields (it yields at every chance). */
  async function searched(changes: (view: MailboxView) => void) {
    const view = new MailboxView(
      mailbox,
      Array.from({ length: MESSAGES }, (_, i) => summaryOf(i + 1)),
      false,
      [],
    );
    let yields = 0;
    const slice = {
      due: true,
      yield: async () => {
        if (yields++ === 0) changes(view);
      },
    } as unknown as TimeSlice;
    const result = await searchView(view, unseen, slice);
    expect(yields).toBeGreaterThan(0);
    return result;
  }

  it('answers from the flag lists while nothing changes', async () => {
    const result = await searched(() => undefined);
    expect(result.uids).toEqual(thirds(MESSAGES));
    expect(result.seqs).toEqual(thirds(MESSAGES));
    expect(result.modseqs).toEqual([]);
  });

  it('searches again the general way when messages come or go while it yields', async () => {
    const result = await searched((view) => {
      view.queue(entry('message-expunge', 3));
      view.queue(entry('message-new', MESSAGES + 1, []));
    });
    // The expunged message is still shown (not reported yet), the new one is not yet.
    expect(result.uids).toEqual(thirds(MESSAGES));
    expect(result.seqs).toEqual(thirds(MESSAGES));
  });

  it('decides flag lists that appear while it yields', async () => {
    const result = await searched((view) => view.queue(entry('message-flags', 30_001, ['$New'])));
    expect(result.uids).toEqual([
      ...thirds(30_000),
      30_001,
      ...thirds(MESSAGES).filter((uid) => uid > 30_001),
    ]);
  });
});
