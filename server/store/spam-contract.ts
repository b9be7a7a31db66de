/**
 * The spam filter's part of the store contract suite (see contract.ts, which runs it for every
 * engine): per-user allow/block lists, and greylisting triplets shared by every process.
 */
import { describe, expect, it } from 'vitest';
import { StoreError } from './errors.ts';
import type { Store } from './types.ts';

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export function spamContract(current: () => Store): void {
  describe('spam allow/block lists', () => {
    async function user(name: string): Promise<string> {
      return (await current().createUser({ username: name, passwordHash: 'x' })).id;
    }

    it('keeps addresses and domains per user, lower-cased, one list per pattern', async () => {
      const store = current();
      const alice = await user('alice');
      const bob = await user('bob');
      await store.setSpamEntry(alice, 'allow', 'Boss@Example.COM');
      await store.setSpamEntry(alice, 'block', '@spam.example');
      await store.setSpamEntry(bob, 'block', 'example.com');
      const listed = await store.listSpamEntries(alice);
      expect(listed.map((entry) => [entry.pattern, entry.list, entry.userId])).toEqual([
        ['boss@example.com', 'allow', alice],
        ['spam.example', 'block', alice],
      ]);
      expect(listed[0]!.createdAt).toBeInstanceOf(Date);
      // Moving a pattern to the other list keeps one entry.
      const moved = await store.setSpamEntry(alice, 'block', 'boss@example.com');
      expect(moved.list).toBe('block');
      expect((await store.listSpamEntries(alice)).map((entry) => entry.list)).toEqual(['block', 'block']);
      expect((await store.listSpamEntries(bob)).map((entry) => entry.pattern)).toEqual(['example.com']);
      await store.removeSpamEntry(alice, 'BOSS@example.com');
      expect((await store.listSpamEntries(alice)).map((entry) => entry.pattern)).toEqual(['spam.example']);
      await rejectsWithCode(store.removeSpamEntry(alice, 'boss@example.com'), 'NONEXISTENT');
    });

    it('refuses what is neither an address nor a domain, an unknown list and an unknown user', async () => {
      const store = current();
      const alice = await user('alice');
      for (const bad of ['', '   ', 'a b@example.com', 'no spaces.example com', '@', 'x@', '<a@b.c>']) {
        await rejectsWithCode(store.setSpamEntry(alice, 'block', bad), 'INVALID');
      }
      await rejectsWithCode(store.setSpamEntry(alice, 'maybe' as 'allow', 'a@b.example'), 'INVALID');
      await rejectsWithCode(store.setSpamEntry('999999', 'allow', 'a@b.example'), 'NONEXISTENT');
      expect(await store.listSpamEntries('999999')).toEqual([]);
      expect(await store.listSpamEntries(alice)).toEqual([]);
    });

    it('drops a deleted user’s entries', async () => {
      const store = current();
      const alice = await user('alice');
      await store.setSpamEntry(alice, 'allow', 'friend@example.com');
      await store.deleteUser(alice);
      expect(await store.listSpamEntries(alice)).toEqual([]);
      await rejectsWithCode(store.setSpamEntry(alice, 'allow', 'friend@example.com'), 'NONEXISTENT');
    });
  });

  describe('greylisting', () => {
    it('a new triplet waits the delay; a retry too early does not restart the wait; then it passes', async () => {
      const store = current();
      const t0 = new Date('2026-12-01T10:00:00Z');
      const at = (ms: number) => new Date(t0.getTime() + ms);
      const first = await store.greylist('192.0.2|a@x.example|b@y.example', 5 * MINUTE, 35 * DAY, t0);
      expect(first).toEqual({ passed: false, retryAt: at(5 * MINUTE) });
      const early = await store.greylist('192.0.2|a@x.example|b@y.example', 5 * MINUTE, 35 * DAY, at(MINUTE));
      expect(early).toEqual({ passed: false, retryAt: at(5 * MINUTE) });
      const later = await store.greylist(
        '192.0.2|a@x.example|b@y.example',
        5 * MINUTE,
        35 * DAY,
        at(6 * MINUTE),
      );
      expect(later).toEqual({ passed: true, retryAt: at(5 * MINUTE) });
      // Another triplet is a stranger still.
      expect(
        (await store.greylist('192.0.2|a@x.example|c@y.example', 5 * MINUTE, 35 * DAY, at(6 * MINUTE)))
          .passed,
      ).toBe(false);
    });

    it('a passed triplet is remembered for the expiry from each pass, then forgotten', async () => {
      const store = current();
      const t0 = new Date('2026-12-01T10:00:00Z');
      const at = (ms: number) => new Date(t0.getTime() + ms);
      await store.greylist('k', MINUTE, DAY, t0);
      expect((await store.greylist('k', MINUTE, DAY, at(2 * MINUTE))).passed).toBe(true);
      // Renewed by the pass at 2 minutes: still known just before a day after it.
      expect((await store.greylist('k', MINUTE, DAY, at(DAY + MINUTE))).passed).toBe(true);
      // More than a day after the last pass: a stranger again, waiting from now.
      const forgotten = await store.greylist('k', MINUTE, DAY, at(3 * DAY));
      expect(forgotten).toEqual({ passed: false, retryAt: at(3 * DAY + MINUTE) });
    });

    it('two processes seeing a new triplet at once: neither passes', async () => {
      const store = current();
      const now = new Date();
      const results = await Promise.all([1, 2, 3].map(() => store.greylist('race', MINUTE, DAY, now)));
      expect(results.map((result) => result.passed)).toEqual([false, false, false]);
    });

    it('refuses an empty triplet and a negative delay', async () => {
      const store = current();
      await rejectsWithCode(store.greylist('', MINUTE, DAY), 'INVALID');
      await rejectsWithCode(store.greylist('k', -1, DAY), 'INVALID');
    });
  });
}
