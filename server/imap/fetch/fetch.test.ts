import { describe, expect, it } from 'vitest';
import { indexMessage } from '../../mime/index.ts';
import type { MessageSummary } from '../../store/types.ts';
import { ResponseBuilder } from '../encoder/index.ts';
import { ImapError } from '../errors.ts';
import { MailboxView } from '../mailbox-view.ts';
import type { FetchCommand } from '../parser/index.ts';
import { parse, S } from '../parser/test-helpers.ts';
import { TimeSlice } from '../time-slice.ts';
import { journalEntry, testMailbox, testSummary } from '../view-test-helpers.ts';
import { binaryContent } from './binary.ts';
import { writeDigits } from './digits.ts';
import { planFetch } from './plan.ts';
import { renderFetch, type FetchMessage } from './render.ts';
import { namesWholeView, resolveTargets } from './targets.ts';
import { ATTACHMENT, FORWARD, MULTIPART, PLAIN, UUENCODED } from './test-corpus.ts';
import { fetchFromView } from './view-only.ts';

function fetchCommand(text: string): FetchCommand {
  const parsed = parse(`a ${text}`);
  if (!('name' in parsed) || parsed.name !== 'FETCH') throw new Error(`not a FETCH: ${text}`);
  return parsed;
}

const plan = (text: string) => planFetch(fetchCommand(text));
const names = (text: string) =>
  plan(text).items.map((item) => (item.kind === 'attribute' ? item.name : item.responseName));

describe('planFetch', () => {
  it('needs nothing from the store for FLAGS, UID and MODSEQ', () => {
    expect(plan('FETCH 1:* (UID FLAGS MODSEQ)')).toMatchObject({
      needsSummary: false,
      needsIndex: false,
      needsRaw: false,
      setsSeen: false,
      modseq: true,
    });
  });

  it('needs the summary for dates and sizes, the index for structures', () => {
    expect(plan('FETCH 1 FAST')).toMatchObject({ needsSummary: true, needsIndex: false, needsRaw: false });
    expect(plan('FETCH 1 BODYSTRUCTURE')).toMatchObject({
      needsSummary: true,
      needsIndex: true,
      needsRaw: false,
    });
  });

  it('reads only the stored preview for PREVIEW (RFC 8970: computed when stored)', () => {
    expect(plan('FETCH 1 (PREVIEW)')).toMatchObject({
      needsSummary: true,
      needsPreview: true,
      needsIndex: false,
      needsRaw: false,
    });
    expect(plan('FETCH 1 FAST')).toMatchObject({ needsPreview: false });
  });

  it('reads the whole message without the index', () => {
    expect(plan('FETCH 1 BODY.PEEK[]<0.10>')).toMatchObject({
      needsRaw: true,
      needsIndex: false,
      setsSeen: false,
    });
    expect(plan('FETCH 1 RFC822')).toMatchObject({ needsRaw: true, needsIndex: false, setsSeen: true });
    expect(plan('FETCH 1 BODY[1.MIME]')).toMatchObject({ needsRaw: true, needsIndex: true, setsSeen: true });
    expect(plan('FETCH 1 RFC822.HEADER')).toMatchObject({ setsSeen: false });
    expect(plan('FETCH 1 BINARY.SIZE[1]')).toMatchObject({ setsSeen: false, needsIndex: true });
  });

  it('puts UID first for UID FETCH and drops duplicates', () => {
    expect(names('UID FETCH 1 (FLAGS UID FLAGS)')).toEqual(['UID', 'FLAGS']);
    expect(names('FETCH 1 (BODY.PEEK[] BODY[])')).toEqual(['BODY[]']);
    expect(plan('FETCH 1 (BODY.PEEK[] BODY[])').setsSeen).toBe(true);
  });

  it('adds MODSEQ for CHANGEDSINCE', () => {
    expect(names('FETCH 1 FLAGS (CHANGEDSINCE 5)')).toEqual(['FLAGS', 'MODSEQ']);
    expect(names('FETCH 1 (MODSEQ FLAGS) (CHANGEDSINCE 5)')).toEqual(['MODSEQ', 'FLAGS']);
  });
});

