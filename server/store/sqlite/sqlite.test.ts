import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeContractSuite, storeProcessSuite } from '../contract.ts';
import { StoreError } from '../errors.ts';
import type { Store } from '../types.ts';
import { DATABASE_FILE } from './database.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
import { SqliteStore } from './store.ts';
import { ThreadedSqliteStore } from './thread.ts';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-store-'));
}

function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Closes the store after checking that its bookkeeping still adds up. */
async function closeChecked(store: SqliteStore | ThreadedSqliteStore): Promise<void> {
  const problems = await store.checkIntegrity();
  await store.close();
  expect(problems).toEqual([]);
}

/** The two ways to run the engine: on the caller's thread (CLI) and on its own thread (the server). */
const VARIANTS = [
  {
    name: 'sqlite',
    open: (dir: string) => SqliteStore.open(dir),
    workerScript: 'server/store/sqlite/append-worker.ts',
  },
  {
    name: 'sqlite (own thread)',
    open: (dir: string) => ThreadedSqliteStore.open(dir),
    workerScript: 'server/store/sqlite/thread-append-worker.ts',
  },
];

for (const variant of VARIANTS) {
  storeContractSuite(variant.name, async () => {
    const dir = tempDir();
    const store = await variant.open(dir);
    return {
      store,
      async cleanup() {
        try {
          await closeChecked(store);
        } finally {
          removeDir(dir);
        }
      },
    };
  });

  storeProcessSuite(variant.name, async () => {
    const dir = tempDir();
    let store = await variant.open(dir);
    return {
      get store(): Store {
        return store;
      },
      async reopen() {
        await store.close();
        store = await variant.open(dir);
        return store;
      },
      workerArgs: [variant.workerScript, dir],
      async cleanup() {
        try {
          await closeChecked(store);
        } finally {
          removeDir(dir);
        }
      },
    };
  });
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
}

