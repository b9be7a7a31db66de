/**
 * The engine-agnostic contract suite. Every store engine runs it:
 *
 *   storeContractSuite('sqlite', async () => ({ store, cleanup }));
 *   storeProcessSuite('sqlite', async () => ({ store, reopen, workerArgs, cleanup }));
 *
 * It uses the `Store` interface only, so the MongoDB engine passes the very same tests. Each test
 * gets a fresh, empty store.
 */
import { withCrlfLineEnds } from '../mime/line-ends.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAcks, workerMessage } from './contract-worker.ts';
import { StoreError, type StoreErrorCode } from './errors.ts';
import { domainsContract } from './domains-contract.ts';
import { outboundQueueContract } from './outbound-contract.ts';
import { historyContract } from './history-contract.ts';
import { mtaStsContract } from './mta-sts-contract.ts';
import { sieveContract } from './sieve-contract.ts';
import { importProgressContract } from './import-progress-contract.ts';
import { spamContract } from './spam-contract.ts';
import { threadsContract } from './threads-contract.ts';
import {
  type FlagListing,
  DEFAULT_MAILBOXES,
  type ImportedMailbox,
  type JournalEntry,
  type Mailbox,
  type Store,
  type User,
} from './types.ts';

export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
}

export interface SharedStoreFixture extends StoreFixture {
  /** Closes `store` and opens the same data again (as a restarted server would). */
  reopen(): Promise<Store>;
  /**
   * What follows `node bin/run-ts.mjs` to start an append worker on the same data (see
   * contract-worker.ts); the suite adds MAILBOX_ID COUNT TAG.
   */
  workerArgs: string[];
}

// --- helpers ---

/** A small, distinct message. */
function message(text: string, extraHeaders = ''): Buffer {
  return Buffer.from(`From: a@example.com\r\nSubject: ${text}\r\n${extraHeaders}\r\n${text} body\r\n`);
}

async function rejectsWith(promise: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error, `expected StoreError ${code}`).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
}

function sha256(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

function sortedFlags(flags: readonly string[]): string[] {
  return [...flags].sort();
}

/** The user's journal after `afterId`, read page by page. */
async function allJournal(store: Store, userId: string, afterId: number): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  for (;;) {
    const page = await store.readJournal(new Map([[userId, afterId]]), 500);
    if (page.length === 0) return entries;
    entries.push(...page);
    afterId = page[page.length - 1]!.id;
  }
}

async function mailbox(store: Store, user: User, path: string): Promise<Mailbox> {
  const found = await store.getMailbox(user.id, path);
  expect(found, `mailbox ${path}`).not.toBeNull();
  return found!;
}

async function uidsOf(store: Store, mailboxId: string): Promise<number[]> {
  return (await store.listMessages(mailboxId)).map((summary) => summary.uid);
}

