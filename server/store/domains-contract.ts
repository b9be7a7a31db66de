/**
 * Domain records' part of the store contract suite (contract.ts runs it for every engine).
 */
import { describe, expect, it } from 'vitest';
import { StoreError } from './errors.ts';
import type { Store } from './types.ts';

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<StoreError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

export function domainsContract(current: () => Store): void {
  describe('domains', () => {
    it('creates, lists and finds domains in lower-case A-label spelling', async () => {
      const store = current();
      const made = await store.createDomain({ name: ' Example.ORG. ' });
      expect(made).toEqual({ name: 'example.org', catchAll: null, dkim: true, createdAt: expect.any(Date) });
      await store.createDomain({ name: 'Bücher.example' });
      expect((await store.listDomains()).map((domain) => domain.name)).toEqual([
        'example.org',
        'xn--bcher-kva.example',
      ]);
      expect((await store.getDomain('BÜCHER.example'))?.name).toBe('xn--bcher-kva.example');
      expect((await store.getDomain('xn--bcher-kva.example'))?.name).toBe('xn--bcher-kva.example');
      expect(await store.getDomain('nowhere.example')).toBeNull();
      await rejectsWithCode(store.createDomain({ name: 'EXAMPLE.org' }), 'ALREADYEXISTS');
    });

    it('refuses malformed names with a reason', async () => {
      const store = current();
      for (const bad of ['', 'localhost', 'a@b.example', 'a..b', '-a.example', 'a b.example', '10.0.0.1']) {
        await rejectsWithCode(store.createDomain({ name: bad }), 'INVALID');
      }
      const error = await rejectsWithCode(store.createDomain({ name: 'mail' }), 'INVALID');
      expect(error.message).toMatch(/at least one dot/);
      expect(await store.listDomains()).toEqual([]);
    });

    it('records the domain of every new user and alias', async () => {
      const store = current();
      const alice = await store.createUser({ username: 'alice@one.example', passwordHash: 'h' });
      await store.addAddress(alice.id, 'al@two.example');
      await store.createUser({ username: 'bare', passwordHash: 'h' });
      expect((await store.listDomains()).map((domain) => domain.name)).toEqual([
        'one.example',
        'two.example',
      ]);
    });

    it('keeps the catch-all on the domain and delivers through it', async () => {
      const store = current();
      const alice = await store.createUser({ username: 'alice@example.com', passwordHash: 'h' });
      await store.addAddress(alice.id, 'al@example.com');
      const set = await store.updateDomain('example.com', { catchAll: 'AL@example.com' });
      expect(set.catchAll).toBe('alice@example.com');
      expect((await store.resolveRecipient('anyone@example.com'))?.id).toBe(alice.id);
      expect((await store.listAddresses(alice.id)).map((address) => address.kind)).toContain('catchall');
      await rejectsWithCode(
        store.updateDomain('example.com', { catchAll: 'nobody@example.com' }),
        'NONEXISTENT',
      );
      expect((await store.getDomain('example.com'))?.catchAll).toBe('alice@example.com');
      expect((await store.updateDomain('example.com', { catchAll: null })).catchAll).toBeNull();
      expect(await store.resolveRecipient('anyone@example.com')).toBeNull();
      // A catch-all made the old way (an address `*@domain`) shows on the domain.
      await store.addAddress(alice.id, '*@example.com');
      expect((await store.getDomain('example.com'))?.catchAll).toBe('alice@example.com');
    });

    it('switches DKIM per domain', async () => {
      const store = current();
      await store.createDomain({ name: 'example.net' });
      expect((await store.updateDomain('Example.NET', { dkim: false })).dkim).toBe(false);
      expect((await store.getDomain('example.net'))?.dkim).toBe(false);
      expect((await store.updateDomain('example.net', { dkim: true })).dkim).toBe(true);
      await rejectsWithCode(store.updateDomain('nowhere.example', { dkim: false }), 'NONEXISTENT');
    });

    it('refuses to delete a domain in use, saying how many use it', async () => {
      const store = current();
      const alice = await store.createUser({ username: 'alice@example.com', passwordHash: 'h' });
      const bob = await store.createUser({ username: 'bob@example.com', passwordHash: 'h' });
      const carol = await store.createUser({ username: 'carol@other.example', passwordHash: 'h' });
      await store.addAddress(carol.id, 'sales@example.com');
      expect(await store.domainUsage('EXAMPLE.com')).toEqual({ users: 2, aliases: 1 });
      expect(await store.domainUsage('other.example')).toEqual({ users: 1, aliases: 0 });
      const error = await rejectsWithCode(store.deleteDomain('example.com'), 'CANNOT');
      expect(error.message).toContain('2 users and 1 alias');
      // A domain whose name ends like another's is not counted with it.
      await store.createDomain({ name: 'ample.com' });
      expect(await store.domainUsage('ample.com')).toEqual({ users: 0, aliases: 0 });
      await rejectsWithCode(store.domainUsage('nowhere.example'), 'NONEXISTENT');
      await store.deleteDomain('ample.com');
      await store.deleteUser(alice.id);
      await store.deleteUser(bob.id);
      await store.removeAddress('sales@example.com');
      await store.updateDomain('example.com', { catchAll: 'carol@other.example' });
      await store.deleteDomain('example.com');
      expect(await store.getDomain('example.com')).toBeNull();
      // Its catch-all went with it.
      expect((await store.listAddresses(carol.id)).map((address) => address.address)).toEqual([
        'carol@other.example',
      ]);
      await rejectsWithCode(store.deleteDomain('example.com'), 'NONEXISTENT');
    });
  });
}
