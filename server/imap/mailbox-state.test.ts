import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../store/types.ts';
import { MailboxState } from './mailbox-state.ts';
import { MailboxView } from './mailbox-view.ts';
import { journalEntry, testMailbox, testSummary } from './view-test-helpers.ts';

const MAILBOX = testMailbox(3);
const summary = testSummary;
const entry = journalEntry;

describe('MailboxState shared by views', () => {
  it('applies each entry once and gives every view the same effect', () => {
    const state = new MailboxState('m1', [summary(1), summary(2), summary(3)]);
    const a = new MailboxView(MAILBOX, state, false, []);
    const b = new MailboxView(MAILBOX, state, false, []);
    const added = entry('message-new', 4, 4, ['\\Seen']);
    a.queue(added);
    b.queue(added);
    expect(state.length).toBe(4);
    expect(a.exists).toBe(3); // not announced yet
    expect(a.takeUpdates(true)).toEqual([
      { kind: 'exists', count: 4 },
      { kind: 'recent', count: 0 },
    ]);
    expect(b.exists).toBe(3);
    const gone = entry('message-expunge', 2, 5);
    a.queue(gone);
    b.queue(gone);
    expect(a.takeUpdates(false)).toEqual([]); // no EXPUNGE during FETCH/STORE/SEARCH
    expect(a.allUids()).toEqual([1, 2, 3, 4]);
    expect(a.seqOf(4)).toBe(4);
    expect(a.takeUpdates(true)).toEqual([{ kind: 'expunge', seq: 2, uid: 2 }]);
    expect(a.allUids()).toEqual([1, 3, 4]);
    // b still shows 1..3 and has both changes waiting, expunge first.
    expect(b.allUids()).toEqual([1, 2, 3]);
    expect(b.seqOf(3)).toBe(3);
    expect(b.seqOf(4)).toBe(0);
    expect(b.flagsOf(2)).toEqual([]);
    expect(b.takeUpdates(true)).toEqual([
      { kind: 'expunge', seq: 2, uid: 2 },
      { kind: 'exists', count: 3 },
      { kind: 'recent', count: 0 },
    ]);
  });

  it('does not echo a session its own flag change but tells the others', () => {
    const state = new MailboxState('m1', [summary(1), summary(2)]);
    const own = new MailboxView(MAILBOX, state, false, []);
    const other = new MailboxView(MAILBOX, state, false, []);
    own.applyOwnFlags(2, ['\\Flagged'], 7);
    const echo = entry('message-flags', 2, 7, ['\\Flagged']);
    own.queue(echo);
    other.queue(echo);
    expect(own.takeUpdates(true)).toEqual([]);
    expect(other.takeUpdates(true)).toEqual([
      { kind: 'fetch', seq: 2, uid: 2, flags: ['\\Flagged'], modseq: 7 },
    ]);
  });

  it("keeps one view's pending changes and keywords its own, before and after they were reported", () => {
    // Views start with shared empty collections (memory per idle session): a write to one must
    // never show in another, of this mailbox or of any other.
    const state = new MailboxState('m1', [summary(1), summary(2)]);
    const busy = new MailboxView(MAILBOX, state, false, []);
    const quiet = new MailboxView(MAILBOX, new MailboxState('m1', [summary(1), summary(2)]), false, []);
    for (let round = 0; round < 2; round++) {
      busy.queue(entry('message-flags', 1, 100 + round * 100, [`$Round${round}`]));
      busy.queue(entry('message-new', 3 + round, 20 + round));
      busy.queue(entry('message-expunge', 2 + round, 30 + round * 100));
      busy.applyOwnFlags(1, ['\\Seen', `$Round${round}`], 150 + round * 100);
      expect(busy.hasPending()).toBe(true);
      expect(quiet.hasPending()).toBe(false);
      expect(quiet.exists).toBe(2);
      expect(quiet.allUids()).toEqual([1, 2]);
      expect(busy.takeUpdates(true).length).toBeGreaterThan(0);
      expect(busy.hasPending()).toBe(false);
    }
    expect(busy.keywordList).toEqual(['$Round0', '$Round1']);
    expect(quiet.keywordList).toEqual([]);
    expect(new MailboxView(MAILBOX, state, false, []).keywordList).toEqual([]);
  });

  it('ignores entries the listing already had', () => {
    const state = new MailboxState('m1', [summary(1), summary(5, ['\\Seen'])]);
    expect(state.apply(entry('message-new', 5, 5))).toEqual({ kind: 'none' });
    expect(state.apply(entry('message-flags', 5, 2, []))).toEqual({ kind: 'none' });
    expect(state.apply(entry('message-expunge', 3, 6))).toEqual({ kind: 'none' });
    expect(state.flagsAt(1)).toEqual(['\\Seen']);
  });

  it('gives the highest UID the client sees, as allUids() would, without listing them', () => {
    const state = new MailboxState('m1', [summary(1), summary(2), summary(3)]);
    const view = new MailboxView(MAILBOX, state, false, []);
    const last = () => view.allUids().at(-1) ?? 0;
    expect(view.lastUid).toBe(3);
    view.queue(entry('message-new', 4, 4)); // not announced: not seen yet
    expect(view.lastUid).toBe(last());
    expect(view.lastUid).toBe(3);
    view.takeUpdates(true);
    view.queue(entry('message-expunge', 4, 5)); // expunged, still shown until EXPUNGE
    expect(view.lastUid).toBe(4);
    expect(view.lastUid).toBe(last());
    view.takeUpdates(true);
    expect(view.lastUid).toBe(3);
    for (const uid of [1, 2, 3]) view.queue(entry('message-expunge', uid, 6 + uid));
    view.takeUpdates(true);
    expect(view.lastUid).toBe(0);
  });

  it('numbers messages, counts \\Recent and finds the first unseen as the listing does, while changes wait, over random histories', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let history = 0; history < 40; history++) {
      const state = new MailboxState(
        'm1',
        [1, 2, 3, 5, 8].map((uid) => summary(uid, ['\\Seen'])),
      );
      const view = new MailboxView(MAILBOX, state, false, []);
      const other = new MailboxView(MAILBOX, state, false, []); // applies the entries first
      let nextUid = 9;
      let modseq = 10;
      for (let step = 0; step < 60; step++) {
        const roll = random();
        const uids = state.length > 0 ? Array.from({ length: state.length }, (_, i) => state.uidAt(i)) : [];
        let change: JournalEntry | undefined;
        const flags = random() < 0.8 ? ['\\Seen'] : [];
        if (roll < 0.4) change = entry('message-new', nextUid++, ++modseq, flags);
        else if (roll < 0.7 && uids.length > 0)
          change = entry('message-expunge', uids[Math.floor(random() * uids.length)]!, ++modseq);
        else if (roll < 0.8) view.takeUpdates(random() < 0.5);
        else if (roll < 0.9) {
          const low = Math.floor(random() * nextUid);
          view.markRecent(low, low + Math.floor(random() * 6));
        } else if (uids.length > 0)
          change = entry('message-flags', uids[Math.floor(random() * uids.length)]!, ++modseq, flags);
        if (change) {
          other.queue(change);
          view.queue(change);
        }
        const shown = view.allUids();
        for (let seq = 1; seq <= shown.length; seq++) expect(view.seqOf(shown[seq - 1]!)).toBe(seq);
        for (let uid = 0; uid <= nextUid; uid++) {
          if (!shown.includes(uid)) expect(view.seqOf(uid)).toBe(0);
        }
        expect(view.recentCount).toBe(shown.filter((uid) => view.isRecent(uid)).length);
        const unseen = shown.findIndex((uid) => !view.flagsOf(uid).includes('\\Seen'));
        expect(view.firstUnseen()).toBe(unseen + 1);
      }
      // The expunges, highest first, each numbered as the client sees it then.
      const before = [...view.allUids()];
      for (const update of view.takeUpdates(true)) {
        if (update.kind !== 'expunge') continue;
        const at = before.indexOf(update.uid);
        expect(update.seq).toBe(at + 1);
        before.splice(at, 1);
      }
    }
  });
});
