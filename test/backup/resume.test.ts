/**
 * A whole-server restore killed with SIGKILL half-way continues where it stopped when run again
 * with the same backup: afterwards every mailbox is as in the source, message for message (UID,
 * MODSEQ, flags, body hash), and nothing is there twice. Both engines, through the real command.
 * Ctrl-C (SIGINT) cancels a restore: the command says so, and a second run continues likewise.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../server/backup/run.ts';
import { loadConfig } from '../../server/config/load.ts';
import { MongoStore } from '../../server/store/mongodb/store.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import type { Store } from '../../server/store/types.ts';
import { MALLARD_BIN, makeDataDir, ROOT, runMallard } from '../helpers/cli.ts';
import { freshDatabaseUri } from '../helpers/mongo.ts';
import { mongoForTests } from '../helpers/mongo-suite.ts';

const mongoBase = mongoForTests();
const USERS = ['ann@example.com', 'ben@example.com'];
/** Per user: enough that the restore takes several batches. */
const MESSAGES = 900;

const range = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);

let sourceDir: string;
let source: SqliteStore;
let file: string;

/** Every mailbox of every user: its numbers and each message's UID, MODSEQ, flags and body. */
async function picture(store: Store) {
  const users = [];
  for (const username of USERS) {
    const user = await store.getUserByUsername(username);
    if (!user) throw new Error(`no ${username}`);
    const mailboxes = [];
    for (const mailbox of await store.listMailboxes(user.id)) {
      const messages = mailbox.selectable ? await store.listMessages(mailbox.id) : [];
      mailboxes.push({
        path: mailbox.path,
        uidValidity: mailbox.uidValidity,
        messages: messages.map((m) => [m.uid, m.modseq, [...m.flags].sort().join(' '), m.blobId]),
      });
    }
    users.push({ username, mailboxes: mailboxes.sort((a, b) => a.path.localeCompare(b.path)) });
  }
  return users;
}

async function messageCount(store: Store): Promise<number> {
  let total = 0;
  for (const username of USERS) {
    const user = await store.getUserByUsername(username);
    if (!user) continue;
    for (const mailbox of await store.listMailboxes(user.id)) {
      if (mailbox.selectable) total += (await store.mailboxCounts(mailbox.id)).messages;
    }
  }
  return total;
}

beforeAll(async () => {
  sourceDir = makeDataDir();
  source = await SqliteStore.open(sourceDir);
  for (const [n, username] of USERS.entries()) {
    const user = await source.createUser({ username, passwordHash: '$argon2id$x' });
    const inbox = (await source.getMailbox(user.id, 'INBOX'))!;
    const archive = await source.createMailbox(user.id, 'Archive/2025');
    for (let start = 0; start < MESSAGES; start += 100) {
      const items = Array.from({ length: 100 }, (_, i) => ({
        raw: Buffer.from(`Subject: ${n}-${start + i}\r\n\r\n${randomBytes(6000).toString('base64')}\r\n`),
        options: { flags: (start + i) % 3 === 0 ? ['\\Seen', '$Label1'] : [] },
      }));
      await source.appendMany((start / 100) % 2 ? archive.id : inbox.id, items);
    }
    // Gaps in the UIDs and MODSEQs raised by flag changes: the numbers a client caches.
    await source.storeFlags(inbox.id, range(5, 40), 'add', ['\\Deleted']);
    await source.expunge(inbox.id);
    await source.storeFlags(archive.id, range(1, 30), 'add', ['\\Flagged']);
  }
  const destination = makeDataDir('mallard-backups-');
  const config = loadConfig({
    env: { MALLARD_DATA_DIR: sourceDir, MALLARD_BACKUP_DESTINATION: destination },
  });
  const result = await runBackup(source, config, { passphrase: null });
  expect(result.error).toBeNull();
  file = result.file!;
}, 240_000);

afterAll(async () => {
  await source?.close();
  fs.rmSync(sourceDir, { recursive: true, force: true });
});

describe.each(['sqlite', 'mongodb'] as const)('a restore killed half-way (%s)', (engine) => {
  it('continues where it stopped when run again, every mailbox as in the backup', async () => {
    const dataDir = makeDataDir();
    const uri = engine === 'mongodb' ? freshDatabaseUri(mongoBase()) : '';
    const env: NodeJS.ProcessEnv =
      engine === 'mongodb' ? { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: uri } : {};
    const target: Store = engine === 'mongodb' ? await MongoStore.open(uri) : await SqliteStore.open(dataDir);
    try {
      const child = spawn(process.execPath, [MALLARD_BIN, 'backup', 'restore', file], {
        cwd: ROOT,
        env: { ...process.env, MALLARD_CONFIG: '', MALLARD_DATA_DIR: dataDir, ...env },
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // Killed once the second user's mail is going in: users, mailboxes and messages half there.
      await expect
        .poll(async () => messageCount(target), { timeout: 180_000, interval: 20 })
        .toBeGreaterThan(MESSAGES + 100);
      child.kill('SIGKILL');
      await exited;
      const partial = await messageCount(target);
      expect(partial).toBeLessThan(USERS.length * MESSAGES - 72);

      // Not a reason to refuse: the store's users are the interrupted restore's.
      const again = runMallard(['backup', 'restore', file], { dataDir, env });
      expect(again.stderr).toBe('');
      expect(again.status).toBe(0);
      expect(again.text).toMatch(/^note\tan interrupted restore of this backup continues/m);
      expect(again.text).toMatch(/^restored\tben@example.com\tINBOX\t\d+ messages\t.*\tUIDs kept$/m);
      expect(await picture(target)).toEqual(await picture(source));

      // Complete: the mark is gone, and a third run refuses as into any used store.
      const third = runMallard(['backup', 'restore', file], { dataDir, env });
      expect(third.status).toBe(65);
      expect(third.stderr).toMatch(/already has 2 user\(s\)/);
    } finally {
      await target.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 400_000);
});

describe('a restore cancelled with Ctrl-C', () => {
  it('says what is in, exits 75, and continues when run again', async () => {
    const dataDir = makeDataDir();
    const target = await SqliteStore.open(dataDir);
    try {
      const child = spawn(process.execPath, [MALLARD_BIN, 'backup', 'restore', file], {
        cwd: ROOT,
        env: { ...process.env, MALLARD_CONFIG: '', MALLARD_DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      await expect
        .poll(async () => messageCount(target), { timeout: 180_000, interval: 20 })
        .toBeGreaterThan(0);
      child.kill('SIGINT');
      expect(await exited).toBe(75);
      expect(stderr).toMatch(/^cancelling: stopping after the messages being written$/m);
      expect(stderr).toMatch(/^cancelled: the restore was cancelled after \d+ messages; run it again/m);
      const restored = Number(
        /^summary\t\d+ users, \d+ mailboxes, (\d+) messages/m.exec(stdout)?.[1] ?? 'NaN',
      );
      expect(restored).toBeLessThan(USERS.length * MESSAGES - 72);
      expect(await messageCount(target)).toBe(restored);

      const again = runMallard(['backup', 'restore', file], { dataDir });
      expect(again.status).toBe(0);
      expect(again.text).toMatch(/^note\tan interrupted restore of this backup continues/m);
      expect(await picture(target)).toEqual(await picture(source));
    } finally {
      await target.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 400_000);
});
