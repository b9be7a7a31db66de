/**
 * The IMAP import's progress, part of the store contract suite (see contract.ts): per user, source
 * and folder, replaced by the newer record, kept apart between users and sources.
 */
import { describe, expect, it } from 'vitest';
import { StoreError } from './errors.ts';
import type { Store } from './types.ts';

async function errorCode(promise: Promise<unknown>): Promise<string | null> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  return (error as StoreError).code;
}

export function importProgressContract(current: () => Store): void {
  describe('IMAP import progress', () => {
    it('keeps each folder of a source per user and replaces it', async () => {
      const store = current();
      const ann = await store.createUser({ username: 'import-ann@example.org', passwordHash: 'x' });
      const bob = await store.createUser({ username: 'import-bob@example.org', passwordHash: 'x' });
      const source = 'ann@imap.example.net:993';
      expect(await store.listImportProgress(ann.id, source)).toEqual([]);
      await store.saveImportProgress(ann.id, { source, folder: 'INBOX', uidValidity: 7, lastUid: 10 });
      await store.saveImportProgress(ann.id, { source, folder: 'Sent Items', uidValidity: 9, lastUid: 0 });
      await store.saveImportProgress(ann.id, { source, folder: 'INBOX', uidValidity: 7, lastUid: 42 });
      await store.saveImportProgress(ann.id, {
        source: 'other:143',
        folder: 'INBOX',
        uidValidity: 1,
        lastUid: 5,
      });
      await store.saveImportProgress(bob.id, { source, folder: 'INBOX', uidValidity: 3, lastUid: 4 });
      expect(await store.listImportProgress(ann.id, source)).toEqual([
        { source, folder: 'INBOX', uidValidity: 7, lastUid: 42 },
        { source, folder: 'Sent Items', uidValidity: 9, lastUid: 0 },
      ]);
      expect(await store.listImportProgress(bob.id, source)).toEqual([
        { source, folder: 'INBOX', uidValidity: 3, lastUid: 4 },
      ]);
      expect(await store.listImportProgress(ann.id)).toEqual([
        { source, folder: 'INBOX', uidValidity: 7, lastUid: 42 },
        { source, folder: 'Sent Items', uidValidity: 9, lastUid: 0 },
        { source: 'other:143', folder: 'INBOX', uidValidity: 1, lastUid: 5 },
      ]);
      await store.deleteUser(bob.id);
      expect(await store.listImportProgress(bob.id, source)).toEqual([]);
      expect(await store.listImportProgress(bob.id)).toEqual([]);
    });

    it('refuses bad input and an unknown user', async () => {
      const store = current();
      const user = await store.createUser({ username: 'import-cy@example.org', passwordHash: 'x' });
      const good = { source: 's:143', folder: 'INBOX', uidValidity: 1, lastUid: 1 };
      for (const bad of [
        { ...good, source: '' },
        { ...good, folder: '' },
        { ...good, uidValidity: 0 },
        { ...good, lastUid: -1 },
        { ...good, lastUid: 1.5 },
      ]) {
        expect(await errorCode(store.saveImportProgress(user.id, bad))).toBe('INVALID');
      }
      expect(await errorCode(store.listImportProgress(user.id, ''))).toBe('INVALID');
      expect(await errorCode(store.saveImportProgress('999999', good))).toBe('NONEXISTENT');
    });
  });
}