describe('sqlite engine', () => {
  let dir: string;
  let store: SqliteStore;
  const raw = (text: string) => Buffer.from(`Subject: ${text}\r\n\r\n${text}\r\n`);

  beforeEach(async () => {
    dir = tempDir();
    store = await SqliteStore.open(dir);
  });
  afterEach(async () => {
    await store.close();
    removeDir(dir);
  });

  async function newInbox(username = 'alice@example.com') {
    const user = await store.createUser({ username, passwordHash: 'h' });
    return { user, inbox: (await store.getMailbox(user.id, 'INBOX'))! };
  }

  it('keeps one owner-only database file in WAL mode with full sync and a busy timeout', async () => {
    const file = path.join(dir, DATABASE_FILE);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(await store.settings()).toEqual({
      journalMode: 'wal',
      synchronous: 2, // FULL
      busyTimeoutMs: 10_000,
      schemaVersion: SCHEMA_VERSION,
    });
  });

  it('keeps everything across a reopen and goes on with the UIDs', async () => {
    const { user, inbox } = await newInbox();
    await store.append(inbox.id, raw('before'));
    await store.close();
    store = await SqliteStore.open(dir);
    expect((await store.getUser(user.id))?.username).toBe('alice@example.com');
    expect((await store.append(inbox.id, raw('after'))).uid).toBe(2);
    expect(await store.readBlob((await store.getMessage(inbox.id, 1))!.blobId)).toEqual(raw('before'));
  });

  it('stores an identical body once and deletes it with its last reference', async () => {
    const alice = await newInbox();
    const bob = await newInbox('bob@example.com');
    const body = raw('shared body');
    await store.append(alice.inbox.id, body);
    await store.append(bob.inbox.id, body);
    const archive = (await store.getMailbox(alice.user.id, 'Archive'))!;
    await store.copyMessages(alice.inbox.id, [1], archive.id);
    expect(await store.stats()).toMatchObject({ messages: 3, blobs: 1, blobBytes: body.length });
    await store.append(bob.inbox.id, raw('other body'));
    expect((await store.stats()).blobs).toBe(2);

    await store.deleteMessages(alice.inbox.id, [1]);
    await store.deleteUser(bob.user.id);
    expect(await store.stats()).toMatchObject({ messages: 1, blobs: 1 });
    await store.deleteMessages(archive.id, [1]);
    expect(await store.stats()).toMatchObject({ messages: 0, blobs: 0, blobBytes: 0 });
    expect(await store.checkIntegrity()).toEqual([]);
  });

  it('lets two connections share the file and see each other’s changes', async () => {
    const other = await SqliteStore.open(dir);
    try {
      const { user, inbox } = await newInbox();
      const head = await other.journalHead(user.id);
      await other.append(inbox.id, raw('from the other connection'));
      await store.append(inbox.id, raw('from this one'));
      expect((await other.listMessages(inbox.id)).map((m) => m.uid)).toEqual([1, 2]);
      expect((await store.readJournal(new Map([[user.id, head]]))).map((e) => [e.kind, e.uid])).toEqual([
        ['message-new', 1],
        ['message-new', 2],
      ]);
    } finally {
      await other.close();
    }
  });

  it('fails with UNAVAILABLE when another process holds the write lock too long', async () => {
    const { inbox } = await newInbox();
    const impatient = await SqliteStore.open(dir, { busyTimeoutMs: 50 });
    const locker = new Database(path.join(dir, DATABASE_FILE));
    try {
      locker.exec('BEGIN IMMEDIATE');
      await rejectsWith(impatient.append(inbox.id, raw('blocked')), 'UNAVAILABLE');
      // Readers are not blocked by a writer in WAL mode.
      expect((await impatient.listMessages(inbox.id)).length).toBe(0);
      locker.exec('ROLLBACK');
      expect((await impatient.append(inbox.id, raw('now'))).uid).toBe(1);
    } finally {
      locker.close();
      await impatient.close();
    }
  });

  it('polls an empty outbound queue without the write lock, and claims under it', async () => {
    const impatient = await SqliteStore.open(dir, { busyTimeoutMs: 50 });
    const locker = new Database(path.join(dir, DATABASE_FILE));
    try {
      locker.exec('BEGIN IMMEDIATE'); // another process writing (a delivery, a flag change)
      expect(await impatient.claimOutbound('w1', 60_000, 10)).toEqual([]);
      locker.exec('ROLLBACK');
      const queued = await store.enqueueOutbound({
        userId: null,
        sender: 'a@example.com',
        recipients: ['b@example.net'],
        raw: raw('queued'),
      });
      locker.exec('BEGIN IMMEDIATE');
      // Something is due: claiming it is a write, which waits for the lock like any other.
      await rejectsWith(impatient.claimOutbound('w1', 60_000, 10), 'UNAVAILABLE');
      locker.exec('ROLLBACK');
      expect((await impatient.claimOutbound('w1', 60_000, 10)).map((m) => m.id)).toEqual([queued.id]);
      expect(await store.claimOutbound('w2', 60_000, 10)).toEqual([]);
    } finally {
      locker.close();
      await impatient.close();
    }
  });

  it('refuses a database written by a newer schema', async () => {
    await store.close();
    const setVersion = (version: number) => {
      const db = new Database(path.join(dir, DATABASE_FILE));
      db.pragma(`user_version = ${version}`);
      db.close();
    };
    setVersion(SCHEMA_VERSION + 1);
    await rejectsWith(SqliteStore.open(dir), 'UNAVAILABLE');
    setVersion(SCHEMA_VERSION);
    store = await SqliteStore.open(dir);
  });

  it('migrates a version 1 database to the rules schema, keeping its data', async () => {
    await store.close();
    removeDir(dir);
    dir = tempDir();
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare(
      "INSERT INTO users (username, password_hash, created_at) VALUES ('old@example.com', 'h', 1)",
    ).run();
    db.close();
    store = await SqliteStore.open(dir);
    expect((await store.settings()).schemaVersion).toBe(SCHEMA_VERSION);
    expect((await store.getUserByUsername('old@example.com'))?.id).toBe('1');
    expect(await store.rulesVersion()).toBe(0);
    expect((await store.createRule({ kind: 'deny', cidrs: ['10.0.0.0/8'] })).position).toBe(1);
  });

  it('makes domain records of the addresses of a database from before them', async () => {
    await store.close();
    removeDir(dir);
    dir = tempDir();
    const db = new Database(path.join(dir, DATABASE_FILE));
    for (const migration of MIGRATIONS.slice(0, 8)) db.exec(migration);
    db.pragma('user_version = 8');
    db.prepare(
      "INSERT INTO users (username, password_hash, created_at) VALUES ('old@example.com', 'h', 1)",
    ).run();
    db.prepare(
      "INSERT INTO addresses VALUES ('old@example.com', 1, 'primary'), ('x@alias.example', 1, 'alias')",
    ).run();
    db.prepare("INSERT INTO addresses VALUES ('*@catch.example', 1, 'catchall')").run();
    db.close();
    store = await SqliteStore.open(dir);
    const domains = await store.listDomains();
    expect(domains.map((domain) => [domain.name, domain.catchAll, domain.dkim])).toEqual([
      ['alias.example', null, true],
      ['catch.example', 'old@example.com', true],
      ['example.com', null, true],
    ]);
    expect(domains[0]!.createdAt.getTime()).toBeGreaterThan(0);
  });

  it('shows another connection’s rule changes through rulesVersion', async () => {
    const other = await SqliteStore.open(dir);
    try {
      const before = await store.rulesVersion();
      const rule = await other.createRule({ kind: 'deny', cidrs: ['198.51.100.0/24'] });
      expect(await store.rulesVersion()).toBeGreaterThan(before);
      expect(await store.listRules()).toEqual([rule]);
    } finally {
      await other.close();
    }
  });

  it('reports UNAVAILABLE once closed', async () => {
    await store.close();
    await rejectsWith(store.journalHead(), 'UNAVAILABLE');
    expect((await store.health()).ok).toBe(false);
    store = await SqliteStore.open(dir);
  });

  it('prunes old journal entries but keeps the head', async () => {
    const { inbox } = await newInbox();
    await store.append(inbox.id, raw('x'));
    const head = await store.journalHead();
    expect(await store.pruneJournal(new Date(Date.now() + 60_000))).toBe(head - 1);
    expect(await store.journalHead()).toBe(head);
    await store.append(inbox.id, raw('y'));
    expect(await store.journalHead()).toBe(head + 1);
  });

  it('rebuilds a missing MIME index on first read', async () => {
    const { inbox } = await newInbox();
    const body = raw('indexed later');
    await store.append(inbox.id, body);
    const blobId = (await store.getMessage(inbox.id, 1))!.blobId;
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.prepare('UPDATE blobs SET mime_index = NULL').run();
    db.close();
    expect((await store.readMimeIndex(blobId)).root.bodyEnd).toBe(body.length);
  });

  it('picks the fields SORT reads out of the stored MIME indexes, as the whole index has them', async () => {
    const { inbox } = await newInbox();
    const bodies = [
      raw('plain'),
      Buffer.from(
        'From: "Ann" <ann@example.net>\r\nTo: bob@example.test\r\nCc: undisclosed-recipients:;\r\n' +
          'Subject: =?UTF-8?Q?Re=3A_caf=C3=A9?=\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\n' +
          'Message-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\nReferences: <r@x>\r\n <a@x>\r\n\r\nbody\r\n',
      ),
      raw('index dropped'),
      raw('old index'),
    ];
    for (const body of bodies) await store.append(inbox.id, body);
    const ids = (await store.listMessages(inbox.id)).map((summary) => summary.blobId);
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.prepare('UPDATE blobs SET mime_index = NULL WHERE hash = ?').run(ids[2]);
    // An index stored before References was kept in it: the field stays undefined.
    db.prepare(`UPDATE blobs SET mime_index = json_remove(mime_index, '$.references') WHERE hash = ?`).run(
      ids[3],
    );
    db.close();
    const missing = '0'.repeat(64);
    const found = await store.readSortFields([missing, ...ids, ids[1]!]);
    expect([...found.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids.slice(0, 3)) {
      const { envelope, date, references, root } = await store.readMimeIndex(id);
      expect(found.get(id)).toMatchObject({
        envelope,
        date,
        references,
        root: { bodyStart: root.bodyStart },
      });
    }
    expect(found.get(ids[1]!)!.references).toMatch(/^<r@x>\s+<a@x>$/);
    expect(found.get(ids[3]!)!.references).toBeUndefined();
    expect(found.get(ids[0]!)!.references).toBeNull();
  });

  it('lists arrival, size and body of every message for SORT, as the summaries have them', async () => {
    const { user, inbox } = await newInbox();
    const other = await store.createMailbox(user.id, 'Other');
    await store.append(other.id, raw('elsewhere'));
    for (const [i, text] of ['one', 'two', 'three'].entries()) {
      await store.append(inbox.id, raw(text), { internalDate: new Date(Date.UTC(2024, 0, 3 - i)) });
    }
    await store.deleteMessages(inbox.id, [2]);
    const summaries = await store.listMessages(inbox.id);
    const basics = await store.listSortBasics(inbox.id);
    expect([...basics.uids]).toEqual([1, 3]);
    expect([...basics.arrivals]).toEqual(summaries.map((s) => s.internalDate.getTime()));
    expect([...basics.sizes]).toEqual(summaries.map((s) => s.size));
    expect(basics.blobIds).toEqual(summaries.map((s) => s.blobId));
    await rejectsWith(store.listSortBasics('999999'), 'NONEXISTENT');
  });

  it('finds broken bookkeeping with checkIntegrity', async () => {
    const { inbox } = await newInbox();
    await store.append(inbox.id, raw('x'));
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.prepare('UPDATE blobs SET refcount = 5').run();
    db.prepare('UPDATE users SET used_bytes = 1').run();
    db.prepare('UPDATE mailboxes SET unseen_count = 7 WHERE id = ?').run(Number(inbox.id));
    db.close();
    const problems = await store.checkIntegrity();
    expect(problems).toHaveLength(3);
    expect(problems[2]).toBe('mailbox INBOX: counters 1/7/17/0, messages 1/1/17/0');
  });

  it('fills the STATUS counters of existing mailboxes when it migrates to them', async () => {
    const { inbox } = await newInbox();
    await store.append(inbox.id, raw('one'), { flags: ['\\Seen'] });
    await store.append(inbox.id, raw('two'));
    await store.append(inbox.id, raw('three'));
    await store.close();
    // Back to the mailboxes before the counters, as a database of an older version has them, then
    // the counters' migration (11) run on it as an upgrade runs it.
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.exec(`DROP TRIGGER messages_counted_insert; DROP TRIGGER messages_counted_delete;
      DROP TRIGGER messages_counted_update; ALTER TABLE mailboxes DROP COLUMN message_count;
      ALTER TABLE mailboxes DROP COLUMN unseen_count; ALTER TABLE mailboxes DROP COLUMN byte_count;`);
    db.exec(MIGRATIONS[10]!);
    db.close();
    store = await SqliteStore.open(dir);
    expect(await store.mailboxCounts(inbox.id)).toMatchObject({ messages: 3, unseen: 2 });
    expect(await store.checkIntegrity()).toEqual([]);
  });

  it('fills the \\Deleted counter of existing mailboxes when it migrates to it', async () => {
    const { inbox } = await newInbox();
    await store.append(inbox.id, raw('one'), { flags: ['\\Deleted'] });
    await store.append(inbox.id, raw('two'), { flags: ['\\Deleted', '\\Seen'] });
    await store.append(inbox.id, raw('three'));
    await store.close();
    // Back to the counters before the \Deleted one, then its migration (14) run as an upgrade runs it.
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.exec(`DROP TRIGGER messages_counted_insert; DROP TRIGGER messages_counted_delete;
      DROP TRIGGER messages_counted_update; ALTER TABLE mailboxes DROP COLUMN deleted_count;`);
    db.exec(MIGRATIONS[13]!);
    db.close();
    store = await SqliteStore.open(dir);
    expect(await store.mailboxCounts(inbox.id)).toMatchObject({ messages: 3, unseen: 2, deleted: 2 });
    await store.storeFlags(inbox.id, [3], 'add', ['\\Deleted']);
    expect((await store.mailboxCounts(inbox.id)).deleted).toBe(3);
    expect(await store.checkIntegrity()).toEqual([]);
  });

  it('gives the messages it holds thread ids when it migrates to them (22), in arrival order', async () => {
    const { inbox } = await newInbox();
    const sent = await store.createMailbox(inbox.userId, 'Outgoing');
    const at = (minute: number) => ({ internalDate: new Date(Date.UTC(2026, 0, 1, 0, minute)) });
    const head = (id: string, more: string) => Buffer.from(`Message-ID: <${id}>\r\n${more}\r\n\r\nx\r\n`);
    // Stored out of order: the reply (in another mailbox) arrived first, its parent later.
    await store.append(inbox.id, head('p@x', 'Subject: Plan'), at(5));
    await store.append(sent.id, head('r@x', 'Subject: Re: Plan\r\nReferences: <p@x>'), at(1));
    await store.append(inbox.id, head('u@x', 'Subject: Unrelated'), at(2));
    await store.append(inbox.id, head('s@x', 'Subject: Fwd: plan'), at(9));
    await store.close();
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.exec('DROP TABLE thread_links; ALTER TABLE messages DROP COLUMN thread_id;');
    db.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    db.close();
    store = await SqliteStore.open(dir);
    const [plan, unrelated, forwarded] = (await store.listMessages(inbox.id)).map((m) => m.threadId);
    const [reply] = (await store.listMessages(sent.id)).map((m) => m.threadId);
    expect(plan).toMatch(/^T[0-9a-f]{16}$/);
    expect([reply, forwarded]).toEqual([plan, plan]);
    expect(unrelated).not.toBe(plan);
    // New mail finds the links the backfill made.
    const late = await store.append(inbox.id, head('n@x', 'Subject: late\r\nIn-Reply-To: <r@x>'));
    expect((await store.getMessage(inbox.id, late.uid))!.threadId).toBe(plan);
  });

  it('treats ids that are not its own as unknown', async () => {
    expect(await store.getUser('abc')).toBeNull();
    expect(await store.getMailboxById('1e3')).toBeNull();
    expect(await store.getMessage('-1', 1)).toBeNull();
    await rejectsWith(store.append('x', raw('x')), 'NONEXISTENT');
  });
});

describe('sqlite engine on its own threads', () => {
  let dir: string;
  let store: ThreadedSqliteStore;
  const raw = (text: string) => Buffer.from(`Subject: ${text}\r\n\r\n${text}\r\n`);

  beforeEach(async () => {
    dir = tempDir();
    store = await ThreadedSqliteStore.open(dir);
  });
  afterEach(async () => {
    await store.close();
    removeDir(dir);
  });

  it('commits concurrent writes together, a failing one undoing only its own changes', async () => {
    const user = await store.createUser({
      username: 'alice@example.com',
      passwordHash: 'h',
      quotaBytes: 10_000,
    });
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    const append = (index: number) => store.append(inbox.id, raw(`message ${index}`));
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 15 }, (_, index) => append(index)),
      store.createUser({ username: 'alice@example.com', passwordHash: 'again' }),
      store.append(inbox.id, Buffer.alloc(20_000, 0x61)),
      store.createMailbox(user.id, 'Projects/2026'),
      ...Array.from({ length: 15 }, (_, index) => append(15 + index)),
    ]);
    const failures = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [(outcome.reason as StoreError).code] : [],
    );
    expect(failures.sort()).toEqual(['ALREADYEXISTS', 'OVERQUOTA']);
    // The refused append took no UID: its savepoint was undone, the writes around it committed.
    expect((await store.listMessages(inbox.id)).map((m) => m.uid)).toEqual(
      Array.from({ length: 30 }, (_, index) => index + 1),
    );
    expect(await store.getMailbox(user.id, 'Projects')).not.toBeNull();
    expect((await store.getCredentials('alice@example.com'))?.passwordHash).toBe('h');
    expect(await store.checkIntegrity()).toEqual([]);
  });

  it('keeps Buffers the caller passed, and gives bodies back byte for byte', async () => {
    const user = await store.createUser({ username: 'bob@example.com', passwordHash: 'h' });
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    // A small Buffer lives in Node's shared pool; a slice shares a bigger buffer.
    const pooled = Buffer.from('Subject: pooled\r\n\r\nbody\r\n');
    const big = Buffer.alloc(200_000, 0x61);
    big.write('Subject: big\r\n\r\n');
    const slice = big.subarray(0, 150_000);
    await store.append(inbox.id, pooled);
    await store.append(inbox.id, slice);
    expect(pooled.toString()).toBe('Subject: pooled\r\n\r\nbody\r\n');
    expect(slice.length).toBe(150_000);
    const [first, second] = await store.listMessages(inbox.id);
    const bodies = await store.readBlobs([first!.blobId, second!.blobId]);
    expect(Buffer.isBuffer(bodies.get(first!.blobId))).toBe(true);
    expect(bodies.get(first!.blobId)!.equals(pooled)).toBe(true);
    expect(bodies.get(second!.blobId)!.equals(slice)).toBe(true);
    expect((await store.readBlob(second!.blobId)).equals(slice)).toBe(true);
  });

  it('keeps error classes and codes across the thread', async () => {
    await rejectsWith(store.append('999', raw('x')), 'NONEXISTENT');
    await rejectsWith(store.createUser({ username: 'not an address', passwordHash: 'h' }), 'INVALID');
    await rejectsWith(store.append('1', 'not a buffer' as unknown as Buffer), 'INVALID');
  });

  it('stops the writer thread once idle and starts it again with the next write', async () => {
    await store.close();
    let stops = 0;
    let stopped: () => void = () => undefined;
    const stop = () => new Promise<void>((resolve) => (stopped = resolve));
    let firstStop = stop();
    store = await ThreadedSqliteStore.open(dir, {
      writerIdleStopMs: 50,
      onIdleStop: () => {
        stops++;
        stopped();
      },
      onThreadExit: (detail) => expect.fail(`unexpected thread exit: ${detail}`),
    });
    const user = await store.createUser({ username: 'dave@example.com', passwordHash: 'h' });
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    await firstStop;
    expect(stops).toBe(1);
    // Reads do not need the writer; a write after the stop starts it again.
    expect((await store.listMailboxes(user.id)).map((m) => m.path)).toContain('INBOX');
    firstStop = stop();
    const appended = await store.append(inbox.id, raw('after the stop'));
    expect((await store.listMessages(inbox.id)).map((m) => m.uid)).toEqual([appended.uid]);
    await firstStop;
    expect(stops).toBe(2);
    // Closing while no writer runs closes what is left.
    await store.close();
    store = await ThreadedSqliteStore.open(dir);
    expect(await store.checkIntegrity()).toEqual([]);
  });

  it('answers UNAVAILABLE at the deadline when the writer is stuck, and serves reads meanwhile', async () => {
    await store.close();
    process.env.MALLARD_TEST_STALL_STORE = '3000:Stuck';
    try {
      store = await ThreadedSqliteStore.open(dir, { callTimeoutMs: 300 });
    } finally {
      delete process.env.MALLARD_TEST_STALL_STORE;
    }
    const user = await store.createUser({ username: 'carol@example.com', passwordHash: 'h' });
    const started = Date.now();
    const stuck = store.createMailbox(user.id, 'Stuck');
    const queued = store.createMailbox(user.id, 'Queued');
    await rejectsWith(stuck, 'UNAVAILABLE');
    await rejectsWith(queued, 'UNAVAILABLE');
    expect(await store.health()).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/did not answer/),
    });
    // Reads go on while the writer is stuck.
    expect((await store.listMailboxes(user.id)).map((m) => m.path)).not.toContain('Queued');
    expect(Date.now() - started).toBeLessThan(3000);
    // The stuck write had started and lands; the queued one never runs.
    await expect.poll(async () => store.getMailbox(user.id, 'Stuck'), { timeout: 5000 }).not.toBeNull();
    expect(await store.getMailbox(user.id, 'Queued')).toBeNull();
  });
});
