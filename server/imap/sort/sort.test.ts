/**
 * The RFC rules of SORT and THREAD, one by one: base subject extraction (RFC 5256 2.1),
 * i;unicode-casemap (RFC 5051), sort keys and their ordering (RFC 5256 3, RFC 5957), and the
 * three threading algorithms with the response syntax (RFC 5256 3 and 4).
 */
import { describe, expect, it } from 'vitest';
import type { AddressTuple } from '../../mime/address.ts';
import { baseSubject } from './base-subject.ts';
import { casemapKey, compareKeys } from './collate.ts';
import { keyValue, type SortCriterion, type SortMessage } from './keys.ts';
import { sortMessages } from './order.ts';
import { SortRanks } from './ranks.ts';
import { formatThreads } from './thread-tree.ts';
import { orderedSubjectThreads } from './threads-ordered-subject.ts';
import { referencesThreads } from './threads-references.ts';

describe('base subject (RFC 5256 2.1)', () => {
  it.each([
    ['Hello', 'Hello', false],
    ['Re: Hello', 'Hello', true],
    ['RE: re: Re:Hello', 'Hello', true],
    ['Fwd: Re: Fw: Hello', 'Hello', true],
    ['Re [list]: Hello', 'Hello', true],
    ['[list] Re: Hello', 'Hello', true],
    ['[list] Hello', 'Hello', false],
    ['[list][other] Re: [x] Hello', 'Hello', true],
    ['[just a blob]', '[just a blob]', false],
    ['Hello (fwd)', 'Hello', true],
    ['Hello (FWD) (fwd)  ', 'Hello', true],
    ['[Fwd: Hello]', 'Hello', true],
    ['Re: [Fwd: Re: Hello (fwd)]', 'Hello', true],
    ['  lots\t of   \r\n  space  ', 'lots of space', false],
    ['=?UTF-8?Q?Re=3A_Gr=C3=BC=C3=9Fe?=', 'Grüße', true],
    ['=?ISO-8859-1?B?UmU6IENhZukg?= soon', 'Café soon', true],
    ['Regarding', 'Regarding', false],
    ['Re:', '', true],
    ['', '', false],
  ])('%j → %j', (raw, text, replyOrForward) => {
    expect(baseSubject(raw)).toEqual({ text, replyOrForward });
  });

  it('treats a missing Subject as empty', () => {
    expect(baseSubject(null)).toEqual({ text: '', replyOrForward: false });
  });
});

describe('i;unicode-casemap (RFC 5051)', () => {
  it('folds case and compatibility forms to one key', () => {
    expect(casemapKey('hello')).toBe(casemapKey('HeLLo'));
    expect(casemapKey('ｈｅｌｌｏ')).toBe(casemapKey('HELLO'));
    // Titlecase first, then NFKD: the ligature has no one-character titlecase (RFC 5051 2).
    expect(casemapKey('ﬁle')).toBe('fiLE');
    expect(casemapKey('ǆ')).toBe(casemapKey('ǅ'));
    expect(casemapKey('é')).toBe(casemapKey('É'));
    expect(casemapKey('é')).toBe(casemapKey('e\u0301'));
  });

  it('keeps accents (é after e) and sharp s (no SS expansion)', () => {
    expect(compareKeys(casemapKey('e'), casemapKey('é'))).toBeLessThan(0);
    expect(casemapKey('ß')).not.toBe(casemapKey('SS'));
  });

  it('compares as UTF-8 octets, not UTF-16 units', () => {
    // U+FF21 (EF BC A1) sorts before U+1F600 (F0 9F 98 80) in UTF-8; UTF-16 would say otherwise.
    expect(compareKeys('\uff21', '😀')).toBeLessThan(0);
    expect(compareKeys('a', 'ab')).toBeLessThan(0);
    expect(compareKeys('B', 'a'.toUpperCase())).toBeGreaterThan(0);
  });
});

