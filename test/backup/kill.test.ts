/**
 * `mallard backup now` killed with SIGKILL half-way: the previous backup is still there and
 * verifies, no new backup appears under a real name, and the next run clears the leftover and
 * succeeds. Then `backup list`, `verify` and `restore` from the command line.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { MALLARD_BIN, makeDataDir, ROOT, runMallard } from '../helpers/cli.ts';

const MESSAGES = 2500;
let dataDir: string;
let destination: string;

function env(): NodeJS.ProcessEnv {
  return { MALLARD_BACKUP_DESTINATION: destination };
}

beforeAll(async () => {
  dataDir = makeDataDir();
  destination = makeDataDir('mallard-backups-');
  const store = await SqliteStore.open(dataDir);
  try {
    const user = await store.createUser({ username: 'alice@example.com', passwordHash: '$argon2id$x' });
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    // Incompressible bodies: the backup file grows while it is written.
    for (let i = 1; i <= MESSAGES; i++) {
      const body = randomBytes(15_000).toString('base64');
      await store.append(inbox.id, Buffer.from(`Subject: ${i}\r\n\r\n${body}\r\n`));
    }
  } finally {
    await store.close();
  }
}, 180_000);

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(destination, { recursive: true, force: true });
});

const backups = () => fs.readdirSync(destination).filter((name) => name.endsWith('.mbk'));
const partials = () => fs.readdirSync(destination).filter((name) => name.endsWith('.partial'));

describe('an interrupted backup', () => {
  it('never replaces the last good backup', async () => {
    const firstRun = runMallard(['backup', 'now'], { dataDir, env: env() });
    expect(firstRun.stderr).toBe('');
    expect(firstRun.status).toBe(0);
    const [good] = backups();
    const goodBytes = fs.readFileSync(path.join(destination, good!));

    // The next run starts in a later second (its own file name), then is killed mid-write.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const child = spawn(process.execPath, [MALLARD_BIN, 'backup', 'now'], {
      cwd: ROOT,
      env: { ...process.env, MALLARD_CONFIG: '', MALLARD_DATA_DIR: dataDir, ...env() },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await expect
      .poll(() => partials().some((name) => fs.statSync(path.join(destination, name)).size > 1_000_000), {
        timeout: 60_000,
        interval: 10,
      })
      .toBe(true);
    child.kill('SIGKILL');
    await exited;

    expect(backups()).toEqual([good]);
    expect(fs.readFileSync(path.join(destination, good!)).equals(goodBytes)).toBe(true);
    const verify = runMallard(['backup', 'verify', path.join(destination, good!)], { dataDir, env: env() });
    expect(verify.status).toBe(0);
    expect(verify.text).toMatch(new RegExp(`^ok\\t1 users, 6 mailboxes, ${MESSAGES} messages`, 'm'));

    // The lease of the killed run lapses; the next run clears its leftover.
    const again = runMallard(['backup', 'now'], { dataDir, env: env() });
    if (again.status !== 0) expect(again.stderr).toMatch(/another backup is running/);
    await expect
      .poll(() => runMallard(['backup', 'now'], { dataDir, env: env() }).status, {
        timeout: 120_000,
        interval: 2_000,
      })
      .toBe(0);
    expect(partials()).toEqual([]);
    // Retention keeps one backup a day: the newer, complete one.
    expect(backups()).toHaveLength(1);
    expect(backups()[0]! > good!).toBe(true);
  }, 300_000);

  it('lists, verifies and restores from the command line', () => {
    const list = runMallard(['backup', 'list'], { dataDir, env: env() });
    expect(list.status).toBe(0);
    expect(list.text).toMatch(/^mallard-\d{8}T\d{6}Z\.mbk\t[\d.]+ MiB\t.*\tsqlite\tnot encrypted$/m);
    expect(list.text).toMatch(/^last run\t.*\tok$/m);
    const newest = path.join(destination, backups().sort().at(-1)!);
    const busy = runMallard(['backup', 'restore', newest], { dataDir, env: env() });
    expect(busy.status).toBe(65);
    expect(busy.stderr).toMatch(
      /already has 1 user\(s\): restore the whole server into a new data directory/,
    );
    const fresh = makeDataDir();
    try {
      const restore = runMallard(['backup', 'restore', newest], { dataDir: fresh, env: env() });
      expect(restore.stderr).toBe('');
      expect(restore.text).toMatch(
        new RegExp(`^restored\\talice@example.com\\tINBOX\\t${MESSAGES} messages\\t\\tUIDs kept$`, 'm'),
      );
      const listing = runMallard(['message', 'list', 'alice@example.com', 'INBOX'], { dataDir: fresh });
      expect(listing.text.trim().split('\n')).toHaveLength(MESSAGES);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
    const missing = runMallard(['backup', 'verify', path.join(destination, 'nope.mbk')], {
      dataDir,
      env: env(),
    });
    expect(missing.status).toBe(66);
  });
  it('a restore killed half-way, run again, ends with each message exactly once', async () => {
    const newest = path.join(destination, backups().sort().at(-1)!);
    const fresh = makeDataDir();
    const store = await SqliteStore.open(fresh);
    try {
      const child = spawn(
        process.execPath,
        [MALLARD_BIN, 'backup', 'restore', newest, '--user', 'alice@example.com'],
        { cwd: ROOT, env: { ...process.env, MALLARD_CONFIG: '', MALLARD_DATA_DIR: fresh }, stdio: 'ignore' },
      );
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const inboxCount = async () => {
        const user = await store.getUserByUsername('alice@example.com');
        const inbox = user && (await store.getMailbox(user.id, 'INBOX'));
        return inbox ? (await store.mailboxCounts(inbox.id)).messages : 0;
      };
      await expect.poll(inboxCount, { timeout: 120_000, interval: 5 }).toBeGreaterThan(0);
      child.kill('SIGKILL');
      await exited;
      const partial = await inboxCount();
      expect(partial).toBeLessThan(MESSAGES);

      const again = runMallard(['backup', 'restore', newest, '--user', 'alice@example.com'], {
        dataDir: fresh,
      });
      expect(again.stderr).toBe('');
      expect(again.text).toMatch(
        new RegExp(
          `^restored\\talice@example.com\\tINBOX\\t${MESSAGES - partial} messages\\t${partial} already there\\tNEW UIDs$`,
          'm',
        ),
      );
      const user = (await store.getUserByUsername('alice@example.com'))!;
      const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
      const listed = await store.listMessages(inbox.id);
      expect(listed).toHaveLength(MESSAGES);
      expect(new Set(listed.map((m) => m.blobId)).size).toBe(MESSAGES);
    } finally {
      await store.close();
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  }, 300_000);
});
