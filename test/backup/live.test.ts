/**
 * A backup of a live server while mail arrives over LMTP and an IMAP client changes flags, appends
 * and expunges; then restored into a fresh server of the same engine and compared mailbox by
 * mailbox (UIDVALIDITY, UIDs, flags, MODSEQs, body hashes) with what the backup holds, as an IMAP
 * client of the new server sees it. Then one mailbox is restored into the running first server
 * while a client has it selected: the client is told of the restored mail. Both engines (sqlite,
 * the MongoDB stand-in).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPayload } from '../../server/backup/files.ts';
import { readRecords, type MailboxRecord, type MessageRecord } from '../../server/backup/format.ts';
import { restoreBackup } from '../../server/backup/restore.ts';
import { runBackup } from '../../server/backup/run.ts';
import { verifyBackup } from '../../server/backup/verify.ts';
import { makeDataDir } from '../helpers/cli.ts';
import { freshDatabaseUri } from '../helpers/mongo.ts';
import { mongoForTests } from '../helpers/mongo-suite.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ALICE = { user: 'alice@example.com', pass: 'alice-password' };
const BOB = { user: 'bob@example.com', pass: 'bob-password' };
const INBOX_MESSAGES = 400;

const mongoBase = mongoForTests();

interface BackedUpMailbox {
  record: MailboxRecord;
  messages: MessageRecord[];
}

/** Every mailbox of a backup with its message records (bodies hashed, not kept). */
async function readBackup(file: string): Promise<Map<string, BackedUpMailbox>> {
  const { chunks } = await openPayload(file, null);
  const mailboxes = new Map<string, BackedUpMailbox>();
  let current: BackedUpMailbox | null = null;
  for await (const item of readRecords(chunks)) {
    if (item.record.t === 'mailbox') {
      current = { record: item.record, messages: [] };
      mailboxes.set(`${item.record.user} ${item.record.path}`, current);
    } else if ('body' in item && item.record.t === 'message') {
      expect(createHash('sha256').update(item.body).digest('hex')).toBe(item.record.sha256);
      current!.messages.push(item.record);
    }
  }
  return mailboxes;
}

function message(index: number, to: string): string {
  return `From: sender${index}@example.net\r\nTo: ${to}\r\nSubject: message ${index}\r\nMessage-ID: <m${index}@example.net>\r\n\r\n${`body ${index} `.repeat(50 + (index % 40))}\r\n`;
}

function imap(server: TestServer, account: { user: string; pass: string }): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: server.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: account,
    logger: false,
    disableAutoIdle: true,
  });
}

/** What an IMAP client sees of a mailbox: UIDVALIDITY, and per UID its flags, MODSEQ and body hash. */
async function seen(client: ImapFlow, path: string) {
  const lock = await client.getMailboxLock(path);
  try {
    const mailbox = client.mailbox as { uidValidity: bigint; exists: number };
    const messages: Array<{ uid: number; flags: string[]; modseq: number; sha256: string }> = [];
    if (mailbox.exists > 0) {
      for await (const m of client.fetch(
        '1:*',
        { uid: true, flags: true, source: true },
        { changedSince: 0n },
      )) {
        messages.push({
          uid: m.uid,
          flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(),
          modseq: Number(m.modseq),
          sha256: createHash('sha256').update(m.source!).digest('hex'),
        });
      }
    }
    return { uidValidity: Number(mailbox.uidValidity), messages: messages.sort((a, b) => a.uid - b.uid) };
  } finally {
    lock.release();
  }
}

