/**
 * Backups of a real sqlite store: written, verified, restored into a new store with every number
 * kept; damage (a cut-short file, a flipped byte, a wrong passphrase) is found; restore of one user
 * into a mailbox that holds other mail gives new UIDs and says so. test/backup/ runs both engines
 * with a live server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { SqliteStore } from '../store/sqlite/store.ts';
import type { Store } from '../store/types.ts';
import { listBackups, openPayload, readHeader, writeBackupFile } from './files.ts';
import { encodeRecord, readRecords, type BackupRecord } from './format.ts';
import { backupsToKeep } from './retention.ts';
import { restoreBackup, RestoreError } from './restore.ts';
import { runBackup } from './run.ts';
import { verifyBackup } from './verify.ts';

let dirs: string[] = [];
let source: SqliteStore;
let destination: string;

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-backup-'));
  dirs.push(dir);
  return dir;
}

function message(index: number, size = 400): Buffer {
  const body = `line ${index} `.repeat(Math.ceil(size / 8)).slice(0, size);
  return Buffer.from(
    `From: a@example.com\r\nSubject: message ${index}\r\nX-Odd: \x01\xff\r\n\r\n${body}\r\n`,
    'latin1',
  );
}

async function fill(store: Store): Promise<void> {
  await store.createDomain({ name: 'example.com' });
  await store.createDomain({ name: 'quiet.example' });
  await store.updateDomain('quiet.example', { dkim: false });
  const alice = await store.createUser({
    username: 'alice@example.com',
    passwordHash: '$argon2id$alice',
    name: 'Alice',
  });
  await store.addAddress(alice.id, 'al@example.com');
  await store.createAppPassword(alice.id, 'phone', '$argon2id$phone');
  await store.setSpamEntry(alice.id, 'block', 'bulk.example');
  await store.updateUser(alice.id, { quotaBytes: 50_000_000, saveSentCopy: true, uidOnly: false });
  const inbox = (await store.getMailbox(alice.id, 'INBOX'))!;
  for (let i = 1; i <= 40; i++) {
    await store.append(inbox.id, message(i, 200 + i * 50), {
      flags: i % 3 === 0 ? ['\\Seen', '$Work'] : [],
      internalDate: new Date(Date.UTC(2021, 5, 1, 0, i)),
    });
  }
  await store.storeFlags(inbox.id, [4, 5], 'add', ['\\Flagged']);
  await store.deleteMessages(inbox.id, [7, 8]);
  const deep = await store.createMailbox(alice.id, 'Läden/Ünter "odd"');
  await store.append(deep.id, message(99, 3000), { flags: ['\\Answered'] });
  await store.createMailbox(alice.id, 'Old/Sub');
  await store.deleteMailbox(alice.id, 'Old');
  await store.setSubscribed(alice.id, 'Junk', false);
  await store.setSubscribed(alice.id, 'Gone/Elsewhere', true);
  const bob = await store.createUser({ username: 'bob@example.com', passwordHash: '$argon2id$bob' });
  await store.deliver('bob@example.com', message(200));
  await store.updateUser(bob.id, { disabled: true });
  await store.createRule({ kind: 'deny', cidrs: ['10.0.0.0/8'], note: 'tens' });
  await store.countDelivery('2026-01-02', 'local', 5);
  await store.enqueueOutbound({
    userId: alice.id,
    sender: 'alice@example.com',
    recipients: ['far@remote.example', 'done@remote.example'],
    raw: message(300),
    dsn: { ret: 'HDRS', envid: 'env-1', recipients: { 'far@remote.example': { notify: ['FAILURE'] } } },
  });
  const [queued] = await store.claimOutbound('test', 60_000, 1);
  await store.recordOutbound(queued!.id, 'test', 'done@remote.example', { state: 'delivered' });
  await store.releaseOutbound(queued!.id, 'test');
}

/**
 * Everything a client can see of a user's mailboxes, bodies included; thread ids unless
 * `withThreads` is false (a backup of format 1 or 2 has none: restore gives new ones).
 */
