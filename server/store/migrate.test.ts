/**
 * Migration between two real stores (sqlite to sqlite here; test/mongodb/ runs sqlite to MongoDB):
 * everything copied, numbers kept, resumable after an interruption, and verification that notices
 * a difference.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateStore, MigrationAborted, verifyMigration, type MigrationProgress } from './migrate.ts';
import { SqliteStore } from './sqlite/store.ts';
import type { Mailbox, Store } from './types.ts';

let dirs: string[] = [];
let source: SqliteStore;
let target: SqliteStore;

async function openStore(): Promise<SqliteStore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-migrate-'));
  dirs.push(dir);
  return SqliteStore.open(dir);
}

function message(index: number, size = 300): Buffer {
  const body = `line ${index} `.repeat(Math.ceil(size / 10)).slice(0, size);
  return Buffer.from(
    `From: a@example.com\r\nSubject: message ${index}\r\nX-Odd: \x01\xff\r\n\r\n${body}\r\n`,
    'latin1',
  );
}

/** An account with aliases, app passwords, nested and special mailboxes, gaps and flags. */
async function fillSource(store: Store): Promise<void> {
  const alice = await store.createUser({
    username: 'alice@example.com',
    passwordHash: '$argon2id$alice',
    name: 'Alice',
    quotaBytes: 10_000_000,
  });
  await store.addAddress(alice.id, 'al@example.com');
  await store.addAddress(alice.id, '*@alice.example');
  await store.createAppPassword(alice.id, 'phone', '$argon2id$phone');
  await store.createAppPassword(alice.id, 'laptop', '$argon2id$laptop');
  await store.setSpamEntry(alice.id, 'allow', 'friend@pals.example');
  await store.setSpamEntry(alice.id, 'block', 'bulk.example');
  await store.putSieveScript(alice.id, 'main', 'keep;');
  await store.putSieveScript(alice.id, 'spare', 'discard;');
  await store.activateSieveScript(alice.id, 'main');
  const inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
  for (let i = 1; i <= 60; i++) {
    await store.append(inbox.id, message(i), {
      flags: i % 3 === 0 ? ['\\Seen', `$tag${i % 5}`] : [],
      internalDate: new Date(Date.UTC(2020, 0, 1, 0, 0, i)),
    });
  }
  await store.storeFlags(inbox.id, [5, 6, 7], 'add', ['\\Flagged']);
  await store.deleteMessages(inbox.id, [10, 11, 12]);
  await store.append(inbox.id, message(1)); // an identical body, stored once
  const work = await store.createMailbox(alice.id, 'Projects/Work');
  await store.append(work.id, message(100, 5000), { flags: ['\\Answered'] });
  await store.createMailbox(alice.id, 'Old/Sub');
  await store.deleteMailbox(alice.id, 'Old'); // leaves a \Noselect placeholder
  await store.setSubscribed(alice.id, 'Junk', false);
  await store.setMetadata(
    alice.id,
    '',
    [{ name: '/private/vendor/x/settings', value: Buffer.from([0, 1, 2]) }],
    10,
  );
  await store.setMetadata(
    alice.id,
    'Projects/Work',
    [{ name: '/shared/comment', value: Buffer.from('work') }],
    10,
  );
  const bob = await store.createUser({ username: 'bob@example.com', passwordHash: '$argon2id$bob' });
  await store.deliver('bob@example.com', message(200));
  await store.updateUser(bob.id, { disabled: true });
  await store.createRule({ kind: 'deny', cidrs: ['10.0.0.0/8'], note: 'no tens' });
  await store.createRule({ kind: 'max-conn', limit: 7, protocols: ['imap'] });
}

beforeEach(async () => {
  source = await openStore();
  target = await openStore();
  await fillSource(source);
});

