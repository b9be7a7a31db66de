/**
 * Sieve scripts and memory in the store contract suite (see contract.ts, which runs it for every
 * engine): named scripts per user with one active, and the memory of vacation replies and
 * duplicate ids, claimed atomically across callers.
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

export function sieveContract(current: () => Store): void {
  describe('Sieve scripts and memory', () => {
    async function user(name: string): Promise<string> {
      return (await current().createUser({ username: name, passwordHash: 'x' })).id;
    }

    it('keeps named scripts per user, replaces content and keeps one active script', async () => {
      const store = current();
      const alice = await user('alice');
      const bob = await user('bob');
      await store.putSieveScript(alice, 'vacation', 'keep;');
      await store.putSieveScript(alice, 'main', 'discard;');
      await store.putSieveScript(bob, 'main', 'stop;');
      expect(await store.getActiveSieveScript(alice)).toBeNull();
      await store.activateSieveScript(alice, 'main');
      await store.activateSieveScript(alice, 'vacation');
      const listed = await store.listSieveScripts(alice);
      expect(listed.map((script) => [script.name, script.active])).toEqual([
        ['main', false],
        ['vacation', true],
      ]);
      expect(listed[0]!.updatedAt).toBeInstanceOf(Date);
      const replaced = await store.putSieveScript(alice, 'vacation', 'require "vacation"; vacation "away";');
      expect(replaced).toMatchObject({ name: 'vacation', active: true, userId: alice });
      expect((await store.getActiveSieveScript(alice))?.content).toBe('require "vacation"; vacation "away";');
      expect((await store.getSieveScript(bob, 'main'))?.content).toBe('stop;');
      expect(await store.getActiveSieveScript(bob)).toBeNull();
      await store.activateSieveScript(alice, null);
      expect(await store.getActiveSieveScript(alice)).toBeNull();
    });

    it('refuses to delete the active script, renames with the active flag, and knows unknown ones', async () => {
      const store = current();
      const alice = await user('alice');
      await store.putSieveScript(alice, 'a', 'keep;');
      await store.putSieveScript(alice, 'b', 'keep;');
      await store.activateSieveScript(alice, 'a');
      await rejectsWithCode(store.deleteSieveScript(alice, 'a'), 'CANNOT');
      await rejectsWithCode(store.renameSieveScript(alice, 'a', 'b'), 'ALREADYEXISTS');
      await store.renameSieveScript(alice, 'a', 'renamed');
      expect((await store.getActiveSieveScript(alice))?.name).toBe('renamed');
      expect(await store.getSieveScript(alice, 'a')).toBeNull();
      await store.deleteSieveScript(alice, 'b');
      expect((await store.listSieveScripts(alice)).map((script) => script.name)).toEqual(['renamed']);
      await rejectsWithCode(store.deleteSieveScript(alice, 'b'), 'NONEXISTENT');
      await rejectsWithCode(store.activateSieveScript(alice, 'nope'), 'NONEXISTENT');
      await rejectsWithCode(store.renameSieveScript(alice, 'nope', 'x'), 'NONEXISTENT');
      await rejectsWithCode(store.putSieveScript('999999', 'x', 'keep;'), 'NONEXISTENT');
      expect(await store.listSieveScripts('999999')).toEqual([]);
    });

    it('refuses bad names and oversized scripts', async () => {
      const store = current();
      const alice = await user('alice');
      for (const bad of ['', 'a/b', 'tab\there', 'x'.repeat(129)]) {
        await rejectsWithCode(store.putSieveScript(alice, bad, 'keep;'), 'INVALID');
      }
      await rejectsWithCode(store.putSieveScript(alice, 'big', '#'.repeat(1024 * 1024 + 1)), 'INVALID');
      await store.putSieveScript(alice, 'Ünïcode name', 'keep;');
      expect((await store.listSieveScripts(alice)).map((script) => script.name)).toEqual(['Ünïcode name']);
    });

    it('claims a memory key once until it expires, per user', async () => {
      const store = current();
      const alice = await user('alice');
      const bob = await user('bob');
      const now = new Date('2025-06-01T00:00:00Z');
      const day = new Date(now.getTime() + 86_400_000);
      expect(await store.hasSieveMemory(alice, 'vacation:x@example.com', now)).toBe(false);
      expect(await store.claimSieveMemory(alice, 'vacation:x@example.com', day, now)).toBe(true);
      expect(await store.claimSieveMemory(alice, 'vacation:x@example.com', day, now)).toBe(false);
      expect(await store.hasSieveMemory(alice, 'vacation:x@example.com', now)).toBe(true);
      expect(await store.claimSieveMemory(bob, 'vacation:x@example.com', day, now)).toBe(true);
      const later = new Date(day.getTime() + 1);
      expect(await store.hasSieveMemory(alice, 'vacation:x@example.com', later)).toBe(false);
      expect(
        await store.claimSieveMemory(
          alice,
          'vacation:x@example.com',
          new Date(later.getTime() + 1000),
          later,
        ),
      ).toBe(true);
      await rejectsWithCode(store.claimSieveMemory(alice, '', day, now), 'INVALID');
      await rejectsWithCode(store.claimSieveMemory('999999', 'k', day, now), 'NONEXISTENT');
    });

    it('lists the live memory entries of a user, for backups', async () => {
      const store = current();
      const alice = await user('alice');
      const bob = await user('bob');
      const now = new Date('2025-06-01T00:00:00Z');
      const day = new Date(now.getTime() + 86_400_000);
      const hour = new Date(now.getTime() + 3_600_000);
      await store.claimSieveMemory(alice, 'vacation:b\u0000x@example.com', day, now);
      await store.claimSieveMemory(alice, 'duplicate:<1@x>', hour, now);
      await store.claimSieveMemory(bob, 'vacation:b\u0000y@example.com', day, now);
      expect(await store.listSieveMemory(alice, now)).toEqual([
        { key: 'duplicate:<1@x>', expiresAt: hour },
        { key: 'vacation:b\u0000x@example.com', expiresAt: day },
      ]);
      expect(await store.listSieveMemory(alice, hour)).toEqual([
        { key: 'vacation:b\u0000x@example.com', expiresAt: day },
      ]);
      expect(await store.listSieveMemory('999999', now)).toEqual([]);
    });

    it('gives a key to exactly one of many concurrent claimants', async () => {
      const store = current();
      const alice = await user('alice');
      const until = new Date(Date.now() + 60_000);
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.claimSieveMemory(alice, 'vacation:race@example.com', until)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('forgets a deleted user’s scripts and memory', async () => {
      const store = current();
      const alice = await user('alice');
      await store.putSieveScript(alice, 'main', 'keep;');
      await store.activateSieveScript(alice, 'main');
      await store.claimSieveMemory(alice, 'k', new Date(Date.now() + 60_000));
      await store.deleteUser(alice);
      expect(await store.listSieveScripts(alice)).toEqual([]);
      expect(await store.getActiveSieveScript(alice)).toBeNull();
      const again = await user('alice');
      expect(await store.hasSieveMemory(again, 'k')).toBe(false);
    });
  });
}