describe.each(['sqlite', 'mongodb'] as const)('backup of a live server (%s)', (engine) => {
  let first: TestServer;
  let second: TestServer;
  let destination: string;
  let file: string;

  const env = (): NodeJS.ProcessEnv =>
    engine === 'mongodb'
      ? { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: freshDatabaseUri(mongoBase()) }
      : {};

  beforeAll(async () => {
    destination = makeDataDir('mallard-backups-');
    first = await startTestServer(env());
    const aliceId = await first.addUser(ALICE.user, ALICE.pass);
    await first.addUser(BOB.user, BOB.pass);
    const store = first.server.store;
    const inbox = (await store.getMailbox(aliceId, 'INBOX'))!;
    for (let i = 1; i <= INBOX_MESSAGES; i++) {
      await store.append(inbox.id, Buffer.from(message(i, ALICE.user)), {
        flags: i % 5 === 0 ? ['\\Seen'] : [],
        internalDate: new Date(Date.UTC(2025, 0, 1) + i * 60_000),
      });
    }
    const lists = await store.createMailbox(aliceId, 'Lists/Dev & "Ops"');
    for (let i = 1; i <= 30; i++) await store.append(lists.id, Buffer.from(message(1000 + i, ALICE.user)));
  }, 180_000);

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    fs.rmSync(destination, { recursive: true, force: true });
  });

  it('backs up while mail arrives and flags change, and verifies', async () => {
    let running = true;
    let delivered = 0;
    let changes = 0;
    const lmtp = nodemailer.createTransport({
      host: '127.0.0.1',
      port: first.lmtpPort,
      lmtp: true,
      secure: false,
      ignoreTLS: true,
    });
    const deliveries = (async () => {
      for (let i = 1; running || delivered < 10; i++) {
        await lmtp.sendMail({
          envelope: { from: 'sender@example.net', to: [i % 2 ? ALICE.user : BOB.user] },
          raw: message(5000 + i, i % 2 ? ALICE.user : BOB.user),
        });
        delivered++;
      }
    })();
    const client = imap(first, ALICE);
    await client.connect();
    const edits = (async () => {
      for (let i = 0; running || changes < 10; i++) {
        const lock = await client.getMailboxLock('INBOX');
        try {
          const uid = 1 + ((i * 37) % INBOX_MESSAGES);
          await client.messageFlagsAdd(`${uid}`, ['\\Flagged', '$Backup'], { uid: true });
          if (i % 4 === 0) {
            await client.messageFlagsAdd(`${uid + 1}`, ['\\Deleted'], { uid: true });
            await client.messageDelete(`${uid + 1}`, { uid: true });
          }
          if (i % 3 === 0)
            await client.append('Lists/Dev & "Ops"', message(9000 + i, ALICE.user), ['\\Seen']);
        } finally {
          lock.release();
        }
        changes++;
      }
    })();
    await expect.poll(() => delivered > 3 && changes > 3, { timeout: 60_000 }).toBe(true);
    const result = await runBackup(first.server.store, first.config, { destination, passphrase: null });
    running = false;
    await Promise.all([deliveries, edits]);
    await client.logout();
    lmtp.close();
    expect(result.error).toBeNull();
    file = result.file!;
    const check = await verifyBackup(file, null);
    expect(check.problems).toEqual([]);
    expect(check.users).toBe(2);
    // Every message there before the backup began is in it (some were expunged during it).
    const inbox = check.mailboxes.find((m) => m.user === ALICE.user && m.path === 'INBOX')!;
    expect(inbox.messages).toBeGreaterThan(INBOX_MESSAGES - changes / 4 - 2);
  }, 240_000);

  it('restores into a fresh server: every mailbox as the backup holds it, seen over IMAP', async () => {
    second = await startTestServer(env());
    const report = await restoreBackup(file, second.server.store, { passphrase: null });
    expect(report.users).toBe(2);
    const backup = await readBackup(file);
    for (const account of [ALICE, BOB]) {
      const client = imap(second, account);
      await client.connect();
      try {
        for (const [key, { record, messages }] of backup) {
          if (!key.startsWith(`${account.user} `) || !record.selectable) continue;
          const view = await seen(client, record.path);
          expect(view.uidValidity, key).toBe(record.uidValidity);
          expect(view.messages, key).toEqual(
            messages.map((m) => ({
              uid: m.uid,
              flags: [...m.flags].sort(),
              modseq: m.modseq,
              sha256: m.sha256,
            })),
          );
          const status = await client.status(record.path, { uidNext: true, highestModseq: true });
          if (!status) throw new Error(`no STATUS for ${key}`);
          expect(status.uidNext, key).toBeGreaterThanOrEqual(record.uidNext);
          expect(Number(status.highestModseq), key).toBeGreaterThanOrEqual(record.highestModseq);
        }
      } finally {
        await client.logout();
      }
    }
    expect(backup.get(`${ALICE.user} INBOX`)!.messages.some((m) => m.flags.includes('$Backup'))).toBe(true);
  }, 240_000);

  it('restores one mailbox into the running server while a client has it selected', async () => {
    const client = imap(first, ALICE);
    await client.connect();
    try {
      const path = 'Lists/Dev & "Ops"';
      // The mailbox is emptied after the backup; a client keeps it selected.
      let lock = await client.getMailboxLock(path);
      await client.messageDelete('1:*', { uid: true });
      const uidNext = Number((client.mailbox as { uidNext: number }).uidNext);
      lock.release();
      lock = await client.getMailboxLock(path);
      const exists = () => (client.mailbox as { exists: number }).exists;
      expect(exists()).toBe(0);
      const report = await restoreBackup(file, first.server.store, {
        passphrase: null,
        user: ALICE.user,
        mailbox: path,
      });
      const backedUp = (await readBackup(file)).get(`${ALICE.user} ${path}`)!.messages;
      expect(report.mailboxes).toEqual([
        { user: ALICE.user, path, uids: 'new-uids', restored: backedUp.length, skipped: 0 },
      ]);
      expect(report.notes.join('\n')).toMatch(/was used since the backup/);
      // The selected session learns of the restored mail (NOOP), under UIDs it never saw.
      await expect
        .poll(
          async () => {
            await client.noop();
            return exists();
          },
          { timeout: 20_000 },
        )
        .toBe(backedUp.length);
      lock.release();
      const view = await seen(client, path);
      expect(view.messages.every((m) => m.uid >= uidNext)).toBe(true);
      expect(view.messages.map((m) => m.sha256).sort()).toEqual(backedUp.map((m) => m.sha256).sort());
    } finally {
      await client.logout();
    }
  }, 120_000);
});
