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

    it('records a batch of appendMany with its messages, and not a batch that failed', async () => {
      const store = current();
      const user = await store.createUser({
        username: 'import-dee@example.org',
        passwordHash: 'x',
        quotaBytes: 1000,
      });
      const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
      const source = 'dee@imap.example.net:993';
      const raw = (n: number) => Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`);
      const first = { source, folder: 'INBOX', uidValidity: 5, lastUid: 2 };
      const appended = await store.appendMany(inbox.id, [{ raw: raw(1) }, { raw: raw(2) }], {
        importProgress: first,
      });
      expect(appended.map((result) => result.uid)).toEqual([1, 2]);
      expect(await store.listImportProgress(user.id, source)).toEqual([first]);
      // Over quota: neither the messages nor the record.
      const big = { raw: Buffer.concat([raw(3), Buffer.alloc(1000, 'x')]) };
      const refused = store.appendMany(inbox.id, [{ raw: raw(4) }, big], {
        importProgress: { ...first, lastUid: 4 },
      });
      expect(await errorCode(refused)).toBe('OVERQUOTA');
      expect(await store.listImportProgress(user.id, source)).toEqual([first]);
      expect((await store.listMessages(inbox.id)).length).toBe(2);
      // A bad record refuses the batch before any message is stored.
      const badRecord = store.appendMany(inbox.id, [{ raw: raw(5) }], {
        importProgress: { ...first, uidValidity: 0 },
      });
      expect(await errorCode(badRecord)).toBe('INVALID');
      expect((await store.listMessages(inbox.id)).length).toBe(2);
    });
  });
}