/** A message for the algorithms: envelope fields by name, dates as ISO strings. */
function message(
  seq: number,
  fields: {
    subject?: string | null;
    from?: Array<[string | null, string, string]>;
    to?: Array<[string | null, string, string]>;
    cc?: Array<[string | null, string, string]>;
    date?: string | null;
    arrival?: string;
    size?: number;
    id?: string | null;
    inReplyTo?: string | null;
  } = {},
): SortMessage {
  const first = (list?: Array<[string | null, string, string]>): AddressTuple | null =>
    list?.[0] ? [list[0][0], null, list[0][1], list[0][2]] : null;
  const arrival = Date.parse(fields.arrival ?? `2025-06-${String(seq).padStart(2, '0')}T12:00:00Z`);
  // As the MIME index has it: null when missing or unparsable.
  const parsed = fields.date ? Date.parse(fields.date) : NaN;
  const date = Number.isNaN(parsed) ? null : parsed;
  return {
    seq,
    uid: seq * 10,
    arrival,
    size: fields.size ?? 100,
    date: date ?? arrival,
    indexed: true,
    subject: fields.subject ?? null,
    from: first(fields.from),
    to: first(fields.to),
    cc: first(fields.cc),
    inReplyTo: fields.inReplyTo ?? null,
    messageId: fields.id === undefined ? `<m${seq}@example.org>` : fields.id,
    blobId: null,
    headerEnd: 0,
    lazy: { keys: {} },
  };
}

const seqs = (messages: SortMessage[]) => messages.map((m) => m.seq);

describe('sort keys and order (RFC 5256 3, RFC 5957)', () => {
  const box = [
    message(1, {
      subject: 'Re: beta',
      from: [['Zed', 'zed', 'b.example']],
      size: 300,
      date: '2025-01-03T00:00:00Z',
    }),
    message(2, { subject: 'alpha', from: [[null, 'Anna', 'a.example']], size: 100, date: 'bad' }),
    message(3, { subject: '[list] Beta', from: [['=?UTF-8?Q?=C3=81lvaro?=', 'al', 'c.example']], size: 200 }),
    message(4, { subject: null, size: 100, date: '2025-01-01T00:00:00Z', to: [[null, 'x', 'y']] }),
  ];

  it('orders by each key, ties by sequence number', () => {
    expect(seqs(sortMessages(box, [{ key: 'SUBJECT', reverse: false }]))).toEqual([4, 2, 1, 3]);
    expect(seqs(sortMessages(box, [{ key: 'FROM', reverse: false }]))).toEqual([4, 3, 2, 1]);
    // "Álvaro" decomposes to A + U+0301, which sorts after "ANNA@…" (accents are kept).
    expect(seqs(sortMessages(box, [{ key: 'DISPLAYFROM', reverse: false }]))).toEqual([4, 2, 3, 1]);
    expect(seqs(sortMessages(box, [{ key: 'SIZE', reverse: false }]))).toEqual([2, 4, 3, 1]);
    expect(seqs(sortMessages(box, [{ key: 'ARRIVAL', reverse: true }]))).toEqual([4, 3, 2, 1]);
    expect(seqs(sortMessages(box, [{ key: 'TO', reverse: false }]))).toEqual([1, 2, 3, 4]);
  });

  it('falls back to the internal date for a missing or broken Date', () => {
    // 4: 1 Jan, 1: 3 Jan, 2 (broken) arrived 2 Jun, 3 (none) arrived 3 Jun.
    expect(seqs(sortMessages(box, [{ key: 'DATE', reverse: false }]))).toEqual([4, 1, 2, 3]);
  });

  it('applies REVERSE to its own key only; equal messages stay in sequence order', () => {
    const order = sortMessages(box, [
      { key: 'SIZE', reverse: true },
      { key: 'SUBJECT', reverse: false },
    ]);
    expect(seqs(order)).toEqual([1, 3, 4, 2]);
    expect(seqs(sortMessages(box, [{ key: 'CC', reverse: true }]))).toEqual([1, 2, 3, 4]);
  });

  it('DISPLAYFROM uses the decoded name, else the address', () => {
    expect(keyValue(box[2]!, 'DISPLAYFROM')).toBe(casemapKey('Álvaro'));
    expect(keyValue(box[1]!, 'DISPLAYFROM')).toBe('ANNA@A.EXAMPLE');
    expect(keyValue(box[1]!, 'FROM')).toBe('ANNA');
  });
});