afterEach(async () => {
  await source.close();
  await target.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

describe('migrateStore', () => {
  it('copies domains, the delivery history, subscriptions and the save-sent switch, once', async () => {
    await source.createDomain({ name: 'quiet.example' });
    await source.updateDomain('quiet.example', { dkim: false });
    await source.countDelivery('2026-03-04', 'local', 3);
    await source.countDelivery('2026-03-04', 'bounced', 1);
    const alice = (await source.getUserByUsername('alice@example.com'))!;
    await source.setSubscribed(alice.id, 'Gone/Elsewhere', true);
    await source.updateUser(alice.id, { saveSentCopy: true, uidOnly: false });
    await migrateStore(source, target, { verify: false });
    const again = await migrateStore(source, target, { verify: false });
    expect(again.notes).toContain(
      'delivery history: the target already had a history of its own, it was kept',
    );
    expect((await target.listDomains()).map((d) => [d.name, d.dkim])).toEqual(
      (await source.listDomains()).map((d) => [d.name, d.dkim]),
    );
    expect((await target.getDomain('quiet.example'))?.dkim).toBe(false);
    expect(await target.deliveryHistory('2026-03-01', '2026-03-31')).toEqual([
      { day: '2026-03-04', local: 3, sent: 0, deferred: 0, bounced: 1 },
    ]);
    const copy = (await target.getUserByUsername('alice@example.com'))!;
    expect(copy.saveSentCopy).toBe(true);
    expect(copy.uidOnly).toBe(false);
    expect(await target.listSubscriptions(copy.id)).toEqual(await source.listSubscriptions(alice.id));
  });

  it('copies users, addresses, app passwords, rules, mailboxes and messages with their numbers', async () => {
    const events: MigrationProgress[] = [];
    const report = await migrateStore(source, target, { onProgress: (p) => events.push(p) });
    expect(report.mismatches).toEqual([]);
    expect(report).toMatchObject({
      users: 2,
      messagesTotal: 60 - 3 + 1 + 1 + 1,
      messagesSkipped: 0,
      rules: 'copied',
    });
    expect(report.messagesCopied).toBe(report.messagesTotal);
    expect(report.verification!.every((m) => m.ok)).toBe(true);
    expect(events.at(-1)?.phase).toBe('verify');
    expect(events.some((e) => e.phase === 'messages' && e.messagesDone > 0)).toBe(true);

    const alice = (await target.getCredentials('alice@example.com'))!;
    expect(alice.passwordHash).toBe('$argon2id$alice');
    expect(alice.user).toMatchObject({ name: 'Alice', quotaBytes: 10_000_000 });
    expect(alice.appPasswords.map((p) => p.hash).sort()).toEqual(['$argon2id$laptop', '$argon2id$phone']);
    expect((await target.listSpamEntries(alice.user.id)).map((e) => [e.pattern, e.list])).toEqual([
      ['bulk.example', 'block'],
      ['friend@pals.example', 'allow'],
    ]);
    expect((await target.listSieveScripts(alice.user.id)).map((s) => [s.name, s.content, s.active])).toEqual([
      ['main', 'keep;', true],
      ['spare', 'discard;', false],
    ]);
    expect((await target.listAppPasswords(alice.user.id)).map((p) => p.label).sort()).toEqual([
      'laptop',
      'phone',
    ]);
    expect((await target.resolveRecipient('x@alice.example'))?.username).toBe('alice@example.com');
    expect((await target.resolveRecipient('al@example.com'))?.username).toBe('alice@example.com');
    expect((await target.getUserByUsername('bob@example.com'))?.disabled).toBe(true);
    expect(
      (await target.listRules()).map((r) => [r.position, r.kind, r.cidrs, r.limit, r.protocols, r.note]),
    ).toEqual([
      [1, 'deny', ['10.0.0.0/8'], null, [], 'no tens'],
      [2, 'max-conn', [], 7, ['imap'], ''],
    ]);

    const sourceAlice = (await source.getUserByUsername('alice@example.com'))!;
    const strip = ({ id: _id, userId: _userId, ...rest }: Mailbox) => rest;
    // A \Noselect placeholder has no UIDVALIDITY a client could have cached.
    const boxes = async (store: Store, userId: string) =>
      (await store.listMailboxes(userId))
        .map(strip)
        .map((m) => (m.selectable ? m : { ...m, uidValidity: 0 }));
    expect(await boxes(target, alice.user.id)).toEqual(await boxes(source, sourceAlice.id));
    expect((await target.getMailbox(alice.user.id, 'Old'))?.selectable).toBe(false);
    expect((await target.getMailbox(alice.user.id, 'Junk'))?.subscribed).toBe(false);

    for (const box of await source.listMailboxes(sourceAlice.id)) {
      const copy = (await target.getMailbox(alice.user.id, box.path))!;
      const summaries = async (store: Store, id: string) =>
        (await store.listMessages(id)).map(({ mailboxId: _m, ...rest }) => rest);
      expect(await summaries(target, copy.id)).toEqual(await summaries(source, box.id));
    }
    const copiedInbox = (await target.getMailbox(alice.user.id, 'INBOX'))!;
    const first = (await target.getMessage(copiedInbox.id, 1))!;
    expect((await target.readBlob(first.blobId)).equals(message(1))).toBe(true);
    expect((await target.getQuota(alice.user.id)).usedBytes).toBe(
      (await source.getQuota(sourceAlice.id)).usedBytes,
    );
    expect(await target.checkIntegrity()).toEqual([]);
    const metadata = async (store: Store, userId: string, path: string) =>
      (await store.getMetadata(userId, path)).map((e) => [e.name, Buffer.from(e.value).toString('hex')]);
    expect(await metadata(target, alice.user.id, '')).toEqual([['/private/vendor/x/settings', '000102']]);
    expect(await metadata(target, alice.user.id, 'Projects/Work')).toEqual([
      ['/shared/comment', Buffer.from('work').toString('hex')],
    ]);

    // New mail on the target continues above the copied UIDs and MODSEQs.
    const next = await target.append(copiedInbox.id, message(999));
    expect(next.uid).toBe(copiedInbox.uidNext);
    expect(next.modseq).toBeGreaterThan(copiedInbox.highestModseq);
  });

  it('resumes an interrupted migration and finishes it', async () => {
    const controller = new AbortController();
    const first = migrateStore(source, target, {
      signal: controller.signal,
      batchBytes: 2000,
      onProgress: (p) => {
        if (p.messagesCopied >= 20) controller.abort();
      },
    });
    await expect(first).rejects.toBeInstanceOf(MigrationAborted);
    const copiedBefore = (await verifyMigration(source, target)).mismatches;
    expect(copiedBefore.length).toBeGreaterThan(0);

    const report = await migrateStore(source, target);
    expect(report.mismatches).toEqual([]);
    expect(report.messagesSkipped).toBeGreaterThanOrEqual(20);
    expect(report.messagesCopied + report.messagesSkipped).toBe(report.messagesTotal);
    expect(report.rules).toBe('copied');
    // A third run finds everything there.
    const again = await migrateStore(source, target);
    expect(again).toMatchObject({
      messagesCopied: 0,
      messagesSkipped: report.messagesTotal,
      rules: 'copied',
    });
    expect(again.mismatches).toEqual([]);
    const alice = (await target.getCredentials('alice@example.com'))!;
    expect(alice.appPasswords).toHaveLength(2);
    expect(await target.checkIntegrity()).toEqual([]);
  });

  it('verification reports flags, missing messages, a changed body and a missing user', async () => {
    await migrateStore(source, target, { verify: false });
    const alice = (await target.getUserByUsername('alice@example.com'))!;
    const inbox = (await target.getMailbox(alice.id, 'INBOX'))!;
    await target.storeFlags(inbox.id, [1], 'add', ['\\Deleted']);
    await target.deleteMessages(inbox.id, [2]);
    const work = (await target.getMailbox(alice.id, 'Projects/Work'))!;
    await target.deleteMessages(work.id, [1]);
    await target.importMessage(
      work.id,
      { uid: 1, modseq: 2, flags: ['\\Answered'], internalDate: new Date() },
      message(0),
    );
    await target.deleteUser((await target.getUserByUsername('bob@example.com'))!.id);

    const { mismatches } = await verifyMigration(source, target);
    const text = mismatches.join('\n');
    expect(text).toMatch(/alice@example.com INBOX: UID 1: flags .*\\Deleted/);
    expect(text).toMatch(/alice@example.com INBOX: UIDs missing: 2/);
    expect(text).toMatch(/alice@example.com Projects\/Work: UID 1: body differs \(SHA-256\)/);
    expect(text).toMatch(/bob@example.com: missing in the target/);
  });

  it('refuses to merge into a mailbox that holds other mail', async () => {
    const alice = await target.createUser({ username: 'alice@example.com', passwordHash: 'x' });
    // Another UIDVALIDITY than the source's (both could be this very second's).
    const inbox = await target.importMailbox(alice.id, {
      path: 'INBOX',
      specialUse: null,
      subscribed: true,
      uidValidity: 12345,
      uidNext: 1,
      highestModseq: 1,
    });
    await target.append(inbox.id, message(1));
    await expect(migrateStore(source, target)).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
  });
});