describe('binaryContent', () => {
  const index = indexMessage(MULTIPART);

  it('decodes base64 and quoted-printable parts', () => {
    expect(binaryContent(MULTIPART, index, [2])).toEqual(ATTACHMENT);
    expect(binaryContent(MULTIPART, index, [1])!.toString('utf8')).toBe('Das Café ist geschlossen.');
  });

  it('returns the whole message for [] and null for a missing part', () => {
    expect(binaryContent(MULTIPART, index, [])).toBe(MULTIPART);
    expect(binaryContent(MULTIPART, index, [7])).toBeNull();
    expect(binaryContent(MULTIPART, index, [1, 4])).toBeNull();
  });

  it('returns containers as stored', () => {
    const forward = indexMessage(FORWARD);
    expect(binaryContent(FORWARD, forward, [2])!.toString()).toMatch(/^From: Erin/);
  });

  it('refuses an unknown transfer encoding with UNKNOWN-CTE', () => {
    const error = (() => {
      try {
        binaryContent(UUENCODED, indexMessage(UUENCODED), [2]);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ImapError);
    expect(error).toMatchObject({ status: 'NO', code: 'UNKNOWN-CTE' });
  });
});

describe('renderFetch', () => {
  const summary: MessageSummary = {
    mailboxId: '1',
    uid: 7,
    modseq: 12,
    flags: [],
    internalDate: new Date('2025-06-02T10:00:00Z'),
    size: PLAIN.length,
    blobId: 'x',
    savedAt: null,
    threadId: null,
  };
  const message = (over: Partial<FetchMessage> = {}): FetchMessage => ({
    seq: 3,
    uid: 7,
    flags: ['\\Seen'],
    modseq: 12,
    summary,
    index: indexMessage(PLAIN),
    raw: PLAIN,
    preview: null,
    flagsChanged: false,
    ...over,
  });
  const render = (text: string, over: Partial<FetchMessage> = {}, condstore = false) => {
    const builder = new ResponseBuilder();
    renderFetch(builder, planFetch(fetchCommand(text)).items, message(over), { condstore });
    return builder.toBuffer().toString('latin1');
  };

  it('writes attributes in order', () => {
    expect(render('UID FETCH 7 (FLAGS RFC822.SIZE MODSEQ)')).toBe(
      `* 3 FETCH (UID 7 FLAGS (\\Seen) RFC822.SIZE ${PLAIN.length} MODSEQ (12))\r\n`,
    );
  });

  it('writes section data as literals, partials with their origin, empty data as ""', () => {
    expect(render('FETCH 3 BODY.PEEK[]<6.5>')).toBe('* 3 FETCH (BODY[]<6> {5}\r\nAlice)\r\n');
    expect(render('FETCH 3 BODY.PEEK[]<99999.5>')).toBe('* 3 FETCH (BODY[]<99999> "")\r\n');
    expect(render('FETCH 3 BODY.PEEK[4.2]')).toBe('* 3 FETCH (BODY[4.2] "")\r\n');
    expect(render('FETCH 3 BODY.PEEK[HEADER.FIELDS (subject)]')).toBe(
      '* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {24}\r\nSubject: Hello world\r\n\r\n)\r\n',
    );
  });

  it('adds FLAGS (and MODSEQ with CONDSTORE) when the fetch set \\Seen', () => {
    expect(render('FETCH 3 BODY[TEXT]', { flagsChanged: true }, true)).toBe(
      '* 3 FETCH (BODY[TEXT] {46}\r\nThe quick brown fox jumps over the lazy dog.\r\n FLAGS (\\Seen) MODSEQ (12))\r\n',
    );
  });

  it('uses literal8 only for BINARY data containing NUL', () => {
    const multipart = { raw: MULTIPART, index: indexMessage(MULTIPART) };
    const binary = render('FETCH 3 BINARY.PEEK[2]', multipart);
    expect(binary.startsWith(`* 3 FETCH (BINARY[2] ~{${ATTACHMENT.length}}\r\n`)).toBe(true);
    const cafe = Buffer.from('Café', 'utf8').toString('latin1');
    expect(render('FETCH 3 BINARY.PEEK[1]<4.5>', multipart)).toBe(
      `* 3 FETCH (BINARY[1]<4> {5}\r\n${cafe})\r\n`,
    );
    expect(render('FETCH 3 (BINARY.SIZE[2] BINARY.SIZE[9] BINARY[9])', multipart)).toBe(
      `* 3 FETCH (BINARY.SIZE[2] ${ATTACHMENT.length} BINARY.SIZE[9] 0 BINARY[9] "")\r\n`,
    );
  });

  it('writes nothing when a BINARY part cannot be decoded', () => {
    const builder = new ResponseBuilder();
    const items = planFetch(fetchCommand('FETCH 1 (FLAGS BINARY[2])')).items;
    expect(() =>
      renderFetch(builder, items, message({ raw: UUENCODED, index: indexMessage(UUENCODED) }), {
        condstore: false,
      }),
    ).toThrow(ImapError);
    expect(builder.byteLength).toBe(0);
  });
});

describe('resolveTargets', () => {
  const mailbox = testMailbox(19);
  const summaryOf = (uid: number) => testSummary(uid);
  const view = new MailboxView(mailbox, [2, 4, 6, 8, 10].map(summaryOf), false, []);
  const empty = new MailboxView(mailbox, [], false, []);

  it('resolves sequence numbers and refuses numbers beyond EXISTS', () => {
    expect(resolveTargets(view, S('2:3,5'), false)).toEqual({ seqs: [2, 3, 5], uids: [4, 6, 10] });
    expect(resolveTargets(view, S('*'), false)).toEqual({ seqs: [5], uids: [10] });
    expect(() => resolveTargets(view, S('6'), false)).toThrow(/Invalid messageset/);
    expect(() => resolveTargets(view, S('4:7'), false)).toThrow(/Invalid messageset/);
    expect(() => resolveTargets(empty, S('1:*'), false)).toThrow(/Invalid messageset/);
  });

  it('resolves UIDs, ignoring the missing ones', () => {
    expect(resolveTargets(view, S('3:6,10:4294967295'), true)).toEqual({ seqs: [2, 3, 5], uids: [4, 6, 10] });
    expect(resolveTargets(view, S('50:*'), true)).toEqual({ seqs: [5], uids: [10] });
    expect(resolveTargets(view, S('1,3,99'), true)).toEqual({ seqs: [], uids: [] });
    expect(resolveTargets(empty, S('1:*'), true)).toEqual({ seqs: [], uids: [] });
  });

  it('resolves $ (SEARCHRES) to the saved UIDs still in view, by UID or sequence number', () => {
    expect(resolveTargets(view, S('$'), true)).toEqual({ seqs: [], uids: [] });
    view.saveSearchResult([10, 4, 99]);
    expect(resolveTargets(view, S('$'), true)).toEqual({ seqs: [2, 5], uids: [4, 10] });
    expect(resolveTargets(view, S('$'), false)).toEqual({ seqs: [2, 5], uids: [4, 10] });
    view.saveSearchResult([]);
  });

  it('tells when a set names every message of an unchanged view (FETCH then walks the state)', () => {
    expect(namesWholeView(view, S('1:*'), false)).toBe(true);
    expect(namesWholeView(view, S('*:1'), false)).toBe(true);
    expect(namesWholeView(view, S('1:5'), false)).toBe(true);
    expect(namesWholeView(view, S('1:4'), false)).toBe(false);
    expect(namesWholeView(view, S('1:6'), false)).toBe(false); // BAD: beyond EXISTS
    expect(namesWholeView(view, S('1:2,3:*'), false)).toBe(true);
    expect(namesWholeView(view, S('1:*'), true)).toBe(true);
    expect(namesWholeView(view, S('2:4294967295'), true)).toBe(true);
    expect(namesWholeView(view, S('3:*'), true)).toBe(false);
    expect(namesWholeView(view, S('50:*'), true)).toBe(false);
    expect(namesWholeView(view, S('$'), true)).toBe(false);
    expect(namesWholeView(empty, S('1:*'), false)).toBe(false);
    expect(namesWholeView(empty, S('1:*'), true)).toBe(false);
  });
});

describe('fetchFromView over the whole view', () => {
  const MESSAGES = 3000;
  const mailbox = testMailbox(MESSAGES);
  const summaryOf = (uid: number) =>
    testSummary(uid, uid % 3 === 0 ? [] : uid % 7 === 0 ? ['\\Seen', '$Work'] : ['\\Seen']);
  const entry = journalEntry;

  /**
   * The response to `1:*` of `items`, written walking the state (whole) or from the listed targets,
   * with `changes` queued into the view when the first chunk is sent (as the journal would while
   * the command yields).
   */
  async function answer(items: string, whole: boolean, changes: (view: MailboxView) => void, byUid = false) {
    const view = new MailboxView(
      mailbox,
      Array.from({ length: MESSAGES }, (_, i) => summaryOf(i + 1)),
      false,
      [],
    );
    view.markRecent(MESSAGES - 5, MESSAGES);
    const builder = new ResponseBuilder();
    const targets = whole ? null : resolveTargets(view, S('1:*'), byUid);
    let flushes = 0;
    await fetchFromView(
      {
        view,
        items: plan(`FETCH 1:* ${items}`).items,
        changedSince: undefined,
        // Always due: the walk yields after each stretch of 256 messages.
        slice: new TimeSlice(0),
        builder: () => builder,
        flushIfFull: async () => {
          if (flushes++ === 0) changes(view);
        },
      },
      targets,
    );
    expect(flushes).toBeGreaterThan(1);
    return builder.toBuffer().toString('latin1');
  }

  it('writes the items in the order asked, with \\Recent and new keywords announced first', async () => {
    const view = new MailboxView(mailbox, [summaryOf(6), summaryOf(7), summaryOf(8)], false, []);
    view.markRecent(7, 8);
    const lines = async (items: string, uidOnly = false) => {
      const builder = new ResponseBuilder();
      const run = {
        view,
        items: plan(`FETCH 1:* ${items}`).items,
        changedSince: undefined,
        slice: new TimeSlice(),
        uidOnly,
        builder: () => builder,
        flushIfFull: async () => undefined,
      };
      await fetchFromView(run, null);
      return builder.toBuffer().toString('latin1');
    };
    expect(await lines('(MODSEQ FLAGS UID)')).toBe(
      '* 1 FETCH (MODSEQ (6) FLAGS () UID 6)\r\n' +
        '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)\r\n' +
        '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags permitted\r\n' +
        '* 2 FETCH (MODSEQ (7) FLAGS (\\Seen $Work) UID 7)\r\n' +
        '* 3 FETCH (MODSEQ (8) FLAGS (\\Seen \\Recent) UID 8)\r\n',
    );
    expect(await lines('(UID)')).toBe('* 1 FETCH (UID 6)\r\n* 2 FETCH (UID 7)\r\n* 3 FETCH (UID 8)\r\n');
    expect(await lines('(FLAGS MODSEQ)', true)).toBe(
      '* 6 UIDFETCH (FLAGS () MODSEQ (6))\r\n' +
        '* 7 UIDFETCH (FLAGS (\\Seen $Work) MODSEQ (7))\r\n' +
        '* 8 UIDFETCH (FLAGS (\\Seen \\Recent) MODSEQ (8))\r\n',
    );
  });

  it('answers as the listed targets do, also when messages come and go while it yields', async () => {
    const cases: Array<(view: MailboxView) => void> = [
      () => undefined,
      (view) => view.queue(entry('message-flags', 2000, MESSAGES + 1, ['\\Flagged'])),
      (view) => view.queue(entry('message-new', MESSAGES + 1, MESSAGES + 1, ['$New'])),
      (view) => {
        view.queue(entry('message-expunge', 10, MESSAGES + 1));
        view.queue(entry('message-expunge', 2500, MESSAGES + 2));
        view.queue(entry('message-flags', 2600, MESSAGES + 3, [])); // the state's indexes moved
      },
    ];
    for (const changes of cases) {
      for (const [items, byUid] of [
        ['(FLAGS)', false],
        ['(UID FLAGS)', true],
        ['(UID MODSEQ FLAGS)', true],
      ] as const) {
        const walked = await answer(items, true, changes, byUid);
        expect(walked.split('\r\n').filter((line) => line.includes(' FETCH '))).toHaveLength(MESSAGES);
        expect(walked).toBe(await answer(items, false, changes, byUid));
      }
    }
  });
});

describe('writeDigits', () => {
  it('writes numbers as their decimal digits, up to 2^53', () => {
    const values = [0, 7, 9, 10, 42, 99, 100, 101, 999, 1000, 99_999, 100_000, 123_456, 999_999, 1_000_000];
    values.push(4_294_967_295, 1_234_567_890_123, Number.MAX_SAFE_INTEGER);
    for (let n = 1; n < 2_000_000; n = n * 3 + 1) values.push(n, n - 1);
    const buffer = Buffer.alloc(20);
    for (const value of values) {
      const end = writeDigits(buffer, 2, value);
      expect(buffer.toString('latin1', 2, end)).toBe(String(value));
    }
  });
});