describe('kept rankings (ranks.ts)', () => {
  const SUBJECTS = ['b', 'Re: a', 'c', 'B', 'é', 'e', '😀', '\uff21', '', 'Fwd: c', 'd', 'a'];
  const NAMES = ['zoe', 'Ann', 'émile', 'bob', 'Øyvind', 'carl'];

  /** A mailbox of pseudo-random messages (a fixed seed), many values shared between messages. */
  function randomBox(count: number, seed: number): SortMessage[] {
    let state = seed;
    const next = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    return Array.from({ length: count }, (_, i) =>
      message(i + 1, {
        subject: SUBJECTS[next(SUBJECTS.length)]!,
        from: [[null, NAMES[next(NAMES.length)]!, 'example.org']],
        size: 100 + next(20),
        date: `2025-01-0${1 + next(9)}T00:00:00Z`,
      }),
    );
  }

  /** The order by plain comparisons of the key values, for comparison with the ranked one. */
  function compared(messages: SortMessage[], criteria: SortCriterion[]): number[] {
    return [...messages]
      .sort((x, y) => {
        for (const { key, reverse } of criteria) {
          const [a, b] = [keyValue(x, key), keyValue(y, key)];
          const result =
            typeof a === 'number' && typeof b === 'number' ? a - b : compareKeys(String(a), String(b));
          if (result !== 0) return reverse ? -result : result;
        }
        return x.seq - y.seq;
      })
      .map((m) => m.seq);
  }

  const PROGRAMS: SortCriterion[][] = [
    [{ key: 'SUBJECT', reverse: false }],
    [{ key: 'SUBJECT', reverse: true }],
    [
      { key: 'FROM', reverse: false },
      { key: 'SIZE', reverse: true },
    ],
    [
      { key: 'DATE', reverse: true },
      { key: 'SUBJECT', reverse: false },
      { key: 'FROM', reverse: true },
    ],
  ];

  it('orders as comparing the values would, as rankings grow with new messages', () => {
    const ranks = new SortRanks();
    const box = randomBox(400, 7);
    // Three steps: each merges values not seen before into the rankings made by the last.
    for (const size of [50, 51, 400]) {
      const messages = box.slice(0, size);
      for (const program of PROGRAMS) {
        expect(seqs(sortMessages(messages, program, ranks)), JSON.stringify(program)).toEqual(
          compared(messages, program),
        );
      }
    }
    // A subset (what a search matched), out of sequence order as given.
    const some = box.filter((m) => m.seq % 3 === 0).reverse();
    for (const program of PROGRAMS)
      expect(seqs(sortMessages(some, program, ranks))).toEqual(compared(some, program));
  });

  it('starts a ranking over when most of its values belong to messages gone', () => {
    const ranks = new SortRanks();
    const first = ranks.ranking('SIZE', 10);
    for (let size = 0; size < 2000; size++) first.atomOf(message(1, { size }));
    expect(ranks.ranking('SIZE', 2000)).toBe(first);
    const fresh = ranks.ranking('SIZE', 10);
    expect(fresh).not.toBe(first);
    // An entry holding an atom of the old ranking gets one of the new.
    const kept = message(2, { size: 5 });
    first.atomOf(kept);
    expect(fresh.atomOf(kept).ranking).toBe(fresh);
    expect(fresh.settle()).toBe(1);
  });
});

const format = (threads: ReturnType<typeof orderedSubjectThreads>) => formatThreads(threads, (m) => m.seq);