async function picture(store: Store, username: string, withThreads = true) {
  const user = (await store.getUserByUsername(username))!;
  const mailboxes = [];
  for (const m of await store.listMailboxes(user.id)) {
    const messages = await store.listMessages(m.id);
    const bodies = await store.readBlobs(messages.map((x) => x.blobId));
    mailboxes.push({
      path: m.path,
      specialUse: m.specialUse,
      selectable: m.selectable,
      subscribed: m.subscribed,
      // A \Noselect placeholder has no UIDVALIDITY a client could have kept.
      uidValidity: m.selectable ? m.uidValidity : 0,
      uidNext: m.uidNext,
      highestModseq: m.highestModseq,
      messages: messages.map((x) => ({
        uid: x.uid,
        modseq: x.modseq,
        flags: [...x.flags].sort(),
        date: x.internalDate.toISOString(),
        body: bodies.get(x.blobId)!.toString('latin1'),
        ...(withThreads && { threadId: x.threadId }),
      })),
    });
  }
  return {
    user: { ...user, id: '', createdAt: null, usedBytes: 0 },
    mailboxes,
    subscriptions: await store.listSubscriptions(user.id),
  };
}

/** `file` rewritten as Mallard wrote backups of format 1: the same records without what 2 added. */
async function writeVersion1(file: string, out: string): Promise<void> {
  async function* records(): AsyncGenerator<Buffer> {
    const { chunks } = await openPayload(file, null);
    for await (const item of readRecords(chunks)) {
      const record = { ...item.record } as Record<string, unknown>;
      for (const added of [
        'sieve',
        'metadata',
        'imports',
        'savedAt',
        'sieveScripts',
        'sieveMemory',
        'threadId',
      ])
        delete record[added];
      if (record.t === 'sieve-before') continue;
      yield* encodeRecord(record as unknown as BackupRecord, 'body' in item ? item.body : undefined);
    }
  }
  const { header } = readHeader(file);
  const written = await writeBackupFile(tempDir(), { ...header, version: 1 }, records(), null);
  const bytes = fs.readFileSync(written.file);
  bytes[15] = '1'.charCodeAt(0); // the magic line: "MALLARD-BACKUP 1"
  fs.writeFileSync(out, bytes);
}

function config() {
  return loadConfig({ env: { MALLARD_DATA_DIR: tempDir(), MALLARD_BACKUP_DESTINATION: destination } });
}

async function backup(passphrase: string | null = null): Promise<string> {
  const result = await runBackup(source, config(), { passphrase });
  expect(result.error).toBeNull();
  return result.file!;
}

beforeEach(async () => {
  source = await SqliteStore.open(tempDir());
  destination = tempDir();
  await fill(source);
});