export function storeContractSuite(name: string, openFresh: () => Promise<StoreFixture>): void {
  describe(`store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await openFresh();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    const newUser = (username = 'alice@example.com', extra: { name?: string; quotaBytes?: number } = {}) =>
      store.createUser({ username, passwordHash: `hash-of-${username}`, ...extra });
    const inbox = async (user: User) => mailbox(store, user, 'INBOX');

    describe('users', () => {
      it('creates a user with a lower-cased username and defaults', async () => {
        const user = await newUser('Alice@Example.COM', { name: 'Alice' });
        expect(user).toMatchObject({
          username: 'alice@example.com',
          name: 'Alice',
          disabled: false,
          quotaBytes: 0,
          usedBytes: 0,
        });
        expect(typeof user.id).toBe('string');
        expect(user.createdAt).toBeInstanceOf(Date);
        expect(await store.getUser(user.id)).toEqual(user);
      });

      it('creates the default mailboxes, subscribed, INBOX first', async () => {
        const user = await newUser();
        const mailboxes = await store.listMailboxes(user.id);
        const bySpecialUse = (list: ReadonlyArray<{ path: string; specialUse: string | null }>) =>
          list.map((m) => `${m.path} ${m.specialUse}`).sort();
        expect(mailboxes[0]?.path).toBe('INBOX');
        expect(bySpecialUse(mailboxes)).toEqual(bySpecialUse(DEFAULT_MAILBOXES));
        for (const m of mailboxes) {
          expect(m).toMatchObject({ userId: user.id, subscribed: true, selectable: true, uidNext: 1 });
          expect(m.uidValidity).toBeGreaterThan(0);
          expect(m.uidValidity).toBeLessThan(2 ** 32);
        }
      });

      it('registers the username as primary address', async () => {
        const user = await newUser();
        expect(await store.listAddresses(user.id)).toEqual([
          { address: 'alice@example.com', userId: user.id, kind: 'primary' },
        ]);
        expect((await store.resolveRecipient('ALICE@example.com'))?.id).toBe(user.id);
      });

      it('refuses a duplicate username in any case (ALREADYEXISTS) and a malformed one (INVALID)', async () => {
        await newUser('bob@example.com');
        await rejectsWith(newUser('BOB@example.com'), 'ALREADYEXISTS');
        await rejectsWith(newUser('  '), 'INVALID');
        await rejectsWith(newUser('bad name@example.com'), 'INVALID');
      });

      it('refuses a username that is already another user’s alias', async () => {
        const bob = await newUser('bob@example.com');
        await store.addAddress(bob.id, 'carol@example.com');
        await rejectsWith(newUser('carol@example.com'), 'ALREADYEXISTS');
      });

      it('finds users by id and by username, case-insensitively', async () => {
        const user = await newUser();
        expect((await store.getUserByUsername('ALICE@EXAMPLE.COM'))?.id).toBe(user.id);
        expect(await store.getUserByUsername('nobody@example.com')).toBeNull();
        expect(await store.getUser('no-such-id')).toBeNull();
        expect(await store.getUser('999999')).toBeNull();
      });

      it('lists users with search, offset, limit and total', async () => {
        await newUser('anna@example.com', { name: 'Anna Smith' });
        await newUser('ben@example.com', { name: 'Ben Jones' });
        await newUser('cleo@example.org', { name: 'Cleo SMITHSON' });
        const all = await store.listUsers();
        expect(all.total).toBe(3);
        expect(all.users.map((u) => u.username)).toEqual([
          'anna@example.com',
          'ben@example.com',
          'cleo@example.org',
        ]);
        const smiths = await store.listUsers({ search: 'smith' });
        expect(smiths.users.map((u) => u.username)).toEqual(['anna@example.com', 'cleo@example.org']);
        expect(smiths.total).toBe(2);
        const org = await store.listUsers({ search: 'EXAMPLE.ORG' });
        expect(org.users.map((u) => u.username)).toEqual(['cleo@example.org']);
        const page = await store.listUsers({ offset: 1, limit: 1 });
        expect(page.users.map((u) => u.username)).toEqual(['ben@example.com']);
        expect(page.total).toBe(3);
        expect((await store.listUsers({ search: 'nobody' })).total).toBe(0);
      });

      it('updates name, quota and disabled', async () => {
        const user = await newUser();
        const updated = await store.updateUser(user.id, { name: 'A.', quotaBytes: 5000, disabled: true });
        expect(updated).toMatchObject({ name: 'A.', quotaBytes: 5000, disabled: true });
        expect(await store.getUser(user.id)).toEqual(updated);
        const again = await store.updateUser(user.id, { disabled: false });
        expect(again).toMatchObject({ name: 'A.', quotaBytes: 5000, disabled: false });
        await rejectsWith(store.updateUser(user.id, { quotaBytes: -1 }), 'INVALID');
        await rejectsWith(store.updateUser('999999', { name: 'x' }), 'NONEXISTENT');
      });

      it('keeps "save a copy to Sent" per user, off by default', async () => {
        const user = await newUser();
        expect(user.saveSentCopy).toBe(false);
        const on = await store.updateUser(user.id, { saveSentCopy: true });
        expect(on.saveSentCopy).toBe(true);
        expect((await store.getUser(user.id))!.saveSentCopy).toBe(true);
        // Another change leaves it as it is.
        expect((await store.updateUser(user.id, { name: 'B.' })).saveSentCopy).toBe(true);
        expect((await store.updateUser(user.id, { saveSentCopy: false })).saveSentCopy).toBe(false);
      });

      it('keeps whether IMAP UIDONLY is offered: null (the server default) until set, and back', async () => {
        const user = await newUser('uidonly@example.test');
        expect(user.uidOnly).toBeNull();
        expect((await store.updateUser(user.id, { uidOnly: false })).uidOnly).toBe(false);
        expect((await store.getUser(user.id))!.uidOnly).toBe(false);
        expect((await store.updateUser(user.id, { name: 'U.' })).uidOnly).toBe(false);
        expect((await store.getUserByUsername('uidonly@example.test'))!.uidOnly).toBe(false);
        expect((await store.updateUser(user.id, { uidOnly: true })).uidOnly).toBe(true);
        expect((await store.updateUser(user.id, { uidOnly: null })).uidOnly).toBeNull();
        expect((await store.getUser(user.id))!.uidOnly).toBeNull();
      });

      it('keeps password hashes and returns them as credentials', async () => {
        const user = await newUser();
        const credentials = await store.getCredentials('Alice@example.com');
        expect(credentials?.user.id).toBe(user.id);
        expect(credentials?.passwordHash).toBe('hash-of-alice@example.com');
        expect(credentials?.appPasswords).toEqual([]);
        await store.setPasswordHash(user.id, 'new-hash');
        expect((await store.getCredentials('alice@example.com'))?.passwordHash).toBe('new-hash');
        await rejectsWith(store.setPasswordHash('999999', 'x'), 'NONEXISTENT');
        expect(await store.getCredentials('nobody@example.com')).toBeNull();
      });

      it('returns credentials of a disabled user (the caller decides)', async () => {
        const user = await newUser();
        await store.updateUser(user.id, { disabled: true });
        expect((await store.getCredentials('alice@example.com'))?.user.disabled).toBe(true);
      });

      it('deletes a user with everything it owns', async () => {
        const alice = await newUser();
        const bob = await newUser('bob@example.com');
        await store.addAddress(alice.id, 'al@example.com');
        await store.createAppPassword(alice.id, 'phone', 'app-hash');
        const aliceInbox = await inbox(alice);
        const shared = message('shared');
        const own = message('only alice');
        const sharedResult = await store.append(aliceInbox.id, shared);
        await store.append(aliceInbox.id, own);
        await store.append((await inbox(bob)).id, shared);
        const blobOfOwn = (await store.getMessage(aliceInbox.id, 2))!.blobId;
        const blobOfShared = (await store.getMessage(aliceInbox.id, sharedResult.uid))!.blobId;

        await store.deleteUser(alice.id);

        expect(await store.getUser(alice.id)).toBeNull();
        expect(await store.getCredentials('alice@example.com')).toBeNull();
        expect(await store.resolveRecipient('al@example.com')).toBeNull();
        expect(await store.resolveRecipient('alice@example.com')).toBeNull();
        expect(await store.listMailboxes(alice.id)).toEqual([]);
        expect(await store.listAppPasswords(alice.id)).toEqual([]);
        expect(await store.listAddresses(alice.id)).toEqual([]);
        expect(await store.getMailboxById(aliceInbox.id)).toBeNull();
        await rejectsWith(store.readBlob(blobOfOwn), 'NONEXISTENT');
        expect(await store.readBlob(blobOfShared)).toEqual(shared);
        await rejectsWith(store.deleteUser(alice.id), 'NONEXISTENT');
        const again = await newUser();
        expect(again.id).not.toBe(alice.id);
        expect(await store.listAddresses(again.id)).toHaveLength(1);
      });
    });

    describe('addresses', () => {
      it('adds aliases and catch-alls, lower-cased, refusing taken ones', async () => {
        const user = await newUser();
        expect(await store.addAddress(user.id, 'Sales@Example.com')).toEqual({
          address: 'sales@example.com',
          userId: user.id,
          kind: 'alias',
        });
        expect(await store.addAddress(user.id, '*@Example.org')).toEqual({
          address: '*@example.org',
          userId: user.id,
          kind: 'catchall',
        });
        await rejectsWith(store.addAddress(user.id, 'SALES@example.com'), 'ALREADYEXISTS');
        await rejectsWith(store.addAddress(user.id, 'alice@example.com'), 'ALREADYEXISTS');
        const other = await newUser('bob@example.com');
        await rejectsWith(store.addAddress(other.id, '*@example.org'), 'ALREADYEXISTS');
        const addresses = (await store.listAddresses(user.id)).map((a) => a.address).sort();
        expect(addresses).toEqual(['*@example.org', 'alice@example.com', 'sales@example.com']);
      });

      it('refuses malformed addresses and unknown users', async () => {
        const user = await newUser();
        for (const bad of ['', 'no-at-sign', '@example.com', 'x@', 'a b@example.com']) {
          await rejectsWith(store.addAddress(user.id, bad), 'INVALID');
        }
        await rejectsWith(store.addAddress('999999', 'x@example.com'), 'NONEXISTENT');
      });

      it('removes aliases but not the primary address', async () => {
        const user = await newUser();
        await store.addAddress(user.id, 'al@example.com');
        await store.removeAddress('AL@example.com');
        expect(await store.resolveRecipient('al@example.com')).toBeNull();
        await rejectsWith(store.removeAddress('al@example.com'), 'NONEXISTENT');
        await rejectsWith(store.removeAddress('alice@example.com'), 'CANNOT');
      });

      it('resolves exact, then without +tag, then the catch-all', async () => {
        const alice = await newUser();
        const bob = await newUser('bob@example.com');
        const carol = await newUser('carol@example.com');
        await store.addAddress(alice.id, 'sales@example.com');
        await store.addAddress(bob.id, 'sales+vip@example.com');
        await store.addAddress(carol.id, '*@example.com');
        const resolve = async (address: string) => (await store.resolveRecipient(address))?.username ?? null;
        expect(await resolve('SALES@example.com')).toBe('alice@example.com');
        expect(await resolve('sales+vip@example.com')).toBe('bob@example.com');
        expect(await resolve('sales+other@example.com')).toBe('alice@example.com');
        expect(await resolve('alice+news@Example.com')).toBe('alice@example.com');
        expect(await resolve('unknown@example.com')).toBe('carol@example.com');
        expect(await resolve('unknown+tag@example.com')).toBe('carol@example.com');
        expect(await resolve('alice@example.net')).toBeNull();
        expect(await resolve('')).toBeNull();
      });

      it('resolves disabled users, but delivery to them fails with CANNOT', async () => {
        const user = await newUser();
        await store.updateUser(user.id, { disabled: true });
        expect((await store.resolveRecipient('alice@example.com'))?.id).toBe(user.id);
        await rejectsWith(store.deliver('alice@example.com', message('x')), 'CANNOT');
        expect(await store.listMessages((await inbox(user)).id)).toEqual([]);
      });
    });

    describe('app passwords', () => {
      it('creates, lists, touches and deletes app passwords', async () => {
        const user = await newUser();
        const phone = await store.createAppPassword(user.id, 'phone', 'hash-1');
        const laptop = await store.createAppPassword(user.id, 'laptop', 'hash-2');
        expect(phone).toMatchObject({ userId: user.id, label: 'phone', lastUsedAt: null });
        expect(phone.createdAt).toBeInstanceOf(Date);
        expect((await store.listAppPasswords(user.id)).map((p) => p.label)).toEqual(['phone', 'laptop']);
        expect(JSON.stringify(await store.listAppPasswords(user.id))).not.toContain('hash-1');
        const credentials = await store.getCredentials('alice@example.com');
        expect(credentials?.appPasswords).toEqual([
          { id: phone.id, hash: 'hash-1' },
          { id: laptop.id, hash: 'hash-2' },
        ]);

        await store.touchAppPassword(phone.id);
        const touched = (await store.listAppPasswords(user.id)).find((p) => p.id === phone.id);
        expect(touched?.lastUsedAt).toBeInstanceOf(Date);

        const other = await newUser('bob@example.com');
        await rejectsWith(store.deleteAppPassword(other.id, phone.id), 'NONEXISTENT');
        await store.deleteAppPassword(user.id, phone.id);
        expect((await store.listAppPasswords(user.id)).map((p) => p.label)).toEqual(['laptop']);
        await rejectsWith(store.deleteAppPassword(user.id, phone.id), 'NONEXISTENT');
        await rejectsWith(store.createAppPassword('999999', 'x', 'y'), 'NONEXISTENT');
      });
    });

    describe('mailboxes', () => {
      it('treats INBOX case-insensitively', async () => {
        const user = await newUser();
        const box = await mailbox(store, user, 'inbox');
        expect(box.path).toBe('INBOX');
        expect((await mailbox(store, user, 'InBoX')).id).toBe(box.id);
        await rejectsWith(store.createMailbox(user.id, 'Inbox'), 'ALREADYEXISTS');
        const child = await store.createMailbox(user.id, 'inbox/Child');
        expect(child.path).toBe('INBOX/Child');
        expect(await store.getMailboxById(box.id)).toEqual(box);
      });

      it('creates a mailbox with its missing parents', async () => {
        const user = await newUser();
        const head = await store.journalHead(user.id);
        const created = await store.createMailbox(user.id, 'Projects/2024/Q1', '\\Archive');
        expect(created).toMatchObject({
          path: 'Projects/2024/Q1',
          specialUse: '\\Archive',
          selectable: true,
        });
        expect(created.uidNext).toBe(1);
        for (const path of ['Projects', 'Projects/2024']) {
          expect(await mailbox(store, user, path)).toMatchObject({ selectable: true, specialUse: null });
        }
        const entries = await allJournal(store, user.id, head);
        expect(entries.filter((e) => e.kind === 'mailbox-create').map((e) => e.path)).toEqual([
          'Projects',
          'Projects/2024',
          'Projects/2024/Q1',
        ]);
        await rejectsWith(store.createMailbox(user.id, 'Projects/2024'), 'ALREADYEXISTS');
        await rejectsWith(store.createMailbox('999999', 'X'), 'NONEXISTENT');
      });

      it('validates mailbox names (INVALID)', async () => {
        const user = await newUser();
        const deep = Array.from({ length: 33 }, (_, i) => `d${i}`).join('/');
        const bad = [
          '',
          '/a',
          'a/',
          'a//b',
          'a\u0001b',
          'tab\there',
          'del\u007f',
          'x'.repeat(1001),
          deep,
          'a*',
          'b%',
        ];
        for (const name of bad) await rejectsWith(store.createMailbox(user.id, name), 'INVALID');
        await rejectsWith(store.createMailbox(user.id, 'X', '\\Bogus' as unknown as '\\Archive'), 'INVALID');
        const ok = Array.from({ length: 32 }, (_, i) => `d${i}`).join('/');
        expect((await store.createMailbox(user.id, ok)).path).toBe(ok);
        expect((await store.createMailbox(user.id, 'Ünïcode ✓')).path).toBe('Ünïcode ✓');
        expect(await store.getMailbox(user.id, 'a//b')).toBeNull();
      });

      it('refuses to delete INBOX and missing mailboxes', async () => {
        const user = await newUser();
        await rejectsWith(store.deleteMailbox(user.id, 'inbox'), 'CANNOT');
        await rejectsWith(store.deleteMailbox(user.id, 'Nope'), 'NONEXISTENT');
      });

      it('deletes a leaf mailbox with its messages', async () => {
        const user = await newUser();
        const box = await store.createMailbox(user.id, 'Old');
        await store.append(box.id, message('old'));
        const head = await store.journalHead(user.id);
        await store.deleteMailbox(user.id, 'Old');
        expect(await store.getMailbox(user.id, 'Old')).toBeNull();
        expect(await store.getMailboxById(box.id)).toBeNull();
        expect((await store.getUser(user.id))?.usedBytes).toBe(0);
        const entries = await allJournal(store, user.id, head);
        expect(entries.map((e) => [e.kind, e.mailboxId, e.path])).toContainEqual([
          'mailbox-delete',
          box.id,
          'Old',
        ]);
      });

      it('turns a deleted mailbox with children into a \\Noselect placeholder', async () => {
        const user = await newUser();
        const parent = await store.createMailbox(user.id, 'Parent');
        const child = await store.createMailbox(user.id, 'Parent/Child');
        await store.append(parent.id, message('p'));
        await store.append(child.id, message('c'));
        await store.deleteMailbox(user.id, 'Parent');

        const placeholder = await mailbox(store, user, 'Parent');
        expect(placeholder.selectable).toBe(false);
        expect(placeholder.id).toBe(parent.id);
        expect((await store.mailboxCounts(parent.id)).messages).toBe(0);
        await rejectsWith(store.append(parent.id, message('x')), 'CANNOT');
        expect(await uidsOf(store, child.id)).toEqual([1]);
        // RFC 3501: deleting a \Noselect name that has children is an error.
        await rejectsWith(store.deleteMailbox(user.id, 'Parent'), 'CANNOT');

        const revived = await store.createMailbox(user.id, 'Parent');
        expect(revived.selectable).toBe(true);
        expect(revived.uidValidity).not.toBe(parent.uidValidity);
        expect((await store.append(revived.id, message('again'))).uid).toBeGreaterThanOrEqual(1);
      });

      it('keeps a \\Noselect placeholder when its last child goes', async () => {
        const user = await newUser();
        await store.createMailbox(user.id, 'P/C');
        await store.deleteMailbox(user.id, 'P');
        await store.deleteMailbox(user.id, 'P/C');
        expect((await mailbox(store, user, 'P')).selectable).toBe(false);
        await store.deleteMailbox(user.id, 'P');
        expect(await store.getMailbox(user.id, 'P')).toBeNull();
      });

      it('renames a mailbox with its children, keeping ids, UIDVALIDITY and messages', async () => {
        const user = await newUser();
        const work = await store.createMailbox(user.id, 'Work');
        const sub = await store.createMailbox(user.id, 'Work/Sub');
        await store.createMailbox(user.id, 'Workshop');
        await store.append(sub.id, message('in sub'));
        const head = await store.journalHead(user.id);

        await store.renameMailbox(user.id, 'Work', 'Archive/2024/Work');

        expect(await store.getMailbox(user.id, 'Work')).toBeNull();
        expect(await store.getMailbox(user.id, 'Work/Sub')).toBeNull();
        expect(await store.getMailbox(user.id, 'Workshop')).not.toBeNull();
        expect(await mailbox(store, user, 'Archive/2024')).toMatchObject({ selectable: true });
        const moved = await mailbox(store, user, 'Archive/2024/Work');
        const movedSub = await mailbox(store, user, 'Archive/2024/Work/Sub');
        expect(moved).toMatchObject({ id: work.id, uidValidity: work.uidValidity });
        expect(movedSub).toMatchObject({ id: sub.id, uidValidity: sub.uidValidity });
        expect(await uidsOf(store, sub.id)).toEqual([1]);
        const renames = (await allJournal(store, user.id, head)).filter((e) => e.kind === 'mailbox-rename');
        expect(renames.map((e) => [e.mailboxId, e.oldPath, e.path])).toEqual([
          [work.id, 'Work', 'Archive/2024/Work'],
          [sub.id, 'Work/Sub', 'Archive/2024/Work/Sub'],
        ]);
      });

      it('refuses bad renames', async () => {
        const user = await newUser();
        await store.createMailbox(user.id, 'A/B');
        await rejectsWith(store.renameMailbox(user.id, 'Missing', 'X'), 'NONEXISTENT');
        await rejectsWith(store.renameMailbox(user.id, 'A', 'Sent'), 'ALREADYEXISTS');
        await rejectsWith(store.renameMailbox(user.id, 'A', 'A/B'), 'ALREADYEXISTS');
        await rejectsWith(store.renameMailbox(user.id, 'A', 'A/C'), 'CANNOT');
        await rejectsWith(store.renameMailbox(user.id, 'A', 'A/B/C'), 'CANNOT');
        await rejectsWith(store.renameMailbox(user.id, 'A', 'bad//name'), 'INVALID');
        await rejectsWith(store.renameMailbox(user.id, 'Sent', 'inbox'), 'ALREADYEXISTS');
      });

      it('renames INBOX by moving its messages to a new mailbox', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const child = await store.createMailbox(user.id, 'INBOX/Kept');
        const raws = [message('one'), message('two'), message('three')];
        for (const raw of raws) await store.append(box.id, raw, { flags: ['\\Seen', '$Work'] });
        await store.deleteMessages(box.id, [2]);

        await store.renameMailbox(user.id, 'INBOX', 'Old Inbox');

        const after = await inbox(user);
        expect(after.id).toBe(box.id);
        expect(after.uidValidity).toBe(box.uidValidity);
        expect(await uidsOf(store, box.id)).toEqual([]);
        expect(after.uidNext).toBeGreaterThan(3);
        expect(await store.getMailbox(user.id, 'INBOX/Kept')).toMatchObject({ id: child.id });
        const old = await mailbox(store, user, 'Old Inbox');
        const moved = await store.listMessages(old.id);
        expect(moved.map((m) => m.uid)).toEqual([1, 2]);
        expect(moved.every((m) => sortedFlags(m.flags).join() === '$Work,\\Seen')).toBe(true);
        expect(await store.readBlob(moved[1]!.blobId)).toEqual(raws[2]);
        expect((await store.getUser(user.id))?.usedBytes).toBe(raws[0]!.length + raws[2]!.length);
      });

      it('subscribes and unsubscribes', async () => {
        const user = await newUser();
        await store.setSubscribed(user.id, 'Junk', false);
        expect((await mailbox(store, user, 'Junk')).subscribed).toBe(false);
        await store.setSubscribed(user.id, 'Junk', true);
        expect((await mailbox(store, user, 'Junk')).subscribed).toBe(true);
        await rejectsWith(store.setSubscribed(user.id, 'bad*name', true), 'INVALID');
        expect(await store.listSubscriptions(user.id)).toEqual(DEFAULT_MAILBOXES.map((m) => m.path).sort());
      });

      it('keeps subscriptions as a list of names of their own (RFC 3501 6.3.6)', async () => {
        const user = await newUser();
        const defaults = DEFAULT_MAILBOXES.map((m) => m.path);
        // New mailboxes, and the parents made for them, start unsubscribed.
        await store.createMailbox(user.id, 'Lists/Rust');
        expect((await mailbox(store, user, 'Lists')).subscribed).toBe(false);
        expect((await mailbox(store, user, 'Lists/Rust')).subscribed).toBe(false);
        await store.setSubscribed(user.id, 'Lists/Rust', true);
        expect((await mailbox(store, user, 'Lists/Rust')).subscribed).toBe(true);
        // A name may be subscribed without a mailbox; DELETE and RENAME leave the list alone.
        await store.setSubscribed(user.id, 'Not/Yet', true);
        await store.renameMailbox(user.id, 'Lists', 'Groups');
        expect((await mailbox(store, user, 'Groups/Rust')).subscribed).toBe(false);
        await store.deleteMailbox(user.id, 'Groups/Rust');
        expect(await store.listSubscriptions(user.id)).toEqual([...defaults, 'Lists/Rust', 'Not/Yet'].sort());
        // A mailbox made under a subscribed name shows it.
        await store.createMailbox(user.id, 'Not/Yet');
        expect((await mailbox(store, user, 'Not/Yet')).subscribed).toBe(true);
        await store.setSubscribed(user.id, 'Lists/Rust', false);
        expect(await store.listSubscriptions(user.id)).toEqual([...defaults, 'Not/Yet'].sort());
        expect(await store.listSubscriptions('999999')).toEqual([]);
      });

      it('makes one secret URLAUTH key per mailbox, kept by RENAME, gone with RESETKEY and DELETE', async () => {
        const user = await newUser();
        const other = await newUser('bob@example.com');
        const drafts = await mailbox(store, user, 'Drafts');
        const sent = await mailbox(store, user, 'Sent');
        expect(await store.urlAuthKey(drafts.id, false)).toBeNull();
        // Made once: concurrent first uses agree, and later reads give the same bytes.
        const made = await Promise.all([
          store.urlAuthKey(drafts.id, true),
          store.urlAuthKey(drafts.id, true),
        ]);
        expect(made[0]!.length).toBe(32);
        expect(made[1]!.equals(made[0]!)).toBe(true);
        expect((await store.urlAuthKey(drafts.id, false))!.equals(made[0]!)).toBe(true);
        const sentKey = (await store.urlAuthKey(sent.id, true))!;
        expect(sentKey.equals(made[0]!)).toBe(false);
        await store.renameMailbox(user.id, 'Drafts', 'Brouillons');
        expect((await store.urlAuthKey(drafts.id, false))!.equals(made[0]!)).toBe(true);
        // RESETKEY of one mailbox: only that key goes, and the next one is new.
        await store.resetUrlAuthKeys(user.id, drafts.id);
        expect(await store.urlAuthKey(drafts.id, false)).toBeNull();
        expect((await store.urlAuthKey(sent.id, false))!.equals(sentKey)).toBe(true);
        expect((await store.urlAuthKey(drafts.id, true))!.equals(made[0]!)).toBe(false);
        // Another user's mailbox is not one of the user's; RESETKEY of all leaves the other user's.
        const otherKey = (await store.urlAuthKey((await mailbox(store, other, 'INBOX')).id, true))!;
        await rejectsWith(
          store.resetUrlAuthKeys(user.id, (await mailbox(store, other, 'INBOX')).id),
          'NONEXISTENT',
        );
        await store.resetUrlAuthKeys(user.id, null);
        expect(await store.urlAuthKey(drafts.id, false)).toBeNull();
        expect(await store.urlAuthKey(sent.id, false)).toBeNull();
        expect(
          (await store.urlAuthKey((await mailbox(store, other, 'INBOX')).id, false))!.equals(otherKey),
        ).toBe(true);
        // DELETE takes the key, also from a mailbox that stays as a \Noselect placeholder.
        await store.createMailbox(user.id, 'Parent/Child');
        const parent = await mailbox(store, user, 'Parent');
        await store.urlAuthKey(parent.id, true);
        await store.deleteMailbox(user.id, 'Parent');
        await rejectsWith(store.urlAuthKey(parent.id, true), 'NONEXISTENT');
        await store.deleteMailbox(user.id, 'Sent');
        await rejectsWith(store.urlAuthKey(sent.id, false), 'NONEXISTENT');
      });

      it('keeps METADATA entries per mailbox and per server, binary-safe (RFC 5464)', async () => {
        const user = await newUser();
        const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1');
        const read = async (path: string): Promise<Array<[string, string]>> =>
          (await store.getMetadata(user.id, path)).map((e) => [
            e.name,
            Buffer.from(e.value).toString('latin1'),
          ]);
        expect(await store.getMetadata(user.id, 'INBOX')).toEqual([]);
        const binary = '\x00\r\n\xff';
        await store.setMetadata(
          user.id,
          'inbox',
          [
            { name: '/private/comment', value: bytes('My inbox') },
            { name: '/shared/vendor/x/raw', value: bytes(binary) },
          ],
          10,
        );
        await store.setMetadata(user.id, '', [{ name: '/shared/admin', value: bytes('mailto:a@b') }], 10);
        expect(await read('INBOX')).toEqual([
          ['/private/comment', 'My inbox'],
          ['/shared/vendor/x/raw', binary],
        ]);
        expect(await read('')).toEqual([['/shared/admin', 'mailto:a@b']]);
        // A value replaces the old one; null removes the entry (removing a missing one is no error).
        await store.setMetadata(
          user.id,
          'INBOX',
          [
            { name: '/private/comment', value: bytes('Changed') },
            { name: '/shared/vendor/x/raw', value: null },
            { name: '/private/none', value: null },
          ],
          10,
        );
        expect(await read('INBOX')).toEqual([['/private/comment', 'Changed']]);
        await rejectsWith(store.getMetadata(user.id, 'Nope'), 'NONEXISTENT');
        await rejectsWith(
          store.setMetadata(user.id, 'Nope', [{ name: '/private/a', value: bytes('') }], 10),
          'NONEXISTENT',
        );
        await rejectsWith(store.getMetadata('999999', ''), 'NONEXISTENT');
      });

      it('refuses a METADATA change past the entry limit as a whole', async () => {
        const user = await newUser();
        const value = Buffer.from('v');
        await store.setMetadata(user.id, 'Sent', [{ name: '/private/a', value }], 2);
        await rejectsWith(
          store.setMetadata(
            user.id,
            'Sent',
            [
              { name: '/private/b', value },
              { name: '/private/c', value },
            ],
            2,
          ),
          'LIMIT',
        );
        expect((await store.getMetadata(user.id, 'Sent')).map((e) => e.name)).toEqual(['/private/a']);
        // Replacing and removing within the limit is fine.
        await store.setMetadata(
          user.id,
          'Sent',
          [
            { name: '/private/a', value: null },
            { name: '/private/b', value },
            { name: '/private/c', value },
          ],
          2,
        );
        expect((await store.getMetadata(user.id, 'Sent')).map((e) => e.name)).toEqual([
          '/private/b',
          '/private/c',
        ]);
      });

      it('moves METADATA with a renamed mailbox and drops it with a deleted one', async () => {
        const user = await newUser();
        const value = Buffer.from('kept');
        await store.createMailbox(user.id, 'Work/Child');
        await store.setMetadata(user.id, 'Work', [{ name: '/private/comment', value }], 10);
        await store.setMetadata(user.id, 'Work/Child', [{ name: '/private/comment', value }], 10);
        await store.renameMailbox(user.id, 'Work', 'Job');
        expect((await store.getMetadata(user.id, 'Job')).map((e) => e.name)).toEqual(['/private/comment']);
        expect((await store.getMetadata(user.id, 'Job/Child')).map((e) => e.name)).toEqual([
          '/private/comment',
        ]);
        // Job stays as a \Noselect placeholder (it has a child), without its entries.
        await store.deleteMailbox(user.id, 'Job');
        expect(await store.getMetadata(user.id, 'Job')).toEqual([]);
        await store.deleteMailbox(user.id, 'Job/Child');
        await rejectsWith(store.getMetadata(user.id, 'Job/Child'), 'NONEXISTENT');
        // A new mailbox of the same name starts without entries.
        await store.createMailbox(user.id, 'Job/Child');
        expect(await store.getMetadata(user.id, 'Job/Child')).toEqual([]);
      });

      it('counts messages, unseen, recent, bytes and deleted', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const a = message('a');
        const b = message('bb');
        await store.append(box.id, a, { flags: ['\\Seen', '\\Deleted'] });
        await store.append(box.id, b);
        expect(await store.mailboxCounts(box.id)).toEqual({
          messages: 2,
          unseen: 1,
          recent: 2,
          bytes: a.length + b.length,
          deleted: 1,
        });
        await rejectsWith(store.mailboxCounts('999999'), 'NONEXISTENT');
      });

      it('keeps the \\Deleted count through flag changes, copies, moves and expunges', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const other = await store.createMailbox(user.id, 'Other');
        for (const flags of [['\\Deleted'], [], [], ['\\Deleted', '\\Seen']])
          await store.append(box.id, message('d'), { flags });
        const deleted = async (id: string) => (await store.mailboxCounts(id)).deleted;
        expect(await deleted(box.id)).toBe(2);
        await store.storeFlags(box.id, [2, 3], 'add', ['\\Deleted']);
        expect(await deleted(box.id)).toBe(4);
        await store.storeFlags(box.id, [3], 'set', ['\\Seen']);
        expect(await deleted(box.id)).toBe(3);
        await store.storeFlags(box.id, [1, 2], 'remove', ['\\Deleted']);
        expect(await deleted(box.id)).toBe(1);
        await store.copyMessages(box.id, [3, 4], other.id);
        expect(await deleted(other.id)).toBe(1);
        await store.moveMessages(box.id, [4], other.id);
        expect([await deleted(box.id), await deleted(other.id)]).toEqual([0, 2]);
        expect(await store.expunge(other.id)).toHaveLength(2);
        expect(await deleted(other.id)).toBe(0);
      });

      it('reads a mailbox with its counts in one call', async () => {
        const user = await newUser();
        const box = await inbox(user);
        await store.append(box.id, message('x'), { flags: ['\\Deleted'] });
        const status = await store.mailboxStatus(user.id, 'inbox');
        expect(status).toEqual({
          mailbox: await store.getMailbox(user.id, 'INBOX'),
          counts: await store.mailboxCounts(box.id),
        });
        expect(status!.counts).toMatchObject({ messages: 1, deleted: 1 });
        expect(await store.mailboxStatus(user.id, 'Nowhere')).toBeNull();
        expect(await store.mailboxStatus('999999', 'INBOX')).toBeNull();
        expect(await store.mailboxStatus(user.id, '')).toBeNull();
      });

      it('claims \\Recent exactly once', async () => {
        const user = await newUser();
        const box = await inbox(user);
        await store.append(box.id, message('1'));
        await store.append(box.id, message('2'));
        const claims = await Promise.all([store.claimRecent(box.id), store.claimRecent(box.id)]);
        const winners = claims.filter((claim) => claim.current > claim.previous);
        expect(winners).toEqual([{ previous: 0, current: 2 }]);
        expect((await store.mailboxCounts(box.id)).recent).toBe(0);
        await store.append(box.id, message('3'));
        expect((await store.mailboxCounts(box.id)).recent).toBe(1);
        expect(await store.claimRecent(box.id)).toEqual({ previous: 2, current: 3 });
      });

      it('counts \\Recent on either side of the mark, with gaps left by expunges', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const recent = async () => (await store.mailboxCounts(box.id)).recent;
        // Never claimed: every message is recent (counted from the side below the mark: none).
        for (let i = 1; i <= 6; i++) await store.append(box.id, message(String(i)));
        await store.storeFlags(box.id, [2, 5], 'add', ['\\Deleted']);
        await store.expunge(box.id);
        expect(await recent()).toBe(4);
        expect((await store.mailboxStatus(user.id, 'INBOX'))!.counts.recent).toBe(4);
        // Mark at 6, then UIDs 7-16 above it and 1, 3, 4, 6 at or below: fewer UIDs below, counted there.
        await store.claimRecent(box.id);
        for (let i = 7; i <= 16; i++) await store.append(box.id, message(String(i)));
        await store.storeFlags(box.id, [1, 8], 'add', ['\\Deleted']);
        await store.expunge(box.id);
        expect(await recent()).toBe(9);
        // Mark at 16, two UIDs above it, one of them expunged: counted above.
        await store.claimRecent(box.id);
        await store.append(box.id, message('17'));
        await store.append(box.id, message('18'), { flags: ['\\Deleted'] });
        await store.expunge(box.id);
        expect(await recent()).toBe(1);
      });
    });

    describe('messages', () => {
      it('appends with UID, MODSEQ, flags, date and size', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const date = new Date('2024-02-03T04:05:06.000Z');
        const raw = message('hello');
        const before = Date.now();
        const first = await store.append(box.id, raw, { flags: ['\\Seen'], internalDate: date });
        expect(first).toMatchObject({ uid: 1, uidValidity: box.uidValidity, mailboxId: box.id });
        const second = await store.append(box.id, message('again'));
        expect(second.uid).toBe(2);
        expect(second.modseq).toBeGreaterThan(first.modseq);
        const summary = await store.getMessage(box.id, 1);
        expect(summary).toEqual({
          mailboxId: box.id,
          uid: 1,
          modseq: first.modseq,
          flags: ['\\Seen'],
          internalDate: date,
          size: raw.length,
          blobId: sha256(raw),
          savedAt: expect.any(Date),
          threadId: expect.stringMatching(/^[A-Za-z0-9_-]{1,255}$/),
        });
        // The save date is the time of the append (RFC 8514), whatever the internal date.
        expect(summary!.savedAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(summary!.savedAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
        const after = await inbox(user);
        expect(after.uidNext).toBe(3);
        expect(after.highestModseq).toBe(second.modseq);
        expect(await store.getMessage(box.id, 99)).toBeNull();
        await rejectsWith(store.append('999999', raw), 'NONEXISTENT');
      });

      it('normalises flags', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const flags = ['\\seen', '\\SEEN', '$Label', '$label', '\\Recent', '\\flagged', 'Work', '\\ANSWERED'];
        await store.append(box.id, message('f'), { flags });
        const stored = (await store.getMessage(box.id, 1))!.flags;
        expect(sortedFlags(stored)).toEqual(
          sortedFlags(['\\Seen', '$Label', '\\Flagged', 'Work', '\\Answered']),
        );
        await rejectsWith(store.append(box.id, message('g'), { flags: ['two words'] }), 'INVALID');
        await rejectsWith(store.append(box.id, message('g'), { flags: [''] }), 'INVALID');
      });

      it('delivers to the INBOX of the resolved recipient', async () => {
        const user = await newUser();
        await store.addAddress(user.id, 'al@example.com');
        const result = await store.deliver('Al+news@example.com', message('delivered'));
        const box = await inbox(user);
        expect(result).toMatchObject({
          userId: user.id,
          mailboxId: box.id,
          uid: 1,
          uidValidity: box.uidValidity,
        });
        expect(await uidsOf(store, box.id)).toEqual([1]);
        await rejectsWith(store.deliver('nobody@example.com', message('lost')), 'NONEXISTENT');
      });

      it('lists by UID ranges and CHANGEDSINCE', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const modseqs: number[] = [];
        for (let i = 1; i <= 8; i++) modseqs.push((await store.append(box.id, message(`m${i}`))).modseq);
        await store.deleteMessages(box.id, [4]);
        const list = async (filter: Parameters<Store['listMessages']>[1]) =>
          (await store.listMessages(box.id, filter)).map((m) => m.uid);
        expect(await list(undefined)).toEqual([1, 2, 3, 5, 6, 7, 8]);
        expect(await list({ uids: [{ from: 2, to: 4 }] })).toEqual([2, 3]);
        expect(
          await list({
            uids: [
              { from: 7, to: 4294967295 },
              { from: 1, to: 1 },
            ],
          }),
        ).toEqual([1, 7, 8]);
        expect(
          await list({
            uids: [
              { from: 2, to: 5 },
              { from: 3, to: 6 },
            ],
          }),
        ).toEqual([2, 3, 5, 6]);
        expect(await list({ uids: [{ from: 20, to: 30 }] })).toEqual([]);
        expect(await list({ uids: [] })).toEqual([]);
        expect(await list({ changedSince: modseqs[5] })).toEqual([7, 8]);
        await store.storeFlags(box.id, [2], 'add', ['\\Flagged']);
        expect(await list({ changedSince: modseqs[5] })).toEqual([2, 7, 8]);
        expect(await list({ uids: [{ from: 1, to: 7 }], changedSince: modseqs[5] })).toEqual([2, 7]);
        await rejectsWith(store.listMessages('999999'), 'NONEXISTENT');
      });

      it('lists UIDs, MODSEQs and flags compactly below a UID, as listMessages has them', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const flagSets = [['\\Seen'], [], ['\\Seen', '$Label1'], ['\\Flagged'], ['\\Seen']];
        for (let i = 0; i < 300; i++) {
          await store.append(box.id, message(`flags ${i}`), { flags: flagSets[i % flagSets.length] });
        }
        await store.deleteMessages(box.id, [3, 200]);
        await store.storeFlags(box.id, [5], 'add', ['\\Answered']);
        const expand = (listing: FlagListing) =>
          Array.from({ length: listing.count }, (_, i) => ({
            uid: listing.uids[i],
            modseq: listing.modseqs[i],
            flags: listing.flagSets[listing.flagSetIds[i]!],
          }));
        const summaries = (await store.listMessages(box.id)).map(({ uid, modseq, flags }) => ({
          uid,
          modseq,
          flags,
        }));
        const listing = await store.listFlags(box.id, 301);
        expect(expand(listing)).toEqual(summaries);
        // The distinct flag lists once each, not one per message.
        expect(listing.flagSets.length).toBeLessThanOrEqual(6);
        expect(expand(await store.listFlags(box.id, 6))).toEqual(summaries.slice(0, 4));
        expect((await store.listFlags(box.id, 1)).count).toBe(0);
        await rejectsWith(store.listFlags('999999', 10), 'NONEXISTENT');
      });

      it('reads several bodies at once, leaving out missing ones', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const raws = Array.from({ length: 300 }, (_, i) => message(`batch ${i}`));
        for (const raw of raws) await store.append(box.id, raw);
        const ids = raws.map((raw) => sha256(raw));
        const missing = '0'.repeat(64);
        const found = await store.readBlobs([missing, ...ids, ids[0]!]);
        expect(found.size).toBe(raws.length);
        expect(found.has(missing)).toBe(false);
        raws.forEach((raw, i) => expect(found.get(ids[i]!)?.equals(raw)).toBe(true));
        expect([...(await store.readBlobs([ids[7]!])).entries()]).toEqual([[ids[7], raws[7]]]);
        expect((await store.readBlobs([missing])).size).toBe(0);
        expect((await store.readBlobs([])).size).toBe(0);
      });

      it('reads several MIME indexes at once, the same as one by one, leaving out missing ones', async () => {
        expect(store.readMimeIndexes).toBeTypeOf('function');
        const user = await newUser();
        const box = await inbox(user);
        const raws = Array.from({ length: 300 }, (_, i) => message(`index batch ${i}`));
        for (const raw of raws) await store.append(box.id, raw);
        const ids = raws.map((raw) => sha256(raw));
        const missing = '0'.repeat(64);
        const found = await store.readMimeIndexes!([missing, ...ids, ids[0]!]);
        expect(found.size).toBe(raws.length);
        expect(found.has(missing)).toBe(false);
        for (const id of [ids[0]!, ids[150]!, ids[299]!]) {
          expect(found.get(id)).toEqual(await store.readMimeIndex(id));
        }
        expect((await store.readMimeIndexes!([])).size).toBe(0);
      });

      it('keeps the RFC 8970 preview of each body from delivery, several read at once', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const plain = Buffer.from('Subject: p\r\n\r\nHello   there,\r\nsee you.\r\n');
        const html = Buffer.from(
          'Subject: h\r\nContent-Type: text/html\r\n\r\n<p>Fish &amp; <b>chips</b></p>\r\n',
        );
        const none = Buffer.from('Subject: n\r\nContent-Type: application/pdf\r\n\r\nJVBERi0=\r\n');
        await store.append(box.id, plain);
        await store.deliver(user.username, html);
        await store.appendMany(box.id, [{ raw: none }, { raw: plain }]);
        const [p, h, n] = [plain, html, none].map((raw) => sha256(raw));
        const missing = '0'.repeat(64);
        const found = await store.readPreviews([missing, p!, h!, n!, p!]);
        expect([...found.entries()].sort()).toEqual(
          [
            [p, 'Hello there, see you.'],
            [h, 'Fish & chips'],
            [n, ''],
          ].sort(),
        );
        expect((await store.readPreviews([])).size).toBe(0);
        // A body gone with its last message has none.
        await store.deleteMessages(box.id, [1, 3, 4]);
        expect([...(await store.readPreviews([p!, h!])).keys()]).toEqual([h]);
      });

      it('reads the first bytes of several bodies at once, leaving out missing ones', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const raws = Array.from({ length: 300 }, (_, i) => message(`heads ${i}`));
        for (const raw of raws) await store.append(box.id, raw);
        const ids = raws.map((raw) => sha256(raw));
        const missing = '0'.repeat(64);
        const heads = [{ blobId: missing, bytes: 10 }, ...ids.map((blobId, i) => ({ blobId, bytes: 1 + i }))];
        const found = await store.readBlobHeads(heads);
        expect(found.size).toBe(raws.length);
        expect(found.has(missing)).toBe(false);
        raws.forEach((raw, i) => expect(found.get(ids[i]!)?.equals(raw.subarray(0, 1 + i))).toBe(true));
        const whole = await store.readBlobHeads([{ blobId: ids[0]!, bytes: raws[0]!.length + 100 }]);
        expect(whole.get(ids[0]!)?.equals(raws[0]!)).toBe(true);
        expect((await store.readBlobHeads([])).size).toBe(0);
      });

      it('reads the MIME index of a stored body', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const raw = message('indexed');
        await store.append(box.id, raw);
        const index = await store.readMimeIndex(sha256(raw));
        expect(typeof index.version).toBe('number');
        expect(index.root.path).toBe('');
        expect(index.root.bodyEnd).toBe(raw.length);
        await rejectsWith(store.readMimeIndex('0'.repeat(64)), 'NONEXISTENT');
        await rejectsWith(store.readBlob('0'.repeat(64)), 'NONEXISTENT');
      });

      it('appends several messages at once with consecutive UIDs, journaled together', async () => {
        const user = await newUser();
        const box = await inbox(user);
        await store.append(box.id, message('before'));
        const head = await store.journalHead(user.id);
        const date = new Date('2024-05-06T07:08:09.000Z');
        const results = await store.appendMany(box.id, [
          { raw: message('one'), options: { flags: ['\\Seen', '$Work'], internalDate: date } },
          { raw: Buffer.from('Subject: two\n\nbare LF\n') },
          { raw: message('one') },
        ]);
        expect(results.map((result) => result.uid)).toEqual([2, 3, 4]);
        expect(
          results.every((result) => result.uidValidity === box.uidValidity && result.mailboxId === box.id),
        ).toBe(true);
        expect(results[1]!.modseq).toBeGreaterThan(results[0]!.modseq);
        const first = (await store.getMessage(box.id, 2))!;
        expect(sortedFlags(first.flags)).toEqual(['$Work', '\\Seen']);
        expect(first.internalDate).toEqual(date);
        // Stored as append stores: CRLF line ends, identical bodies once.
        expect((await store.readBlob((await store.getMessage(box.id, 3))!.blobId)).toString()).toBe(
          'Subject: two\r\n\r\nbare LF\r\n',
        );
        expect((await store.getMessage(box.id, 4))!.blobId).toBe(first.blobId);
        const journal = await allJournal(store, user.id, head);
        expect(journal.map((entry) => [entry.kind, entry.uid])).toEqual([
          ['message-new', 2],
          ['message-new', 3],
          ['message-new', 4],
        ]);
        expect((await store.mailboxCounts(box.id)).messages).toBe(4);
        expect(await store.appendMany(box.id, [])).toEqual([]);
        await rejectsWith(store.appendMany('999999', [{ raw: message('x') }]), 'NONEXISTENT');
      });

      it('appends several messages all or nothing: over quota or one invalid, none is stored', async () => {
        const user = await newUser('alice@example.com', { quotaBytes: 1000 });
        const box = await inbox(user);
        await store.append(box.id, Buffer.alloc(300, 'a'));
        const head = await store.journalHead(user.id);
        // Each fits alone; together they do not.
        await rejectsWith(
          store.appendMany(box.id, [{ raw: Buffer.alloc(400, 'b') }, { raw: Buffer.alloc(400, 'c') }]),
          'OVERQUOTA',
        );
        // The last one is invalid.
        await rejectsWith(
          store.appendMany(box.id, [
            { raw: Buffer.alloc(100, 'd') },
            { raw: Buffer.alloc(100, 'e'), options: { flags: ['two words'] } },
          ]),
          'INVALID',
        );
        expect(await uidsOf(store, box.id)).toEqual([1]);
        expect(await allJournal(store, user.id, head)).toEqual([]);
        expect(await store.getQuota(user.id)).toEqual({ usedBytes: 300, limitBytes: 1000 });
        expect((await store.mailboxCounts(box.id)).messages).toBe(1);
        const results = await store.appendMany(box.id, [
          { raw: Buffer.alloc(400, 'f') },
          { raw: Buffer.alloc(300, 'g') },
        ]);
        expect(results.map((result) => result.uid)).toEqual([2, 3]);
        expect((await store.getQuota(user.id)).usedBytes).toBe(1000);
        // A body refused at the start leaves no reference behind (a later delete frees it).
        await store.deleteMessages(box.id, [2, 3]);
        expect((await store.getQuota(user.id)).usedBytes).toBe(300);
      });

      it('gives a copied or moved message the save date of its copy or move (RFC 8514)', async () => {
        const user = await newUser();
        const box = await store.importMailbox(user.id, {
          path: 'Old',
          specialUse: null,
          subscribed: true,
          uidValidity: 70,
          uidNext: 1,
          highestModseq: 1,
        });
        const archive = await mailbox(store, user, 'Archive');
        const saved = new Date('2020-01-02T03:04:05.000Z');
        for (const uid of [1, 2]) {
          await store.importMessage(
            box.id,
            { uid, modseq: uid, flags: [], internalDate: saved, savedAt: saved },
            message(`m${uid}`),
          );
        }
        const start = Date.now();
        await store.copyMessages(box.id, [1], archive.id);
        await store.moveMessages(box.id, [2], archive.id);
        expect((await store.getMessage(box.id, 1))!.savedAt).toEqual(saved);
        for (const copy of await store.listMessages(archive.id)) {
          expect(copy.savedAt!.getTime()).toBeGreaterThanOrEqual(start - 1000);
          expect(copy.internalDate).toEqual(saved);
        }
      });

      it('replaces a message: the new one appended, the old one removed, or neither', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const drafts = await mailbox(store, user, 'Drafts');
        await store.append(box.id, message('keep'));
        await store.append(box.id, message('draft v1'), { flags: ['\\Draft'] });
        const head = await store.journalHead(user.id);
        const date = new Date('2024-07-08T09:10:11.000Z');
        const v2 = await store.replaceMessage(box.id, 2, box.id, message('draft v2'), {
          flags: ['\\Draft', '\\Seen'],
          internalDate: date,
        });
        expect(v2).toMatchObject({ uid: 3, uidValidity: box.uidValidity, mailboxId: box.id });
        expect(await uidsOf(store, box.id)).toEqual([1, 3]);
        const summary = (await store.getMessage(box.id, 3))!;
        expect(sortedFlags(summary.flags)).toEqual(['\\Draft', '\\Seen']);
        expect(summary.internalDate).toEqual(date);
        expect((await store.readBlob(summary.blobId)).equals(message('draft v2'))).toBe(true);
        const kinds = (await allJournal(store, user.id, head)).map((entry) => [entry.kind, entry.uid]);
        expect(kinds).toHaveLength(2);
        expect(kinds).toContainEqual(['message-new', 3]);
        expect(kinds).toContainEqual(['message-expunge', 2]);
        expect(await store.expungedSince(box.id, 0)).toContain(2);
        // Into another mailbox.
        const v3 = await store.replaceMessage(box.id, 3, drafts.id, message('draft v3'));
        expect(v3).toMatchObject({ uid: 1, mailboxId: drafts.id });
        expect(await uidsOf(store, box.id)).toEqual([1]);
        expect(await uidsOf(store, drafts.id)).toEqual([1]);
        // A message that is not there: nothing is appended.
        await rejectsWith(store.replaceMessage(box.id, 3, drafts.id, message('v4')), 'NONEXISTENT');
        expect(await uidsOf(store, drafts.id)).toEqual([1]);
        expect((await store.getQuota(user.id)).usedBytes).toBe(
          message('keep').length + message('draft v3').length,
        );
      });

      it('enforces the quota and keeps usedBytes on append, copy, move and expunge', async () => {
        const raw = Buffer.alloc(400, 'x');
        const user = await newUser('alice@example.com', { quotaBytes: 1000 });
        const box = await inbox(user);
        const other = await mailbox(store, user, 'Archive');
        await store.append(box.id, raw);
        await store.append(box.id, Buffer.alloc(400, 'y'));
        expect(await store.getQuota(user.id)).toEqual({ usedBytes: 800, limitBytes: 1000 });
        await rejectsWith(store.append(box.id, Buffer.alloc(201, 'z')), 'OVERQUOTA');
        await rejectsWith(store.copyMessages(box.id, [1], other.id), 'OVERQUOTA');
        await store.moveMessages(box.id, [1], other.id);
        expect((await store.getQuota(user.id)).usedBytes).toBe(800);
        await store.append(box.id, Buffer.alloc(200, 'z'));
        expect((await store.getUser(user.id))?.usedBytes).toBe(1000);
        await store.storeFlags(box.id, [2], 'add', ['\\Deleted']);
        await store.expunge(box.id);
        expect((await store.getQuota(user.id)).usedBytes).toBe(600);
        await store.copyMessages(other.id, [1], box.id);
        expect((await store.getQuota(user.id)).usedBytes).toBe(1000);
        await store.deleteMessages(other.id, [1]);
        expect((await store.getQuota(user.id)).usedBytes).toBe(600);
        await store.updateUser(user.id, { quotaBytes: 0 });
        await store.append(box.id, Buffer.alloc(5000, 'w'));
        expect((await store.getQuota(user.id)).usedBytes).toBe(5600);
        await rejectsWith(store.getQuota('999999'), 'NONEXISTENT');
      });

      it('stores flags with add, remove and set', async () => {
        const user = await newUser();
        const box = await inbox(user);
        await store.append(box.id, message('1'), { flags: ['\\Seen'] });
        await store.append(box.id, message('2'));
        await store.append(box.id, message('3'), { flags: ['\\Seen', '$A'] });
        const before = await inbox(user);

        const added = await store.storeFlags(box.id, [1, 2, 3, 99], 'add', ['\\SEEN', '$a']);
        // 1 gains $a; 2 gains both; 3 already had both (keywords compare case-insensitively).
        expect(added.updated.map((u) => u.uid)).toEqual([1, 2]);
        expect(added.modified).toEqual([]);
        expect(sortedFlags(added.updated[0]!.flags)).toEqual(['$a', '\\Seen']);
        for (const update of added.updated) expect(update.modseq).toBeGreaterThan(before.highestModseq);
        const third = await store.getMessage(box.id, 3);
        expect(third?.modseq).toBeLessThanOrEqual(before.highestModseq);

        const removed = await store.storeFlags(box.id, [1, 2, 3], 'remove', ['$A']);
        expect(removed.updated.map((u) => u.uid)).toEqual([1, 2, 3]);
        expect(removed.updated.every((u) => sortedFlags(u.flags).join() === '\\Seen')).toBe(true);

        const set = await store.storeFlags(box.id, [1, 2], 'set', ['\\Flagged', '\\Recent']);
        expect(set.updated.map((u) => [u.uid, u.flags])).toEqual([
          [1, ['\\Flagged']],
          [2, ['\\Flagged']],
        ]);
        const unchanged = await store.storeFlags(box.id, [1, 2], 'set', ['\\flagged']);
        expect(unchanged.updated).toEqual([]);
        const stored = await store.getMessage(box.id, 1);
        expect(stored?.modseq).toBe(set.updated[0]!.modseq);
        expect(stored?.flags).toEqual(['\\Flagged']);
        expect((await inbox(user)).highestModseq).toBe(Math.max(...set.updated.map((u) => u.modseq)));
      });

      it('honours UNCHANGEDSINCE', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const one = await store.append(box.id, message('1'));
        await store.append(box.id, message('2'));
        const result = await store.storeFlags(box.id, [1, 2], 'add', ['\\Seen'], one.modseq);
        expect(result.updated.map((u) => u.uid)).toEqual([1]);
        expect(result.modified).toEqual([2]);
        expect((await store.getMessage(box.id, 2))?.flags).toEqual([]);
      });

      it('journals appends and flag changes', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const head = await store.journalHead(user.id);
        const appended = await store.append(box.id, message('j'), { flags: ['$X'] });
        const stored = await store.storeFlags(box.id, [1], 'add', ['\\Seen']);
        const entries = await allJournal(store, user.id, head);
        expect(entries.map((e) => [e.kind, e.userId, e.mailboxId, e.uid, e.modseq])).toEqual([
          ['message-new', user.id, box.id, 1, appended.modseq],
          ['message-flags', user.id, box.id, 1, stored.updated[0]!.modseq],
        ]);
        expect(entries[0]!.flags).toEqual(['$X']);
        expect(sortedFlags(entries[1]!.flags!)).toEqual(['$X', '\\Seen']);
        expect(entries[0]!.at).toBeInstanceOf(Date);
      });

      it('lists keywords ever used in the mailbox', async () => {
        const user = await newUser();
        const box = await inbox(user);
        expect(await store.listKeywords(box.id)).toEqual([]);
        await store.append(box.id, message('k'), { flags: ['$Work', '\\Seen'] });
        await store.storeFlags(box.id, [1], 'add', ['$Later', '$work']);
        await store.storeFlags(box.id, [1], 'remove', ['$Later']);
        expect([...(await store.listKeywords(box.id))].sort()).toEqual(['$Later', '$Work']);
      });

      it('copies messages with new UIDs in source order, sharing the body', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const target = await mailbox(store, user, 'Archive');
        await store.append(target.id, message('already there'));
        for (const text of ['a', 'b', 'c'])
          await store.append(box.id, message(text), { flags: ['\\Seen', `$${text}`] });
        const head = await store.journalHead(user.id);

        const result = await store.copyMessages(box.id, [3, 1, 42], target.id);

        expect(result).toEqual({
          uidValidity: target.uidValidity,
          uidMap: [
            [1, 2],
            [3, 3],
          ],
        });
        const copies = await store.listMessages(target.id, { uids: [{ from: 2, to: 3 }] });
        const originals = await store.listMessages(box.id, {
          uids: [
            { from: 1, to: 1 },
            { from: 3, to: 3 },
          ],
        });
        expect(copies.map((m) => [m.blobId, sortedFlags(m.flags), m.internalDate, m.size])).toEqual(
          originals.map((m) => [m.blobId, sortedFlags(m.flags), m.internalDate, m.size]),
        );
        expect(await uidsOf(store, box.id)).toEqual([1, 2, 3]);
        const entries = await allJournal(store, user.id, head);
        expect(entries.map((e) => [e.kind, e.mailboxId, e.uid])).toEqual([
          ['message-new', target.id, 2],
          ['message-new', target.id, 3],
        ]);
        expect((await store.copyMessages(box.id, [77], target.id)).uidMap).toEqual([]);
        await rejectsWith(store.copyMessages(box.id, [1], '999999'), 'NONEXISTENT');
      });

      it('moves messages: new UIDs in the target, expunged from the source', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const target = await mailbox(store, user, 'Trash');
        for (const text of ['a', 'b', 'c']) await store.append(box.id, message(text));
        const usedBefore = (await store.getUser(user.id))!.usedBytes;
        const head = await store.journalHead(user.id);

        const result = await store.moveMessages(box.id, [1, 3], target.id);

        expect(result).toEqual({
          uidValidity: target.uidValidity,
          uidMap: [
            [1, 1],
            [3, 2],
          ],
        });
        expect(await uidsOf(store, box.id)).toEqual([2]);
        expect(await uidsOf(store, target.id)).toEqual([1, 2]);
        expect((await store.getUser(user.id))!.usedBytes).toBe(usedBefore);
        const moved = await store.getMessage(target.id, 2);
        expect(await store.readBlob(moved!.blobId)).toEqual(message('c'));
        const entries = await allJournal(store, user.id, head);
        expect(entries.map((e) => [e.kind, e.mailboxId, e.uid])).toEqual([
          ['message-new', target.id, 1],
          ['message-new', target.id, 2],
          ['message-expunge', box.id, 1],
          ['message-expunge', box.id, 3],
        ]);
      });

      it('expunges only \\Deleted messages, optionally among given UIDs', async () => {
        const user = await newUser();
        const box = await inbox(user);
        for (let i = 1; i <= 5; i++) await store.append(box.id, message(`e${i}`));
        await store.storeFlags(box.id, [1, 2, 4], 'add', ['\\Deleted']);
        expect(await store.expunge(box.id, [2, 3, 4])).toEqual([2, 4]);
        expect(await uidsOf(store, box.id)).toEqual([1, 3, 5]);
        const head = await store.journalHead(user.id);
        expect(await store.expunge(box.id)).toEqual([1]);
        expect(await store.expunge(box.id)).toEqual([]);
        const entries = await allJournal(store, user.id, head);
        expect(entries.map((e) => [e.kind, e.uid])).toEqual([['message-expunge', 1]]);
        expect(entries[0]!.modseq).toBe((await inbox(user)).highestModseq);
      });

      it('deletes messages whatever their flags', async () => {
        const user = await newUser();
        const box = await inbox(user);
        for (let i = 1; i <= 3; i++) await store.append(box.id, message(`d${i}`));
        expect(await store.deleteMessages(box.id, [3, 1, 9])).toEqual([1, 3]);
        expect(await uidsOf(store, box.id)).toEqual([2]);
      });

      it('remembers expunged UIDs with the MODSEQ of their expunge (QRESYNC)', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const other = await store.createMailbox(user.id, 'Other');
        for (let i = 1; i <= 6; i++) await store.append(box.id, message(`q${i}`));
        const before = (await inbox(user)).highestModseq;
        expect(await store.expungedSince(box.id, before)).toEqual([]);
        await store.storeFlags(box.id, [2, 5], 'add', ['\\Deleted']);
        expect(await store.expunge(box.id)).toEqual([2, 5]);
        const middle = (await inbox(user)).highestModseq;
        await store.deleteMessages(box.id, [1]);
        await store.moveMessages(box.id, [6], other.id);

        expect(await store.expungedSince(box.id, before)).toEqual([1, 2, 5, 6]);
        expect(await store.expungedSince(box.id, middle)).toEqual([1, 6]);
        expect(await store.expungedSince(box.id, before, [{ from: 2, to: 5 }])).toEqual([2, 5]);
        expect(await store.expungedSince(box.id, (await inbox(user)).highestModseq)).toEqual([]);
        // Each expunge's MODSEQ is the one its journal entry carries.
        const entries = (await allJournal(store, user.id, 0)).filter(
          (e) => e.kind === 'message-expunge' && e.mailboxId === box.id,
        );
        for (const entry of entries) {
          expect(
            await store.expungedSince(box.id, entry.modseq! - 1, [{ from: entry.uid!, to: entry.uid! }]),
          ).toEqual([entry.uid]);
          expect(
            await store.expungedSince(box.id, entry.modseq!, [{ from: entry.uid!, to: entry.uid! }]),
          ).toEqual([]);
        }
        expect(await store.expungedSince(other.id, 0)).toEqual([]);
        await rejectsWith(store.expungedSince('999999', 0), 'NONEXISTENT');
      });
    });

    describe('journal', () => {
      it('has a growing head and pages oldest first', async () => {
        const user = await newUser();
        expect(await store.journalHead(user.id)).toBeGreaterThanOrEqual(0);
        const box = await inbox(user);
        const head = await store.journalHead(user.id);
        const after = (id: number) => new Map([[user.id, id]]);
        for (let i = 0; i < 5; i++) await store.append(box.id, message(`j${i}`));
        expect(await store.journalHead(user.id)).toBeGreaterThan(head);
        const firstPage = await store.readJournal(after(head), 2);
        expect(firstPage.map((e) => e.uid)).toEqual([1, 2]);
        const rest = await store.readJournal(after(firstPage[1]!.id));
        expect(rest.map((e) => e.uid)).toEqual([3, 4, 5]);
        expect(rest[2]!.id).toBe(await store.journalHead(user.id));
        expect(await store.readJournal(after(await store.journalHead(user.id)))).toEqual([]);
        const ids = [...firstPage, ...rest].map((e) => e.id);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
      });

      it('reads only the users asked for, each from its own position', async () => {
        const alice = await newUser('alice@example.com');
        const bob = await newUser('bob@example.com');
        const carol = await newUser('carol@example.com');
        const heads = new Map<string, number>();
        for (const user of [alice, bob, carol]) heads.set(user.id, await store.journalHead(user.id));
        for (const [user, count] of [
          [alice, 2],
          [bob, 3],
          [carol, 1],
        ] as const) {
          for (let i = 0; i < count; i++) await store.append((await inbox(user)).id, message(`${i}`));
        }
        const entries = await store.readJournal(
          new Map([
            [alice.id, heads.get(alice.id)!],
            [bob.id, heads.get(bob.id)!],
          ]),
        );
        const byUser = (user: User) => entries.filter((e) => e.userId === user.id).map((e) => e.uid);
        expect(byUser(alice)).toEqual([1, 2]);
        expect(byUser(bob)).toEqual([1, 2, 3]);
        expect(entries.filter((e) => e.userId !== alice.id && e.userId !== bob.id)).toEqual([]);
        // Bob from after his first entry: his later ones only, Alice's all the same.
        const bobFirst = entries.find((e) => e.userId === bob.id)!.id;
        const later = await store.readJournal(
          new Map([
            [alice.id, heads.get(alice.id)!],
            [bob.id, bobFirst],
          ]),
        );
        expect(later.filter((e) => e.userId === bob.id).map((e) => e.uid)).toEqual([2, 3]);
        expect(later.filter((e) => e.userId === alice.id).map((e) => e.uid)).toEqual([1, 2]);
        expect(await store.readJournal(new Map())).toEqual([]);
      });

      it('records mailbox create, rename and delete', async () => {
        const user = await newUser();
        const head = await store.journalHead(user.id);
        const box = await store.createMailbox(user.id, 'J');
        await store.renameMailbox(user.id, 'J', 'K');
        await store.deleteMailbox(user.id, 'K');
        const entries = await allJournal(store, user.id, head);
        expect(entries.map((e) => [e.kind, e.mailboxId, e.path, e.oldPath])).toEqual([
          ['mailbox-create', box.id, 'J', null],
          ['mailbox-rename', box.id, 'K', 'J'],
          ['mailbox-delete', box.id, 'K', null],
        ]);
      });

      it('records subscription changes, and not a name already on the list or off it', async () => {
        const user = await newUser();
        await store.createMailbox(user.id, 'Lists');
        const head = await store.journalHead(user.id);
        await store.setSubscribed(user.id, 'Lists', true);
        await store.setSubscribed(user.id, 'Lists', true);
        await store.setSubscribed(user.id, 'Not/Yet', true);
        await store.setSubscribed(user.id, 'Lists', false);
        await store.setSubscribed(user.id, 'Lists', false);
        const entries = await allJournal(store, user.id, head);
        expect(entries.map((e) => [e.kind, e.mailboxId, e.path])).toEqual([
          ['mailbox-subscribe', '0', 'Lists'],
          ['mailbox-subscribe', '0', 'Not/Yet'],
          ['mailbox-unsubscribe', '0', 'Lists'],
        ]);
      });

      it('records metadata changes with the entry names, for a mailbox and for the server', async () => {
        const user = await newUser();
        const box = await store.createMailbox(user.id, 'Meta');
        const head = await store.journalHead(user.id);
        const value = new Uint8Array(Buffer.from('v'));
        await store.setMetadata(
          user.id,
          'Meta',
          [
            { name: '/private/a', value },
            { name: '/shared/b', value },
          ],
          10,
        );
        await store.setMetadata(user.id, '', [{ name: '/private/c', value: null }], 10);
        await rejectsWith(store.setMetadata(user.id, 'Meta', [{ name: '/private/x', value }], 1), 'LIMIT');
        const entries = await allJournal(store, user.id, head);
        expect(entries.map((e) => [e.kind, e.mailboxId, e.path, e.flags])).toEqual([
          ['metadata-change', box.id, 'Meta', ['/private/a', '/shared/b']],
          ['metadata-change', '0', '', ['/private/c']],
        ]);
      });
    });

    describe('connection rules', () => {
      const positions = async () =>
        (await store.listRules()).map((rule) => `${rule.position}:${rule.kind}:${rule.id}`);

      it('starts with no rules at version 0', async () => {
        expect(await store.listRules()).toEqual([]);
        expect(await store.rulesVersion()).toBe(0);
      });

      it('creates each kind with its values and defaults, appended in order', async () => {
        const deny = await store.createRule({ kind: 'deny', cidrs: ['10.1.2.3/8', '2001:DB8::1'] });
        expect(deny).toMatchObject({
          position: 1,
          kind: 'deny',
          cidrs: ['10.0.0.0/8', '2001:db8::1'],
          limit: null,
          windowSeconds: null,
          protocols: [],
          enabled: true,
          note: '',
        });
        expect(typeof deny.id).toBe('string');
        expect(deny.createdAt).toBeInstanceOf(Date);
        expect(deny.updatedAt.getTime()).toBe(deny.createdAt.getTime());
        const allow = await store.createRule({ kind: 'allow', cidrs: ['192.168.0.0/16'], note: 'LAN' });
        const maxConn = await store.createRule({ kind: 'max-conn', limit: 20, protocols: ['pop3', 'imap'] });
        const rate = await store.createRule({ kind: 'rate', limit: 60, enabled: false });
        const lockout = await store.createRule({ kind: 'lockout', limit: 5, windowSeconds: 900 });
        const tls = await store.createRule({ kind: 'require-tls', protocols: ['imap'] });
        expect(maxConn).toMatchObject({ limit: 20, protocols: ['imap', 'pop3'], position: 3 });
        expect(rate.enabled).toBe(false);
        expect(lockout).toMatchObject({ limit: 5, windowSeconds: 900 });
        const listed = await store.listRules();
        expect(listed.map((rule) => rule.id)).toEqual(
          [deny, allow, maxConn, rate, lockout, tls].map((r) => r.id),
        );
        expect(listed.map((rule) => rule.position)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(listed[1]).toEqual(allow);
        expect(new Set(listed.map((rule) => rule.id)).size).toBe(6);
      });

      it('inserts at a position, shifting the rules after it; past the end appends', async () => {
        const a = await store.createRule({ kind: 'require-tls' });
        const b = await store.createRule({ kind: 'rate', limit: 5 });
        const c = await store.createRule({ kind: 'deny', cidrs: ['::/0'], position: 1 });
        const d = await store.createRule({ kind: 'max-conn', limit: 3, position: 3 });
        const e = await store.createRule({ kind: 'allow', cidrs: ['127.0.0.1'], position: 99 });
        expect(e.position).toBe(5);
        expect(await positions()).toEqual([
          `1:deny:${c.id}`,
          `2:require-tls:${a.id}`,
          `3:max-conn:${d.id}`,
          `4:rate:${b.id}`,
          `5:allow:${e.id}`,
        ]);
      });

      it('refuses rules that are not well formed, and stores nothing', async () => {
        const bad: Array<Parameters<Store['createRule']>[0]> = [
          { kind: 'deny', cidrs: ['10.0.0.0/33'] },
          { kind: 'deny', cidrs: ['not an address'] },
          { kind: 'allow', cidrs: ['2001:db8::/129'] },
          { kind: 'deny', cidrs: [] },
          { kind: 'deny' },
          { kind: 'deny', cidrs: ['10.0.0.0/8'], limit: 3 },
          { kind: 'max-conn' },
          { kind: 'max-conn', limit: 0 },
          { kind: 'rate', limit: 1.5 },
          { kind: 'rate', limit: 10, cidrs: ['10.0.0.0/8'] },
          { kind: 'lockout', limit: 5 },
          { kind: 'lockout', limit: 5, windowSeconds: -1 },
          { kind: 'require-tls', limit: 1 },
          { kind: 'max-conn', limit: 3, windowSeconds: 60 },
          { kind: 'nonsense' as 'deny', cidrs: ['10.0.0.0/8'] },
          { kind: 'require-tls', protocols: ['http' as 'imap'] },
          { kind: 'require-tls', position: 0 },
        ];
        for (const input of bad) await rejectsWith(store.createRule(input), 'INVALID');
        expect(await store.listRules()).toEqual([]);
        expect(await store.rulesVersion()).toBe(0);
      });

      it('updates a rule, validating the result as a whole', async () => {
        const rule = await store.createRule({ kind: 'max-conn', limit: 10 });
        const other = await store.createRule({ kind: 'require-tls' });
        const updated = await store.updateRule(rule.id, { limit: 12, note: 'per IP', protocols: ['smtp'] });
        expect(updated).toMatchObject({
          id: rule.id,
          position: 1,
          kind: 'max-conn',
          limit: 12,
          note: 'per IP',
        });
        expect(updated.protocols).toEqual(['smtp']);
        expect(updated.createdAt).toEqual(rule.createdAt);
        expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(rule.updatedAt.getTime());
        expect((await store.updateRule(rule.id, { enabled: false })).enabled).toBe(false);
        // A new kind keeps what it can use and drops the rest.
        expect(await store.updateRule(rule.id, { kind: 'rate' })).toMatchObject({ kind: 'rate', limit: 12 });
        const deny = await store.updateRule(rule.id, { kind: 'deny', cidrs: ['203.0.113.0/24'] });
        expect(deny).toMatchObject({ kind: 'deny', cidrs: ['203.0.113.0/24'], limit: null, enabled: false });
        await rejectsWith(store.updateRule(rule.id, { cidrs: ['203.0.113.0/99'] }), 'INVALID');
        await rejectsWith(store.updateRule(rule.id, { kind: 'lockout', limit: 3 }), 'INVALID');
        await rejectsWith(store.updateRule(other.id, { limit: 3 }), 'INVALID');
        expect((await store.listRules())[0]).toEqual(deny);
        await rejectsWith(store.updateRule('999999', { note: 'x' }), 'NONEXISTENT');
        await rejectsWith(store.updateRule('abc', { note: 'x' }), 'NONEXISTENT');
      });

      it('deletes a rule and closes the gap', async () => {
        const rules = [];
        for (let limit = 1; limit <= 4; limit++) rules.push(await store.createRule({ kind: 'rate', limit }));
        await store.deleteRule(rules[1]!.id);
        expect(await positions()).toEqual([
          `1:rate:${rules[0]!.id}`,
          `2:rate:${rules[2]!.id}`,
          `3:rate:${rules[3]!.id}`,
        ]);
        await rejectsWith(store.deleteRule(rules[1]!.id), 'NONEXISTENT');
        await rejectsWith(store.deleteRule('nope'), 'NONEXISTENT');
        // Ids are not reused.
        const next = await store.createRule({ kind: 'require-tls' });
        expect(rules.map((rule) => rule.id)).not.toContain(next.id);
      });

      it('moves a rule up and down, clamping to the list', async () => {
        const ids: string[] = [];
        for (let limit = 1; limit <= 4; limit++)
          ids.push((await store.createRule({ kind: 'rate', limit })).id);
        const order = async () => (await store.listRules()).map((rule) => ids.indexOf(rule.id));
        expect((await store.moveRule(ids[3]!, 1)).position).toBe(1);
        expect(await order()).toEqual([3, 0, 1, 2]);
        expect((await store.moveRule(ids[3]!, 3)).position).toBe(3);
        expect(await order()).toEqual([0, 1, 3, 2]);
        expect((await store.moveRule(ids[0]!, 100)).position).toBe(4);
        expect(await order()).toEqual([1, 3, 2, 0]);
        expect((await store.moveRule(ids[2]!, 3)).position).toBe(3);
        expect(await order()).toEqual([1, 3, 2, 0]);
        expect((await store.listRules()).map((rule) => rule.position)).toEqual([1, 2, 3, 4]);
        await rejectsWith(store.moveRule(ids[0]!, 0), 'INVALID');
        await rejectsWith(store.moveRule('424242', 1), 'NONEXISTENT');
      });

      it('bumps the version with every change and only then', async () => {
        const versions = [await store.rulesVersion()];
        const changed = async () => {
          const version = await store.rulesVersion();
          expect(version).toBeGreaterThan(versions[versions.length - 1]!);
          versions.push(version);
        };
        const rule = await store.createRule({ kind: 'require-tls' });
        await changed();
        const second = await store.createRule({ kind: 'rate', limit: 3 });
        await changed();
        await store.updateRule(rule.id, { note: 'edited' });
        await changed();
        await store.moveRule(second.id, 1);
        await changed();
        await store.listRules();
        await rejectsWith(store.createRule({ kind: 'rate' }), 'INVALID');
        await store.moveRule(second.id, 1);
        expect(await store.rulesVersion()).toBe(versions[versions.length - 1]);
        await store.deleteRule(rule.id);
        await changed();
      });

      it('seeds rules only into a store that never had any', async () => {
        await rejectsWith(
          store.seedRules([{ kind: 'require-tls' }, { kind: 'deny', cidrs: ['bad'] }]),
          'INVALID',
        );
        expect(await store.listRules()).toEqual([]);
        expect(await store.seedRules([])).toBe(false);
        expect(await store.rulesVersion()).toBe(0);
        const seeds = [
          { kind: 'allow' as const, cidrs: ['127.0.0.1'] },
          { kind: 'max-conn' as const, limit: 5, protocols: ['imap' as const] },
        ];
        expect(await store.seedRules(seeds)).toBe(true);
        const seeded = await store.listRules();
        expect(seeded.map((rule) => [rule.position, rule.kind])).toEqual([
          [1, 'allow'],
          [2, 'max-conn'],
        ]);
        expect(await store.seedRules(seeds)).toBe(false);
        for (const rule of seeded) await store.deleteRule(rule.id);
        // Emptied by an administrator: not seeded again.
        expect(await store.seedRules(seeds)).toBe(false);
        expect(await store.listRules()).toEqual([]);
      });
    });

    describe('imports (migration between engines)', () => {
      const imported = (path: string, extra: Partial<ImportedMailbox> = {}): ImportedMailbox => ({
        path,
        specialUse: null,
        subscribed: true,
        uidValidity: 1_600_000_000,
        uidNext: 50,
        highestModseq: 300,
        ...extra,
      });

      it('creates a mailbox with its UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and parents', async () => {
        const user = await newUser();
        const box = await store.importMailbox(
          user.id,
          imported('Old/Projects', { subscribed: false, specialUse: '\\Archive', uidValidity: 777 }),
        );
        expect(box).toMatchObject({
          userId: user.id,
          path: 'Old/Projects',
          specialUse: '\\Archive',
          subscribed: false,
          selectable: true,
          uidValidity: 777,
          uidNext: 50,
          highestModseq: 300,
        });
        expect(await store.getMailboxById(box.id)).toEqual(box);
        expect((await store.getMailbox(user.id, 'Old'))?.selectable).toBe(true);
        const next = await store.append(box.id, message('after import'));
        expect(next.uid).toBe(50);
        expect(next.uidValidity).toBe(777);
        expect(next.modseq).toBeGreaterThan(300);
        const fresh = await store.createMailbox(user.id, 'Later');
        expect(fresh.uidValidity).not.toBe(777);
      });

      it('knows no expunge of the source: QRESYNC from before the import gets null', async () => {
        const user = await newUser();
        const box = await store.importMailbox(user.id, imported('Old'));
        expect(await store.expungedSince(box.id, 299)).toBeNull();
        expect(await store.expungedSince(box.id, 300)).toEqual([]);
        await store.importMessage(
          box.id,
          { uid: 10, modseq: 20, flags: [], internalDate: new Date() },
          message('i'),
        );
        await store.deleteMessages(box.id, [10]);
        expect(await store.expungedSince(box.id, 300)).toEqual([10]);
      });

      it('adopts the empty default mailboxes of a new user', async () => {
        const user = await newUser();
        const before = await inbox(user);
        const adopted = await store.importMailbox(user.id, imported('INBOX', { uidValidity: 4242 }));
        expect(adopted.id).toBe(before.id);
        expect(adopted).toMatchObject({ path: 'INBOX', uidValidity: 4242, uidNext: 50, highestModseq: 300 });
        const sent = await store.importMailbox(
          user.id,
          imported('Sent', { specialUse: '\\Sent', uidValidity: 9 }),
        );
        expect(sent.id).toBe((await mailbox(store, user, 'Sent')).id);
        expect(sent.uidValidity).toBe(9);
        expect((await store.listMailboxes(user.id)).length).toBe(DEFAULT_MAILBOXES.length);
      });

      it('resumes on the same UIDVALIDITY; UIDNEXT and HIGHESTMODSEQ only grow', async () => {
        const user = await newUser();
        const box = await store.importMailbox(user.id, imported('Keep'));
        await store.importMessage(
          box.id,
          { uid: 3, modseq: 10, flags: [], internalDate: new Date() },
          message('k'),
        );
        const again = await store.importMailbox(user.id, imported('Keep', { uidNext: 2, highestModseq: 5 }));
        expect(again).toMatchObject({
          id: box.id,
          uidValidity: box.uidValidity,
          uidNext: 50,
          highestModseq: 300,
        });
        const grown = await store.importMailbox(
          user.id,
          imported('Keep', { uidNext: 60, highestModseq: 400 }),
        );
        expect(grown).toMatchObject({ id: box.id, uidNext: 60, highestModseq: 400 });
        expect(await uidsOf(store, box.id)).toEqual([3]);
      });

      it('refuses a non-empty mailbox under another UIDVALIDITY (ALREADYEXISTS)', async () => {
        const user = await newUser();
        const box = await inbox(user);
        await store.append(box.id, message('already here'));
        await rejectsWith(
          store.importMailbox(user.id, imported('INBOX', { uidValidity: box.uidValidity + 1 })),
          'ALREADYEXISTS',
        );
        expect((await inbox(user)).uidValidity).toBe(box.uidValidity);
        await rejectsWith(store.importMailbox('999999', imported('X')), 'NONEXISTENT');
        await rejectsWith(store.importMailbox(user.id, imported('X', { uidValidity: 0 })), 'INVALID');
        await rejectsWith(store.importMailbox(user.id, imported('bad*name')), 'INVALID');
      });

      it('imports a message with its UID, MODSEQ, flags, internal date and exact bytes', async () => {
        const user = await newUser();
        const box = await store.importMailbox(
          user.id,
          imported('INBOX', { uidValidity: 5000, uidNext: 10, highestModseq: 20 }),
        );
        const raw = Buffer.from(
          'From: a@example.com\r\nSubject: kept\r\n\r\nbare\nLF and \x00 bytes\r\n',
          'latin1',
        );
        const date = new Date('2019-05-06T07:08:09.000Z');
        const saved = new Date('2020-01-02T03:04:05.000Z');
        const head = await store.journalHead(user.id);
        expect(
          await store.importMessage(
            box.id,
            { uid: 7, modseq: 18, flags: ['\\Seen', 'Work'], internalDate: date, savedAt: saved },
            raw,
          ),
        ).toBe('imported');
        // UIDs below the last one are fine (gaps are expunged messages of the source).
        expect(
          await store.importMessage(
            box.id,
            { uid: 2, modseq: 4, flags: [], internalDate: date },
            message('two'),
          ),
        ).toBe('imported');
        const summary = await store.getMessage(box.id, 7);
        expect(summary).toEqual({
          mailboxId: box.id,
          uid: 7,
          modseq: 18,
          flags: ['\\Seen', 'Work'],
          internalDate: date,
          size: raw.length,
          blobId: sha256(raw),
          savedAt: saved,
          threadId: expect.stringMatching(/^[A-Za-z0-9_-]{1,255}$/),
        });
        // An import without a save date keeps none (not the time of the import).
        expect((await store.getMessage(box.id, 2))!.savedAt).toBeNull();
        expect((await store.readBlob(summary!.blobId)).equals(raw)).toBe(true);
        expect(await uidsOf(store, box.id)).toEqual([2, 7]);
        expect(await store.listKeywords(box.id)).toContain('Work');
        const after = await mailbox(store, user, 'INBOX');
        expect(after).toMatchObject({ uidValidity: 5000, uidNext: 10, highestModseq: 20 });
        const entries = (await allJournal(store, user.id, head)).filter((e) => e.kind === 'message-new');
        expect(entries.map((e) => [e.mailboxId, e.uid, e.modseq])).toEqual([
          [box.id, 7, 18],
          [box.id, 2, 4],
        ]);
        expect(entries[0]!.flags && sortedFlags(entries[0]!.flags)).toEqual(['Work', '\\Seen']);
      });

      it('imports a batch of messages in order, skipping those already there', async () => {
        const user = await newUser();
        const box = await store.importMailbox(
          user.id,
          imported('Batch', { uidValidity: 6000, uidNext: 3, highestModseq: 3 }),
        );
        const date = new Date('2021-03-04T05:06:07.000Z');
        const saved = new Date('2022-01-01T00:00:00.000Z');
        expect(
          await store.importMessage(
            box.id,
            { uid: 4, modseq: 5, flags: [], internalDate: date },
            message('four'),
          ),
        ).toBe('imported');
        const head = await store.journalHead(user.id);
        const items = [3, 4, 9].map((uid) => ({
          message: {
            uid,
            modseq: uid * 2,
            flags: uid === 9 ? ['\\Flagged'] : [],
            internalDate: date,
            savedAt: saved,
          },
          raw: message(`batch ${uid}`),
        }));
        expect(await store.importMessages(box.id, items)).toEqual(['imported', 'exists', 'imported']);
        expect(await uidsOf(store, box.id)).toEqual([3, 4, 9]);
        const nine = (await store.getMessage(box.id, 9))!;
        expect(nine).toMatchObject({ modseq: 18, flags: ['\\Flagged'], internalDate: date, savedAt: saved });
        expect((await store.readBlob(nine.blobId)).equals(message('batch 9'))).toBe(true);
        // The one already there kept its own bytes.
        expect(
          (await store.readBlob((await store.getMessage(box.id, 4))!.blobId)).equals(message('four')),
        ).toBe(true);
        expect(await mailbox(store, user, 'Batch')).toMatchObject({ uidNext: 10, highestModseq: 18 });
        expect((await store.mailboxCounts(box.id)).messages).toBe(3);
        const entries = (await allJournal(store, user.id, head)).filter((e) => e.kind === 'message-new');
        expect(entries.map((e) => [e.uid, e.modseq])).toEqual([
          [3, 6],
          [9, 18],
        ]);
        // Again: nothing is stored twice.
        expect(await store.importMessages(box.id, items)).toEqual(['exists', 'exists', 'exists']);
        expect(await store.importMessages(box.id, [])).toEqual([]);
        await rejectsWith(store.importMessages('999999', items), 'NONEXISTENT');
        await rejectsWith(
          store.importMessages(box.id, [{ message: { ...items[0]!.message, uid: 0 }, raw: message('x') }]),
          'INVALID',
        );
        expect(await uidsOf(store, box.id)).toEqual([3, 4, 9]);
      });

      it('imports a batch holding a large body twice and a body already stored, each kept while used', async () => {
        const user = await newUser();
        const box = await store.importMailbox(user.id, imported('Big', { uidValidity: 6100 }));
        const other = await store.createMailbox(user.id, 'Other');
        const stored = await store.append(other.id, message('already stored'));
        // Larger than any inline limit: kept in pieces by an engine that splits bodies.
        const big = Buffer.concat([message('big'), Buffer.alloc(700 * 1024, 'x'), Buffer.from('\r\n')]);
        const items = [
          { uid: 1, raw: big },
          { uid: 2, raw: message('already stored') },
          { uid: 3, raw: big },
          { uid: 3, raw: message('the same UID again') },
        ].map(({ uid, raw }) => ({
          message: { uid, modseq: uid, flags: [], internalDate: new Date() },
          raw,
        }));
        expect(await store.importMessages(box.id, items)).toEqual([
          'imported',
          'imported',
          'imported',
          'exists',
        ]);
        expect((await store.mailboxCounts(box.id)).messages).toBe(3);
        // Each message holds its own reference: removing some leaves the others' bodies readable.
        await store.deleteMessages(box.id, [1, 2]);
        const three = (await store.getMessage(box.id, 3))!;
        expect((await store.readBlob(three.blobId)).equals(big)).toBe(true);
        const kept = (await store.getMessage(other.id, stored.uid))!;
        expect((await store.readBlob(kept.blobId)).equals(message('already stored'))).toBe(true);
        expect((await store.getQuota(user.id)).usedBytes).toBe(big.length + message('already stored').length);
      });

      it('raises UIDNEXT and HIGHESTMODSEQ past an imported message', async () => {
        const user = await newUser();
        const box = await store.importMailbox(user.id, imported('Low', { uidNext: 1, highestModseq: 1 }));
        await store.importMessage(
          box.id,
          { uid: 40, modseq: 90, flags: [], internalDate: new Date() },
          message('high'),
        );
        expect(await store.getMailboxById(box.id)).toMatchObject({ uidNext: 41, highestModseq: 90 });
        const next = await store.append(box.id, message('next'));
        expect(next.uid).toBe(41);
        expect(next.modseq).toBeGreaterThan(90);
      });

      it('returns exists for a UID already there and changes nothing (resume)', async () => {
        const user = await newUser();
        const box = await store.importMailbox(user.id, imported('INBOX'));
        const raw = message('once');
        await store.importMessage(
          box.id,
          { uid: 5, modseq: 6, flags: ['\\Flagged'], internalDate: new Date(0) },
          raw,
        );
        const used = (await store.getQuota(user.id)).usedBytes;
        expect(used).toBe(raw.length);
        const head = await store.journalHead(user.id);
        const again = await store.importMessage(
          box.id,
          { uid: 5, modseq: 99, flags: ['\\Seen'], internalDate: new Date() },
          message('other bytes'),
        );
        expect(again).toBe('exists');
        expect(await store.getMessage(box.id, 5)).toMatchObject({
          modseq: 6,
          flags: ['\\Flagged'],
          blobId: sha256(raw),
        });
        expect((await store.getQuota(user.id)).usedBytes).toBe(used);
        expect(await store.journalHead(user.id)).toBe(head);
      });

      it('counts quota, stores identical bodies once and checks its input', async () => {
        const user = await newUser('alice@example.com', { quotaBytes: 1_000_000 });
        const box = await store.importMailbox(user.id, imported('INBOX'));
        const raw = message('shared body');
        await store.importMessage(box.id, { uid: 1, modseq: 2, flags: [], internalDate: new Date() }, raw);
        const other = await store.createMailbox(user.id, 'Other');
        const appended = await store.append(other.id, raw);
        expect((await store.getMessage(box.id, 1))?.blobId).toBe(
          (await store.getMessage(other.id, appended.uid))?.blobId,
        );
        expect(await store.getQuota(user.id)).toEqual({ usedBytes: 2 * raw.length, limitBytes: 1_000_000 });
        expect((await store.mailboxCounts(box.id)).messages).toBe(1);
        const meta = { uid: 9, modseq: 9, flags: [], internalDate: new Date() };
        await rejectsWith(store.importMessage('999999', meta, raw), 'NONEXISTENT');
        await rejectsWith(store.importMessage(box.id, { ...meta, uid: 0 }, raw), 'INVALID');
        await rejectsWith(store.importMessage(box.id, { ...meta, modseq: -1 }, raw), 'INVALID');
        await rejectsWith(store.importMessage(box.id, { ...meta, flags: ['two words'] }, raw), 'INVALID');
        await rejectsWith(
          store.importMessage(box.id, { ...meta, internalDate: new Date(NaN) }, raw),
          'INVALID',
        );
        expect(await uidsOf(store, box.id)).toEqual([1]);
      });
    });

    describe('progress marks', () => {
      it('keeps a count under a name until it is removed', async () => {
        expect(await store.getProgressMark('restore:a')).toBeNull();
        await store.setProgressMark('restore:a', 0);
        await store.setProgressMark('restore:b', 7);
        expect(await store.getProgressMark('restore:a')).toBe(0);
        await store.setProgressMark('restore:a', 12_345_678_901);
        expect(await store.getProgressMark('restore:a')).toBe(12_345_678_901);
        await store.setProgressMark('restore:a', null);
        expect(await store.getProgressMark('restore:a')).toBeNull();
        expect(await store.getProgressMark('restore:b')).toBe(7);
        // Not the rules' counter, which lives beside the marks in the sqlite engine.
        expect(await store.getProgressMark('rules')).toBeNull();
        await rejectsWith(store.setProgressMark('', 1), 'INVALID');
        await rejectsWith(store.setProgressMark('x', -1), 'INVALID');
      });
    });

    describe('leases', () => {
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

      it('gives a free lease, and refuses it to another holder while it lasts', async () => {
        expect(await store.acquireLease('pop3:1', 'a', 60_000)).toBe(true);
        expect(await store.acquireLease('pop3:1', 'b', 60_000)).toBe(false);
        expect(await store.acquireLease('pop3:2', 'b', 60_000)).toBe(true);
      });

      it('lets another holder take over an expired lease', async () => {
        expect(await store.acquireLease('k', 'a', 30)).toBe(true);
        await sleep(60);
        expect(await store.acquireLease('k', 'b', 60_000)).toBe(true);
        expect(await store.acquireLease('k', 'a', 60_000)).toBe(false);
      });

      it('renews for its holder, pushing the expiry out', async () => {
        // The claim by b must land past the first expiry and within the renewed one. A loaded
        // machine may oversleep that window: such a try proves nothing and is made again.
        const ttl = 1000;
        for (let attempt = 0; attempt < 5; attempt++) {
          const key = `renew-${attempt}`;
          expect(await store.acquireLease(key, 'a', ttl)).toBe(true);
          const taken = Date.now(); // the first expiry is at the latest ttl after this
          await sleep(ttl / 2);
          const renewing = Date.now();
          expect(await store.acquireLease(key, 'a', ttl)).toBe(true);
          await sleep(Math.max(0, taken + ttl + 100 - Date.now()));
          const claimed = await store.acquireLease(key, 'b', 60_000);
          if (Date.now() < renewing + ttl) {
            expect(claimed).toBe(false);
            return;
          }
        }
        throw new Error('the machine never let a claim land within the renewed lease');
      }, 30_000);

      it('is released only by its holder, and is free again after', async () => {
        expect(await store.acquireLease('k', 'a', 60_000)).toBe(true);
        await store.releaseLease('k', 'b');
        expect(await store.acquireLease('k', 'b', 60_000)).toBe(false);
        await store.releaseLease('k', 'a');
        expect(await store.acquireLease('k', 'b', 60_000)).toBe(true);
        await store.releaseLease('k', 'a'); // a late release by the old holder changes nothing
        expect(await store.acquireLease('k', 'a', 60_000)).toBe(false);
        await store.releaseLease('never-taken', 'a');
      });

      it('gives exactly one of many concurrent claimants the lease', async () => {
        const holders = Array.from({ length: 8 }, (_, i) => `h${i}`);
        const results = await Promise.all(holders.map((h) => store.acquireLease('k', h, 60_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('rejects an empty key or holder and a bad TTL', async () => {
        await rejectsWith(store.acquireLease('', 'a', 1000), 'INVALID');
        await rejectsWith(store.acquireLease('k', '', 1000), 'INVALID');
        await rejectsWith(store.acquireLease('k', 'a', 0), 'INVALID');
        await rejectsWith(store.acquireLease('k', 'a', 1.5), 'INVALID');
        await rejectsWith(store.releaseLease('k', ''), 'INVALID');
      });
    });

    outboundQueueContract(() => store);
    spamContract(() => store);
    sieveContract(() => store);
    historyContract(() => store);
    mtaStsContract(() => store);
    importProgressContract(() => store);
    domainsContract(() => store);
    threadsContract(() => store);

    describe('health', () => {
      it('reports a healthy engine', async () => {
        const health = await store.health();
        expect(health.ok).toBe(true);
        expect(health.engine).toBe(store.engine);
      });
    });

    describe('invariants', () => {
      it('1. never reuses a UID, and a re-created mailbox gets a new UIDVALIDITY', async () => {
        const user = await newUser();
        const box = await store.createMailbox(user.id, 'Reuse');
        const first = await store.append(box.id, message('1'));
        const second = await store.append(box.id, message('2'));
        await store.deleteMessages(box.id, [second.uid]);
        const third = await store.append(box.id, message('3'));
        expect(third.uid).toBeGreaterThan(second.uid);
        await store.deleteMessages(box.id, [first.uid, third.uid]);
        const fourth = await store.append(box.id, message('4'));
        expect(fourth.uid).toBeGreaterThan(third.uid);
        expect((await store.getMailboxById(box.id))!.uidNext).toBe(fourth.uid + 1);

        const validities = new Set<number>([box.uidValidity]);
        for (let round = 0; round < 3; round++) {
          await store.deleteMailbox(user.id, 'Reuse');
          const recreated = await store.createMailbox(user.id, 'Reuse');
          expect(validities.has(recreated.uidValidity)).toBe(false);
          validities.add(recreated.uidValidity);
        }
      });

      it('2. MODSEQ strictly increases across appends, flag changes and expunges', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const seen: number[] = [(await inbox(user)).highestModseq];
        const record = async (modseqs: number[]) => {
          const highest = (await inbox(user)).highestModseq;
          for (const modseq of modseqs) {
            expect(modseq).toBeGreaterThan(seen[seen.length - 1]!);
            seen.push(modseq);
          }
          expect(highest).toBe(seen[seen.length - 1]);
        };
        for (let i = 0; i < 3; i++) await record([(await store.append(box.id, message(`${i}`))).modseq]);
        await record(
          (await store.storeFlags(box.id, [1, 2, 3], 'add', ['\\Deleted'])).updated.map((u) => u.modseq),
        );
        const before = (await inbox(user)).highestModseq;
        await store.expunge(box.id, [2]);
        const afterExpunge = (await inbox(user)).highestModseq;
        expect(afterExpunge).toBeGreaterThan(before);
        seen.push(afterExpunge);
        await record([(await store.append(box.id, message('late'))).modseq]);
        await record((await store.storeFlags(box.id, [1], 'set', ['\\Seen'])).updated.map((u) => u.modseq));
        const expungeEntries = (await allJournal(store, user.id, 0)).filter(
          (e) => e.kind === 'message-expunge',
        );
        expect(expungeEntries.map((e) => e.modseq)).toEqual([afterExpunge]);
      });

      it('5. returns raw bytes exactly (bare LF line ends stored as CRLF)', async () => {
        const user = await newUser();
        const box = await inbox(user);
        const samples = [
          Buffer.from('Subject: bare LF\n\nline one\nline two\n'),
          Buffer.from('Subject: lone CR\r\rbody\rwith CRs'),
          Buffer.from('Subject: 8bit\r\n\r\nGrüße, 日本語, \xff\xfe', 'latin1'),
          Buffer.from([0x53, 0x3a, 0x20, 0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x01, 0x02, 0xff, 0x00]),
          Buffer.from('Subject: no trailing newline\r\n\r\nend'),
          Buffer.from('   leading spaces and trailing spaces   \r\n\r\n  \t '),
          Buffer.from(Array.from({ length: 256 * 40 }, (_, i) => (i * 7919) & 0xff)),
        ];
        for (const appended of samples) {
          const raw = withCrlfLineEnds(appended);
          const { uid } = await store.append(box.id, appended);
          const summary = await store.getMessage(box.id, uid);
          expect(summary?.size).toBe(raw.length);
          const back = await store.readBlob(summary!.blobId);
          expect(Buffer.isBuffer(back)).toBe(true);
          expect(back.equals(raw)).toBe(true);
        }
        expect(withCrlfLineEnds(samples[0]!).toString()).toBe(
          'Subject: bare LF\r\n\r\nline one\r\nline two\r\n',
        );
      });

      it('6. stores identical bodies once and frees them with the last reference', async () => {
        const alice = await newUser();
        const bob = await newUser('bob@example.com');
        const raw = message('the same bytes');
        const a = await store.append((await inbox(alice)).id, raw);
        const b = await store.append((await inbox(bob)).id, raw);
        const c = await store.append((await mailbox(store, alice, 'Archive')).id, raw);
        const blobIds = await Promise.all([
          store.getMessage(a.mailboxId, a.uid),
          store.getMessage(b.mailboxId, b.uid),
          store.getMessage(c.mailboxId, c.uid),
        ]).then((summaries) => summaries.map((s) => s!.blobId));
        expect(new Set(blobIds)).toEqual(new Set([sha256(raw)]));
        const copy = await store.copyMessages(
          a.mailboxId,
          [a.uid],
          (await mailbox(store, alice, 'Trash')).id,
        );
        // Each copy counts against the owner's quota, although the body is stored once.
        expect((await store.getUser(alice.id))!.usedBytes).toBe(3 * raw.length);

        await store.deleteMessages(a.mailboxId, [a.uid]);
        await store.deleteMessages(b.mailboxId, [b.uid]);
        await store.deleteMailbox(alice.id, 'Archive');
        expect(await store.readBlob(sha256(raw))).toEqual(raw);
        await store.deleteMessages((await mailbox(store, alice, 'Trash')).id, [copy.uidMap[0]![1]]);
        await rejectsWith(store.readBlob(sha256(raw)), 'NONEXISTENT');
        // Appending the same body again stores it anew.
        const again = await store.append(a.mailboxId, raw);
        expect(await store.readBlob((await store.getMessage(a.mailboxId, again.uid))!.blobId)).toEqual(raw);
      });
    });
  });
}

// --- invariants that need other OS processes ---

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url));
/** Workers still running; killed after each test whatever its outcome. */
const runningWorkers = new Set<ChildProcess>();

interface RunningWorker {
  child: ChildProcess;
  output(): string;
  /** Resolves once the worker has opened its store and waits for `go()`. */
  ready: Promise<void>;
  go(): void;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Resolves once at least `count` appends were acknowledged. */
  acked(count: number): Promise<void>;
}

function startWorker(
  workerArgs: readonly string[],
  mailboxId: string,
  count: number,
  tag: string,
): RunningWorker {
  const child = spawn(process.execPath, [RUN_TS, ...workerArgs, mailboxId, String(count), tag], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  runningWorkers.add(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    stdout += chunk;
    const acks = /^ready$/m.test(stdout) ? parseAcks(stdout).size : -1;
    for (const waiter of waiters.filter((w) => acks >= w.count)) waiter.resolve();
  });
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.on('error', () => undefined); // the worker may be gone already
  const exited = new Promise<number | string>((resolve) =>
    // 'close', not 'exit': by then all of the worker's output has been read.
    child.on('close', (code, signal) => {
      runningWorkers.delete(child);
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  const acked = (wanted: number) =>
    new Promise<void>((resolve, reject) => {
      waiters.push({ count: wanted, resolve });
      void exited.then((code) => reject(new Error(`worker ended (${code}) early:\n${stdout}${stderr}`)));
    });
  return {
    child,
    output: () => stdout + stderr,
    ready: acked(0),
    go: () => child.stdin!.write('go\n'),
    exited,
    acked,
  };
}

/**
 * Checks that every message of a mailbox is whole: its body reads back, its hash is its id and its
 * size matches. Returns uid → body.
 */
async function checkWhole(store: Store, mailboxId: string): Promise<Map<number, Buffer>> {
  const bodies = new Map<number, Buffer>();
  for (const summary of await store.listMessages(mailboxId)) {
    const raw = await store.readBlob(summary.blobId);
    expect(raw.length).toBe(summary.size);
    expect(sha256(raw)).toBe(summary.blobId);
    bodies.set(summary.uid, raw);
  }
  return bodies;
}

export function storeProcessSuite(name: string, openShared: () => Promise<SharedStoreFixture>): void {
  describe(`store contract (processes): ${name}`, () => {
    let fixture: SharedStoreFixture;

    beforeEach(async () => {
      fixture = await openShared();
    });
    afterEach(async () => {
      for (const child of runningWorkers) child.kill('SIGKILL');
      await fixture.cleanup();
    });

    it('3. two processes appending to one mailbox get distinct increasing UIDs, none lost', async () => {
      const store = fixture.store;
      const user = await store.createUser({ username: 'race@example.com', passwordHash: 'x' });
      const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
      const head = await store.journalHead(user.id);
      const perWorker = 200;
      const racers = ['left', 'right'].map((tag) => ({
        tag,
        worker: startWorker(fixture.workerArgs, inbox.id, perWorker, tag),
      }));
      // Both open their store first, then start together.
      await Promise.all(racers.map(({ worker }) => worker.ready));
      for (const { worker } of racers) worker.go();
      const codes = await Promise.all(racers.map(({ worker }) => worker.exited));
      for (const [i, code] of codes.entries()) expect(code, racers[i]!.worker.output()).toBe(0);

      const owner = new Map<number, string>();
      for (const { tag, worker } of racers) {
        const acks = parseAcks(worker.output());
        expect(acks.size).toBe(perWorker);
        const uids = [...acks.entries()].sort((a, b) => a[0] - b[0]).map(([, uid]) => uid);
        expect(uids).toEqual([...uids].sort((a, b) => a - b));
        for (const [index, uid] of acks) {
          expect(owner.has(uid), `uid ${uid} handed out twice`).toBe(false);
          owner.set(uid, tag);
          const summary = await store.getMessage(inbox.id, uid);
          expect(
            (await store.readBlob(summary!.blobId)).equals(withCrlfLineEnds(workerMessage(tag, index))),
          ).toBe(true);
        }
      }
      const listed = (await store.listMessages(inbox.id)).map((m) => m.uid);
      expect(listed).toEqual([...owner.keys()].sort((a, b) => a - b));
      expect((await store.getMailboxById(inbox.id))!.uidNext).toBe(Math.max(...listed) + 1);
      // Whether the two runs interleave is up to the scheduler: on a loaded machine one process may
      // hold the write lock for all of its appends while the other waits. Distinct UIDs, none lost
      // and the journal's order below hold either way, which is what this test is about.
      // The visibility rule (types.ts): the journal, read without skipping, gives every new message
      // once, in UID and MODSEQ order, whichever process wrote it...
      // (A writer overtaken by a reader moves its message to a new UID and expunges the old one.)
      const changes = (await allJournal(store, user.id, head)).filter((e) => e.mailboxId === inbox.id);
      const news = changes.filter((e) => e.kind === 'message-new').map((e) => e.uid!);
      const expunged = new Set(changes.filter((e) => e.kind === 'message-expunge').map((e) => e.uid!));
      expect(news).toEqual([...new Set(news)].sort((a, b) => a - b));
      expect(news.filter((uid) => !expunged.has(uid))).toEqual(listed);
      const modseqs = changes.map((e) => e.modseq!);
      expect(modseqs).toEqual([...modseqs].sort((a, b) => a - b));
      // ...and once it has been read up to the mailbox's journal mark, HIGHESTMODSEQ is covered.
      const settled = (await store.getMailboxById(inbox.id))!;
      expect(settled.highestModseq).toBe(Math.max(...modseqs));
      if (settled.journalMark !== undefined) {
        expect(Math.max(...changes.map((e) => e.id))).toBeLessThanOrEqual(settled.journalMark);
      }
    });

    it('4. an acknowledged append survives kill -9, and nothing is half there', async () => {
      const user = await fixture.store.createUser({ username: 'crash@example.com', passwordHash: 'x' });
      const inbox = (await fixture.store.getMailbox(user.id, 'INBOX'))!;
      const worker = startWorker(fixture.workerArgs, inbox.id, 0, 'crash');
      await worker.ready;
      worker.go();
      await worker.acked(40);
      // Let it run a moment more so the kill lands at an arbitrary point of the loop.
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 30)));
      worker.child.kill('SIGKILL');
      expect(await worker.exited).toBe('SIGKILL');
      const acks = parseAcks(worker.output());
      expect(acks.size).toBeGreaterThanOrEqual(40);

      const store = await fixture.reopen();
      // Every message present is whole, including one committed but not yet acknowledged...
      const bodies = await checkWhole(store, inbox.id);
      // ...and every acknowledged one is there, byte for byte.
      for (const [index, uid] of acks) {
        expect(
          bodies.get(uid)?.equals(withCrlfLineEnds(workerMessage('crash', index))),
          `acknowledged uid ${uid}`,
        ).toBe(true);
      }
      expect(bodies.size - acks.size).toBeLessThanOrEqual(1);
      const next = await store.append(inbox.id, Buffer.from('Subject: after\r\n\r\nafter crash\r\n'));
      expect(next.uid).toBeGreaterThan(Math.max(...bodies.keys()));
      // STATUS agrees with the messages again within seconds, while sessions follow the journal
      // (a reader is what gives a dead writer's positions up): polled, exactly, never approximately.
      const truth = async () => {
        const listed = await store.listMessages(inbox.id);
        return {
          messages: listed.length,
          unseen: listed.filter((m) => !m.flags.includes('\\Seen')).length,
          bytes: listed.reduce((total, m) => total + m.size, 0),
        };
      };
      let cursor = 0;
      const deadline = Date.now() + 15_000;
      for (;;) {
        for (const entry of await allJournal(store, user.id, cursor)) cursor = entry.id;
        const { messages, unseen, bytes } = await store.mailboxCounts(inbox.id);
        const expected = await truth();
        if (JSON.stringify({ messages, unseen, bytes }) === JSON.stringify(expected)) break;
        if (Date.now() > deadline) expect({ messages, unseen, bytes }).toEqual(expected);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await store.mailboxCounts(inbox.id)).toMatchObject(await truth());
    });
  });
}