describe('THREAD=ORDEREDSUBJECT', () => {
  it('groups by base subject under the first message, threads by date', () => {
    const box = [
      message(1, { subject: 'b', date: '2025-01-05T00:00:00Z' }),
      message(2, { subject: 'a', date: '2025-01-02T00:00:00Z' }),
      message(3, { subject: 'Re: a', date: '2025-01-03T00:00:00Z' }),
      message(4, { subject: 'Re: b', date: '2025-01-01T00:00:00Z' }),
      message(5, { subject: 'c', date: '2025-01-04T00:00:00Z' }),
      message(6, { subject: 'RE: A', date: '2025-01-06T00:00:00Z' }),
    ];
    expect(format(orderedSubjectThreads(box))).toBe('(4 1)(2 (3)(6))(5)');
  });
});

describe('THREAD=REFERENCES and REFS', () => {
  it('links by References, with In-Reply-To as fallback, and writes the RFC syntax', () => {
    const box = [
      message(1, { subject: 'start' }),
      message(2, { subject: 'Re: start', inReplyTo: '<m1@example.org>' }),
      message(3, { subject: 'Re: start' }),
      message(4, { subject: 'Re: start' }),
      message(5, { subject: 'other' }),
    ];
    const refs = new Map([
      [30, '<m1@example.org>'],
      [40, '<m1@example.org> <m3@example.org>'],
    ]);
    expect(format(referencesThreads(box, refs, true))).toBe('(1 (2)(3 4))(5)');
  });

  it('keeps a dummy for a missing parent with several children, promotes a single child', () => {
    const box = [message(1, { subject: 'x' }), message(2, { subject: 'y' }), message(3, { subject: 'z' })];
    const refs = new Map([
      [10, '<gone@example.org>'],
      [20, '<gone@example.org>'],
      [30, '<lost@example.org>'],
    ]);
    expect(format(referencesThreads(box, refs, true))).toBe('((1)(2))(3)');
  });

  it('survives reference loops and duplicate or missing Message-IDs', () => {
    const box = [
      message(1, { subject: 'p', id: '<a@x>' }),
      message(2, { subject: 'q', id: '<b@x>' }),
      message(3, { subject: 'r', id: '<a@x>' }),
      message(4, { subject: 's', id: null }),
    ];
    const refs = new Map([
      [10, '<b@x>'],
      [20, '<a@x>'],
      [30, '<a@x> <a@x>'],
      [40, '<nothing'],
    ]);
    // 1 is a child of 2 (<b@x>); 2 cannot become 1's child (a loop); 3 (a second <a@x>) gets its
    // own container, whose self-reference is ignored, and hangs below the first <a@x>.
    expect(format(referencesThreads(box, refs, true))).toBe('(2 1 3)(4)');
  });

  it('gathers roots with one base subject; REFS does not', () => {
    const box = [
      message(1, { subject: 'Lunch', date: '2025-01-01T00:00:00Z' }),
      message(2, { subject: 'Re: Lunch', date: '2025-01-02T00:00:00Z' }),
      message(3, { subject: 'Dinner', date: '2025-01-03T00:00:00Z' }),
      message(4, { subject: 'Dinner', date: '2025-01-04T00:00:00Z' }),
      message(5, { subject: 'Re: Dinner', date: '2025-01-05T00:00:00Z' }),
    ];
    expect(format(referencesThreads(box, new Map(), true))).toBe('(1 2)((3)(4)(5))');
    expect(format(referencesThreads(box, new Map(), false))).toBe('(1)(2)(3)(4)(5)');
  });

  it('REFS orders threads by their newest message', () => {
    const box = [
      message(1, { subject: 'a', date: '2025-01-01T00:00:00Z' }),
      message(2, { subject: 'b', date: '2025-01-02T00:00:00Z' }),
      message(3, { subject: 'Re: a', date: '2025-01-03T00:00:00Z' }),
    ];
    const refs = new Map([[30, '<m1@example.org>']]);
    expect(format(referencesThreads(box, refs, false))).toBe('(2)(1 3)');
    expect(format(referencesThreads(box, refs, true))).toBe('(1 3)(2)');
  });
});