afterEach(async () => {
  await source.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

describe('backup and restore', () => {
  it('restores a whole server into a new store with every number, flag and byte kept', async () => {
    const file = await backup();
    expect(readHeader(file).header).toMatchObject({ engine: 'sqlite', encrypted: false });
    const check = await verifyBackup(file, null);
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ ok: true, users: 2, messages: 38 + 1 + 1 });

    const target = await SqliteStore.open(tempDir());
    try {
      const report = await restoreBackup(file, target, { passphrase: null });
      expect(report).toMatchObject({ users: 2, messages: 40 });
      for (const user of ['alice@example.com', 'bob@example.com']) {
        expect(await picture(target, user)).toEqual(await picture(source, user));
      }
      const alice = (await target.getCredentials('alice@example.com'))!;
      expect(alice.passwordHash).toBe('$argon2id$alice');
      expect(alice.appPasswords.map((p) => p.hash)).toEqual(['$argon2id$phone']);
      expect((await target.resolveRecipient('al@example.com'))?.username).toBe('alice@example.com');
      expect((await target.listSpamEntries(alice.user.id)).map((e) => e.pattern)).toEqual(['bulk.example']);
      expect((await target.listDomains()).map((d) => [d.name, d.dkim])).toEqual([
        ['example.com', true],
        ['quiet.example', false],
      ]);
      expect((await target.listRules()).map((r) => [r.kind, r.cidrs, r.note])).toEqual([
        ['deny', ['10.0.0.0/8'], 'tens'],
      ]);
      expect(await target.deliveryHistory('2026-01-01', '2026-01-03')).toEqual([
        { day: '2026-01-02', local: 5, sent: 0, deferred: 0, bounced: 0 },
      ]);
      // Queued mail comes back with the recipients still pending, its bytes and DSN requests.
      expect(report.outbound).toBe(1);
      const [outbound] = await target.listOutbound();
      expect(outbound).toMatchObject({
        sender: 'alice@example.com',
        userId: alice.user.id,
        dsn: { ret: 'HDRS', envid: 'env-1' },
      });
      expect(outbound!.recipients.map((r) => [r.address, r.state, r.notify])).toEqual([
        ['far@remote.example', 'queued', ['FAILURE']],
      ]);
      expect((await target.readOutboundRaw(outbound!.id)).equals(message(300))).toBe(true);
      await expect(restoreBackup(file, target, { passphrase: null })).rejects.toThrow(/already has 2 user/);
    } finally {
      await target.close();
    }
  });

  it('finds a cut-short backup and a flipped byte, and restores nothing from them', async () => {
    const file = await backup();
    const bytes = fs.readFileSync(file);
    const cut = path.join(tempDir(), 'cut.mbk');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 200));
    const cutReport = await verifyBackup(cut, null);
    expect(cutReport.ok).toBe(false);
    expect(cutReport.problems.join('\n')).toMatch(/cut short|incomplete/);
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length * 0.6)]! ^= 0x40;
    const bad = path.join(tempDir(), 'bad.mbk');
    fs.writeFileSync(bad, flipped);
    expect((await verifyBackup(bad, null)).ok).toBe(false);
    const target = await SqliteStore.open(tempDir());
    try {
      await expect(restoreBackup(cut, target, { passphrase: null })).rejects.toThrow(RestoreError);
      expect((await target.listUsers()).total).toBe(0);
    } finally {
      await target.close();
    }
  });

  it('encrypts with a passphrase: nothing readable without it, a wrong one is refused', async () => {
    const file = await backup('correct horse');
    expect(readHeader(file).header.encrypted).toBe(true);
    expect(fs.readFileSync(file).includes('alice@example.com')).toBe(false);
    await expect(verifyBackup(file, null)).rejects.toThrow(/encrypted/);
    const wrong = await verifyBackup(file, 'wrong').catch((error: Error) => error);
    expect(wrong instanceof Error || !wrong.ok).toBe(true);
    expect((await verifyBackup(file, 'correct horse')).ok).toBe(true);
  }, 60_000);

  it('restores one user into a live store: an empty mailbox keeps its UIDs, a used one gets new UIDs', async () => {
    const file = await backup();
    const target = await SqliteStore.open(tempDir());
    try {
      const alice = await target.createUser({ username: 'alice@example.com', passwordHash: '$argon2id$new' });
      const inbox = await target.importMailbox(alice.id, {
        path: 'INBOX',
        specialUse: null,
        subscribed: true,
        uidValidity: 12345,
        uidNext: 1,
        highestModseq: 1,
      });
      await target.append(inbox.id, message(1, 250)); // the same body as the backup's UID 1
      await target.append(inbox.id, message(500));
      const report = await restoreBackup(file, target, { passphrase: null, user: 'Alice@example.com' });
      const byPath = new Map(report.mailboxes.map((m) => [m.path, m]));
      expect(byPath.get('INBOX')).toMatchObject({ uids: 'new-uids', restored: 37, skipped: 1 });
      expect(byPath.get('Läden/Ünter "odd"')).toMatchObject({ uids: 'kept', restored: 1 });
      expect(report.notes.join('\n')).toMatch(/INBOX: the mailbox already holds other mail/);
      expect((await target.listMessages(inbox.id)).map((m) => m.uid)).toEqual(
        Array.from({ length: 39 }, (_, i) => i + 1),
      );
      expect((await target.getCredentials('alice@example.com'))!.passwordHash).toBe('$argon2id$new');
      expect(await target.getUserByUsername('bob@example.com')).toBeNull();
      const deep = (await picture(target, 'alice@example.com')).mailboxes.find((m) =>
        m.path.startsWith('Läden'),
      );
      expect(deep).toEqual(
        (await picture(source, 'alice@example.com')).mailboxes.find((m) => m.path.startsWith('Läden')),
      );
      // Again: nothing is added twice.
      const again = await restoreBackup(file, target, {
        passphrase: null,
        user: 'alice@example.com',
        mailbox: 'INBOX',
      });
      expect(again.messages).toBe(0);
      await expect(
        restoreBackup(file, target, { passphrase: null, user: 'carol@example.com' }),
      ).rejects.toThrow(/no user/);
    } finally {
      await target.close();
    }
  });

  it('never reuses a UID of a used mailbox with the backup UIDVALIDITY, and drops no message', async () => {
    const file = await backup();
    const sourceInbox = (await source.getMailbox(
      (await source.getUserByUsername('bob@example.com'))!.id,
      'INBOX',
    ))!;
    const target = await SqliteStore.open(tempDir());
    try {
      const bob = await target.createUser({ username: 'bob@example.com', passwordHash: '$argon2id$bob' });
      const inbox = await target.importMailbox(bob.id, {
        path: 'INBOX',
        specialUse: null,
        subscribed: true,
        uidValidity: sourceInbox.uidValidity,
        uidNext: 1,
        highestModseq: 1,
      });
      await target.append(inbox.id, message(777));
      const report = await restoreBackup(file, target, { passphrase: null, user: 'bob@example.com' });
      expect(report.mailboxes.find((m) => m.path === 'INBOX')).toMatchObject({
        uids: 'new-uids',
        restored: 1,
      });
      expect(report.notes.join('\n')).toMatch(/INBOX: the mailbox was used since the backup \(UIDs up to 1/);
      const bodies = await target.readBlobs((await target.listMessages(inbox.id)).map((m) => m.blobId));
      expect(
        [...bodies.values()].map((b) => /Subject: (message \d+)/.exec(b.toString('latin1'))![1]).sort(),
      ).toEqual(['message 200', 'message 777']);
    } finally {
      await target.close();
    }
  });

  it('restores a backup of format 1 (before Sieve scripts and METADATA), and refuses a newer format', async () => {
    const current = await backup();
    const old = path.join(tempDir(), 'old.mbk');
    await writeVersion1(current, old);
    expect(fs.readFileSync(old).subarray(0, 17).toString()).toBe('MALLARD-BACKUP 1\n');
    expect((await verifyBackup(old, null)).problems).toEqual([]);
    const target = await SqliteStore.open(tempDir());
    try {
      const report = await restoreBackup(old, target, { passphrase: null });
      expect(report.users).toBe(2);
      expect(await picture(target, 'alice@example.com', false)).toEqual(
        await picture(source, 'alice@example.com', false),
      );
    } finally {
      await target.close();
    }
    const newer = path.join(tempDir(), 'newer.mbk');
    const bytes = fs.readFileSync(current);
    bytes[15] = '4'.charCodeAt(0);
    fs.writeFileSync(newer, bytes);
    expect(() => readHeader(newer)).toThrow(/format 4; this version reads 1, 2 and 3/);
  });

  it('lists backups and leaves no partial file behind a failed run', async () => {
    const file = await backup();
    fs.writeFileSync(`${file.replace(/\.mbk$/, '')}-x.mbk.partial`, 'left by a killed run');
    const blocked = path.join(tempDir(), 'not-a-folder');
    fs.writeFileSync(blocked, '');
    const failed = await runBackup(source, config(), {
      destination: path.join(blocked, 'sub'),
      passphrase: null,
    });
    expect(failed.ok).toBe(false);
    expect(failed.error).toMatch(/ENOTDIR|not a directory/);
    expect(listBackups(destination).map((b) => b.file)).toEqual([file]);
  });
});

describe('retention', () => {
  const at = (iso: string) => ({ createdAt: new Date(iso), name: iso });
  it('keeps the newest of each of the last days, weeks and months', () => {
    const backups = [
      at('2026-12-06T03:00:00'),
      at('2026-12-06T01:00:00'),
      at('2026-12-05T03:00:00'),
      at('2026-12-04T03:00:00'),
      at('2026-11-28T03:00:00'),
      at('2026-11-20T03:00:00'),
      at('2026-10-15T03:00:00'),
      at('2026-09-15T03:00:00'),
    ];
    const keep = backupsToKeep(backups, { daily: 2, weekly: 2, monthly: 3 });
    expect(backups.filter((b) => keep.has(b)).map((b) => b.name)).toEqual([
      '2026-12-06T03:00:00',
      '2026-12-05T03:00:00',
      '2026-11-28T03:00:00',
      '2026-10-15T03:00:00',
    ]);
    expect(backupsToKeep(backups, { daily: 0, weekly: 0, monthly: 0 }).size).toBe(1);
  });
});
