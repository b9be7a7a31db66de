/**
 * What the shared contract does not cover on the mongodb engine: chunked bodies and their
 * collection, the append-versus-last-deletion race, journal gaps, durability settings, a database
 * outage and its recovery, and a schema that is newer than this server. Runs against the
 * mongo-java-server stand-in (or MALLARD_TEST_MONGODB_URI, except the outage test, which needs a
 * stand-in it can kill).
 */
import { withCrlfLineEnds } from '../../mime/line-ends.ts';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freshDatabaseUri, startMongoStandIn } from '../../../test/helpers/mongo.ts';
import { mongoForTests } from '../../../test/helpers/mongo-suite.ts';
import { StoreError } from '../errors.ts';
import { JournalFollower } from '../follower.ts';
import type { JournalEntry, Mailbox, User } from '../types.ts';
import { CHUNK_BYTES, sha256Hex } from './blobs.ts';
import { GAP_WAIT_MS, USERS_PER_QUERY } from './journal.ts';
import { MongoStore } from './store.ts';

const baseUri = mongoForTests();

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<StoreError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

interface AddressRow {
  _id: string;
  user: number;
  kind: string;
  createdAt: Date;
}

const raw = (text: string) => Buffer.from(`Subject: ${text}\r\n\r\n${text}\r\n`);

describe('mongodb engine', () => {
  let uri: string;
  let store: MongoStore;
  let direct: MongoClient;

  beforeEach(async () => {
    uri = freshDatabaseUri(baseUri());
    store = await MongoStore.open(uri);
    direct = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
  });
  afterEach(async () => {
    const problems = await store.checkIntegrity().catch((error: unknown) => [String(error)]);
    await store.close();
    await direct.db().dropDatabase();
    await direct.close();
    expect(problems).toEqual([]);
  });

  async function newInbox(username = 'alice@example.com'): Promise<{ user: User; inbox: Mailbox }> {
    const user = await store.createUser({ username, passwordHash: 'h' });
    return { user, inbox: (await store.getMailbox(user.id, 'INBOX'))! };
  }

  /** The user's journal after `head`, through the contract. */
  function userJournal(user: User, head: number): Promise<JournalEntry[]> {
    return store.readJournal(new Map([[user.id, head]]));
  }

  it('writes with majority and journal acknowledgement, reads majority, and fails fast', () => {
    expect(store.settings()).toEqual({
      writeConcern: { w: 'majority', j: true },
      readConcern: { level: 'majority' },
      serverSelectionTimeoutMS: 3000,
    });
    expect(store.databaseName).toMatch(/^mallard_test_/);
  });

  it('stores a large body in chunks, byte-exact, and removes them with its last reference', async () => {
    const { user, inbox } = await newInbox();
    // Appended mail is stored with CRLF line ends: random bytes are given them up front.
    const body = withCrlfLineEnds(Buffer.concat([raw('large'), randomBytes(CHUNK_BYTES * 2 + 1234)]));
    const { uid } = await store.append(inbox.id, body);
    const copy = await store.copyMessages(inbox.id, [uid], (await store.getMailbox(user.id, 'Archive'))!.id);
    const hash = sha256Hex(body);
    expect((await store.readBlob(hash)).equals(body)).toBe(true);
    expect((await store.readBlobs([hash, hash])).get(hash)?.equals(body)).toBe(true);
    expect((await store.readMimeIndex(hash)).root.bodyEnd).toBe(body.length);
    expect(await store.stats()).toMatchObject({ blobs: 1, chunks: 3, blobBytes: body.length });

    await store.deleteMessages(inbox.id, [uid]);
    expect((await store.readBlob(hash)).equals(body)).toBe(true);
    await store.deleteMessages((await store.getMailbox(user.id, 'Archive'))!.id, [copy.uidMap[0]![1]]);
    expect(await store.stats()).toMatchObject({ blobs: 0, chunks: 0, blobBytes: 0 });
    await rejectsWith(store.readBlob(hash), 'NONEXISTENT');
  });

  it('keeps a body that is appended again while its last reference goes', async () => {
    const alice = await newInbox();
    const bob = await newInbox('bob@example.com');
    const bodies = [
      raw('small racing body'),
      withCrlfLineEnds(Buffer.concat([raw('big racing body'), randomBytes(CHUNK_BYTES + 10)])),
    ];
    for (const body of bodies) {
      for (let round = 0; round < 8; round++) {
        const { uid } = await store.append(alice.inbox.id, body);
        const [, appended] = await Promise.all([
          store.deleteMessages(alice.inbox.id, [uid]),
          store.append(bob.inbox.id, body),
        ]);
        const summary = await store.getMessage(bob.inbox.id, appended.uid);
        expect((await store.readBlob(summary!.blobId)).equals(body)).toBe(true);
        await store.deleteMessages(bob.inbox.id, [appended.uid]);
        await rejectsWith(store.readBlob(sha256Hex(body)), 'NONEXISTENT');
      }
    }
    expect(await store.stats()).toMatchObject({ blobs: 0, chunks: 0 });
  });

  it('gives concurrent appends from two stores distinct UIDs, and each sees the other in the journal', async () => {
    const other = await MongoStore.open(uri);
    try {
      const { user, inbox } = await newInbox();
      const head = await other.journalHead(user.id);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).append(inbox.id, raw(`m${i}`))),
      );
      const uids = results.map((result) => result.uid).sort((a, b) => a - b);
      expect(uids).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const modseqs = new Set(results.map((result) => result.modseq));
      expect(modseqs.size).toBe(20);
      const seen = (await other.readJournal(new Map([[user.id, head]]))).filter(
        (entry) => entry.kind === 'message-new',
      );
      expect(seen.map((entry) => entry.uid).sort((a, b) => a! - b!)).toEqual(uids);
      expect((await store.getMailboxById(inbox.id))!.uidNext).toBe(21);
    } finally {
      await other.close();
    }
  });

  it('shows a change made through one store to a follower of another within a second', async () => {
    const other = await MongoStore.open(uri);
    const follower = new JournalFollower(other);
    try {
      const { user, inbox } = await newInbox();
      await follower.start();
      const seen: JournalEntry[] = [];
      follower.subscribe(user.id, (entry) => seen.push(entry));
      const appended = await store.append(inbox.id, raw('seen elsewhere'));
      await store.storeFlags(inbox.id, [appended.uid], 'add', ['\\Flagged']);
      const started = Date.now();
      while (seen.length < 2 && Date.now() - started < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(seen.map((entry) => [entry.kind, entry.uid])).toEqual([
        ['message-new', appended.uid],
        ['message-flags', appended.uid],
      ]);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      follower.stop();
      await other.close();
    }
  });

  it('applies concurrent flag changes from two stores with increasing MODSEQs', async () => {
    const other = await MongoStore.open(uri);
    try {
      const { inbox } = await newInbox();
      await store.append(inbox.id, raw('flagged'));
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? store : other).storeFlags(inbox.id, [1], 'add', [`$k${i}`]),
        ),
      );
      const modseqs = results.flatMap((result) => result.updated.map((update) => update.modseq));
      expect(new Set(modseqs).size).toBe(12);
      const message = await store.getMessage(inbox.id, 1);
      expect([...message!.flags].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `$k${i}`).sort());
      expect(message!.modseq).toBe(Math.max(...modseqs));
    } finally {
      await other.close();
    }
  });

  it('leaves nothing behind when appends race the deletion of their mailbox', async () => {
    const other = await MongoStore.open(uri);
    try {
      const { user } = await newInbox();
      for (let round = 0; round < 4; round++) {
        const box = await store.createMailbox(user.id, `Doomed${round}`);
        const appends = Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? store : other).append(box.id, raw(`doomed ${round} ${i}`)).then(
            () => 'ok',
            (error: unknown) => (error as StoreError).code,
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, round * 5));
        await other.deleteMailbox(user.id, `Doomed${round}`);
        const outcomes = await Promise.all(appends);
        expect(outcomes.every((outcome) => ['ok', 'NONEXISTENT', 'CANNOT'].includes(outcome))).toBe(true);
        expect(
          await direct
            .db()
            .collection('messages')
            .countDocuments({ mailbox: Number(box.id) }),
        ).toBe(0);
      }
      expect((await store.getUser(user.id))!.usedBytes).toBe(0);
      expect(await store.stats()).toMatchObject({ messages: 0, blobs: 0 });
    } finally {
      await other.close();
    }
  });

  it('takes over a username claim left by a writer that died before creating the user', async () => {
    await direct
      .db()
      .collection<AddressRow>('addresses')
      .insertOne({
        _id: 'ghost@example.com',
        user: 4242,
        kind: 'primary',
        createdAt: new Date(Date.now() - 3_600_000),
      });
    const user = await store.createUser({ username: 'ghost@example.com', passwordHash: 'h' });
    expect((await store.resolveRecipient('ghost@example.com'))?.id).toBe(user.id);
    // A fresh claim (a creation in progress elsewhere) is respected.
    await direct
      .db()
      .collection<AddressRow>('addresses')
      .insertOne({ _id: 'busy@example.com', user: 4343, kind: 'primary', createdAt: new Date() });
    await rejectsWith(store.createUser({ username: 'busy@example.com', passwordHash: 'h' }), 'ALREADYEXISTS');
    expect(await store.resolveRecipient('busy@example.com')).toBeNull();
    await direct.db().collection<AddressRow>('addresses').deleteOne({ _id: 'busy@example.com' });
  });

  it('stops reading the journal at a gap until it fills, and fills a gap left by a dead writer with a no-op', async () => {
    const { user, inbox } = await newInbox();
    const head = await store.journalHead(user.id);
    const journal = direct.db().collection('user_journal');
    const counters = direct.db().collection<{ _id: string; seq: number }>('counters');
    const entry = (pos: number, uid: number) => ({
      _id: `${user.id}:${pos}`,
      user: Number(user.id),
      pos,
      mailbox: Number(inbox.id),
      kind: 'message-new',
      uid,
      modseq: uid,
      flags: [],
      path: null,
      oldPath: null,
      at: new Date(),
    });
    const counter = { _id: `journal:${user.id}` };
    // A writer took head+1 and head+2 and inserted only its second entry so far.
    await counters.updateOne(counter, { $inc: { seq: 2 } });
    await journal.insertOne(entry(head + 2, 2) as never);
    expect(await userJournal(user, head)).toEqual([]);
    expect(await store.journalHead(user.id)).toBe(head);
    await journal.insertOne(entry(head + 1, 1) as never);
    expect((await userJournal(user, head)).map((e) => e.id)).toEqual([head + 1, head + 2]);
    expect(await store.journalHead(user.id)).toBe(head + 2);

    // head+3 is taken by a writer that dies; head+4 is written.
    await counters.updateOne(counter, { $inc: { seq: 2 } });
    await journal.insertOne(entry(head + 4, 4) as never);
    expect(await userJournal(user, head + 2)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, GAP_WAIT_MS + 200));
    const read = await userJournal(user, head + 2);
    expect(read.map((e) => [e.id, e.kind])).toEqual([
      [head + 3, 'noop'],
      [head + 4, 'message-new'],
    ]);
    // The writer that comes back late finds its position taken: its insert is refused.
    await expect(journal.insertOne(entry(head + 3, 3) as never)).rejects.toThrow(/duplicate key|E11000/);
    // Real writers go on after the gap.
    await store.append(inbox.id, raw('after the gap'));
    expect((await userJournal(user, head + 4)).map((e) => e.id)).toEqual([head + 5]);
  });

  it("prunes old entries but keeps each user's newest old one, so no journal starts with a gap", async () => {
    const alice = await newInbox('alice@example.com');
    const bob = await newInbox('bob@example.com');
    const journal = direct.db().collection<{ user: number; pos: number; at: Date }>('user_journal');
    const old = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    // Alice's six mailbox-create entries are old; Bob's too, and Bob has a recent one above them.
    await journal.updateMany({}, { $set: { at: old } });
    await store.append(bob.inbox.id, raw('recent'));
    const removed = await store.pruneJournal(new Date(Date.now() - 30 * 24 * 3600 * 1000));
    expect(removed).toBe(10);
    const left = async (user: User) =>
      (
        await journal
          .find({ user: Number(user.id) })
          .sort({ pos: 1 })
          .toArray()
      ).map((doc) => doc.pos);
    expect(await left(alice.user)).toEqual([6]);
    expect(await left(bob.user)).toEqual([6, 7]);
    expect(await store.journalHead(alice.user.id)).toBe(6);
    expect(await store.journalHead(bob.user.id)).toBe(7);
    // Followed on from there, nothing is missed.
    await store.append(alice.inbox.id, raw('after pruning'));
    expect((await userJournal(alice.user, 6)).map((e) => [e.id, e.kind])).toEqual([[7, 'message-new']]);
  });

  it('reads the journals of many followed users in queries of a few hundred users each', async () => {
    const alice = await newInbox('alice@example.com');
    const bob = await newInbox('bob@example.com');
    const cursors = new Map<string, number>();
    // Alice first, then many users without entries, then Bob: the reads span several queries.
    cursors.set(alice.user.id, await store.journalHead(alice.user.id));
    for (let i = 0; i < USERS_PER_QUERY * 2; i++) cursors.set(String(100_000 + i), 0);
    cursors.set(bob.user.id, await store.journalHead(bob.user.id));
    await store.append(alice.inbox.id, raw('for alice'));
    await store.append(bob.inbox.id, raw('for bob'));
    const finds: number[] = [];
    const stop = store.onCommandReply((command) => {
      if (command.find === 'user_journal')
        finds.push(((command.filter as { $or?: unknown[] }).$or ?? [1]).length);
    });
    try {
      const entries = await store.readJournal(cursors);
      expect(entries.map((e) => [e.userId, e.uid])).toEqual([
        [alice.user.id, 1],
        [bob.user.id, 1],
      ]);
    } finally {
      stop();
    }
    expect(finds).toEqual([USERS_PER_QUERY, USERS_PER_QUERY, 2]);
  });

  it("does not hold one user's journal back for another user's gap", async () => {
    const alice = await newInbox('alice@example.com');
    const bob = await newInbox('bob@example.com');
    const heads = new Map([
      [alice.user.id, await store.journalHead(alice.user.id)],
      [bob.user.id, await store.journalHead(bob.user.id)],
    ]);
    // Alice's next position is taken by a writer that has not written yet.
    await direct
      .db()
      .collection<{ _id: string; seq: number }>('counters')
      .updateOne({ _id: `journal:${alice.user.id}` }, { $inc: { seq: 1 } });
    await store.append(alice.inbox.id, raw('behind the gap'));
    await store.append(bob.inbox.id, raw('for bob'));
    const entries = await store.readJournal(heads);
    expect(entries.map((e) => [e.userId, e.kind, e.uid])).toEqual([[bob.user.id, 'message-new', 1]]);
  });

  it('starts a new user following at 0 while its first positions are still being written', async () => {
    const { user, inbox } = await newInbox();
    // Position head+1 is taken and not yet written; head+2 is.
    const head = await store.journalHead(user.id);
    await direct
      .db()
      .collection<{ _id: string; seq: number }>('counters')
      .updateOne({ _id: `journal:${user.id}` }, { $inc: { seq: 1 } });
    await store.append(inbox.id, raw('second position'));
    // The user's six mailbox-create entries are there (1..6), then the gap, then the append.
    expect(head).toBe(6);
    expect(await store.journalHead(user.id)).toBe(6);
    // Had nothing been written before the gap, the head is 0, not the entry above the gap.
    const fresh = await store.createUser({ username: 'fresh@example.com', passwordHash: 'h' });
    await direct
      .db()
      .collection('user_journal')
      .deleteMany({ user: Number(fresh.id), pos: 1 });
    expect(await store.journalHead(fresh.id)).toBe(0);
    await direct
      .db()
      .collection('user_journal')
      .insertOne({
        _id: `${fresh.id}:1`,
        user: Number(fresh.id),
        pos: 1,
        mailbox: 0,
        kind: 'noop',
        at: new Date(),
      } as never);
  });

  /** Fills the user's next journal position with a no-op, as a reader does when its writer stalls. */
  async function takeNextPosition(user: User): Promise<number> {
    const counter = await direct
      .db()
      .collection<{ _id: string; seq: number }>('counters')
      .findOne({ _id: `journal:${user.id}` });
    const position = (counter?.seq ?? 0) + 1;
    await direct
      .db()
      .collection('user_journal')
      .insertOne({
        _id: `${user.id}:${position}`,
        user: Number(user.id),
        pos: position,
        mailbox: 0,
        kind: 'noop',
        at: new Date(),
      } as never);
    return position;
  }

  it('an append whose journal position a reader filled moves its message to a new UID, announced in order', async () => {
    const { user, inbox } = await newInbox();
    await store.append(inbox.id, raw('first'));
    const head = await store.journalHead(user.id);
    const taken = await takeNextPosition(user);
    const result = await store.append(inbox.id, raw('overtaken'));
    // UID 2 was taken with the filled position: the message now lives under UID 3.
    expect(result.uid).toBe(3);
    expect((await store.listMessages(inbox.id)).map((m) => m.uid)).toEqual([1, 3]);
    const entries = await userJournal(user, head);
    expect(entries[0]).toMatchObject({ id: taken, kind: 'noop' });
    const changes = entries.slice(1).map((e) => [e.kind, e.uid]);
    expect(changes).toEqual([
      ['message-new', 3],
      ['message-expunge', 2],
    ]);
    // MODSEQs grow with the positions.
    const modseqs = entries.slice(1).map((e) => e.modseq!);
    expect(modseqs).toEqual([...modseqs].sort((a, b) => a - b));
  });

  it('a flag change whose journal position a reader filled is journaled again under a new MODSEQ', async () => {
    const { user, inbox } = await newInbox();
    await store.append(inbox.id, raw('one'));
    const head = await store.journalHead(user.id);
    await takeNextPosition(user);
    const { updated } = await store.storeFlags(inbox.id, [1], 'add', ['\\Seen']);
    const entries = (await userJournal(user, head)).filter((e) => e.kind === 'message-flags');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.modseq).toBeGreaterThan(updated[0]!.modseq);
    expect(entries[0]!.flags).toEqual(['\\Seen']);
    // The message carries the MODSEQ that was announced, so CHANGEDSINCE finds it.
    expect((await store.getMessage(inbox.id, 1))!.modseq).toBe(entries[0]!.modseq);
  });

  it('an expunge whose journal position a reader filled is journaled again', async () => {
    const { user, inbox } = await newInbox();
    await store.append(inbox.id, raw('one'), { flags: ['\\Deleted'] });
    const head = await store.journalHead(user.id);
    await takeNextPosition(user);
    expect(await store.expunge(inbox.id)).toEqual([1]);
    const entries = (await userJournal(user, head)).filter((e) => e.kind === 'message-expunge');
    expect(entries.map((e) => e.uid)).toEqual([1]);
  });

  it('gives journal positions, UIDs and MODSEQs of one mailbox in the same order under concurrency', async () => {
    const { user, inbox } = await newInbox();
    const other = await MongoStore.open(uri);
    try {
      const head = await store.journalHead(user.id);
      await Promise.all(
        Array.from({ length: 24 }, (_, i) => (i % 2 ? store : other).append(inbox.id, raw(`m${i}`))),
      );
      const entries = (await userJournal(user, head)).filter((e) => e.kind === 'message-new');
      expect(entries).toHaveLength(24);
      const uids = entries.map((e) => e.uid!);
      expect(uids).toEqual([...uids].sort((a, b) => a - b));
      const modseqs = entries.map((e) => e.modseq!);
      expect(modseqs).toEqual([...modseqs].sort((a, b) => a - b));
    } finally {
      await other.close();
    }
  });

  it('refuses a database written by a newer schema', async () => {
    await direct
      .db()
      .collection<{ _id: string; version: number }>('meta')
      .updateOne({ _id: 'schema' }, { $inc: { version: 1 } });
    await rejectsWith(MongoStore.open(uri), 'UNAVAILABLE');
    await direct
      .db()
      .collection<{ _id: string; version: number }>('meta')
      .updateOne({ _id: 'schema' }, { $inc: { version: -1 } });
    const again = await MongoStore.open(uri);
    await again.close();
  });

  it('says whether SEARCH BODY/TEXT use the text index: the stand-in has no $text, a real MongoDB has', async () => {
    const { user, inbox } = await newInbox();
    await store.append(inbox.id, raw('quarterly report draft'));
    const words = await direct
      .db()
      .collection('blobs')
      .findOne({}, { projection: { words: 1, wordsListed: 1 } });
    expect(words).toMatchObject({ wordsListed: true, words: expect.arrayContaining(['report', 'draft']) });
    if (process.env.MALLARD_TEST_MONGODB_URI) {
      expect(store.textSearchSupport.mode).toBe('index');
      expect(await store.textCandidates('x report y')).toEqual(new Set([words!._id]));
      expect(await store.textCandidates('x absent y')).toEqual(new Set());
    } else {
      expect(store.textSearchSupport).toMatchObject({
        mode: 'scan',
        reason: expect.stringMatching(/\$text/),
      });
      expect(await store.textCandidates('x report y')).toBeNull();
    }
    expect(await store.textCandidates('report')).toBeNull(); // no whole word: never narrowed
    expect((await store.health()).detail).toMatch(/SEARCH BODY\/TEXT by (text index|reading bodies)/);
    expect(user.id).toBeTruthy();
  });

  it('upgrades a database with the old global journal (schema version 1): it keeps working', async () => {
    const { user, inbox } = await newInbox();
    await store.append(inbox.id, raw('before the upgrade'));
    await store.close();
    // What a version 1 database holds: one global journal and counter, global marks on mailboxes.
    const db = direct.db();
    await db.collection('meta').updateOne({ _id: 'schema' as never }, { $set: { version: 1 } });
    await db.collection('meta').deleteOne({ _id: 'bodyWords' as never });
    await db.collection('user_journal').drop();
    await db.collection('counters').deleteOne({ _id: `journal:${user.id}` as never });
    await db.collection('counters').insertOne({ _id: 'journal' as never, seq: 5000 });
    await db.collection('journal').insertMany([
      { _id: 4999 as never, user: Number(user.id), mailbox: Number(inbox.id), kind: 'noop', at: new Date() },
      { _id: 5000 as never, user: Number(user.id), mailbox: Number(inbox.id), kind: 'noop', at: new Date() },
    ]);
    await db
      .collection('mailboxes')
      .updateMany({}, { $set: { journalMark: 5000 }, $unset: { userJournalMark: '' } });

    store = await MongoStore.open(uri);
    expect((await db.collection('meta').findOne({ _id: 'schema' as never }))?.version).toBe(2);
    // Its bodies have no word lists: SEARCH BODY/TEXT read the bodies, whatever the server has.
    expect(store.textSearchSupport).toMatchObject({
      mode: 'scan',
      reason: expect.stringMatching(/before version 2/),
    });
    const collections = (await db.listCollections().toArray()).map((info) => info.name);
    expect(collections).not.toContain('journal');
    expect(await db.collection('counters').findOne({ _id: 'journal' as never })).toBeNull();
    // Writers and a follower go on, on the user's own journal.
    const follower = new JournalFollower(store);
    try {
      const seen: JournalEntry[] = [];
      follower.subscribe(user.id, (entry) => seen.push(entry));
      await follower.ready(user.id);
      const after = await store.append(inbox.id, raw('after the upgrade'));
      expect(after.uid).toBe(2);
      await store.storeFlags(inbox.id, [1], 'add', ['\\Seen']);
      const mailbox = (await store.getMailboxById(inbox.id))!;
      await follower.reach(user.id, mailbox.journalMark);
      expect(seen.map((entry) => [entry.kind, entry.uid])).toEqual([
        ['message-new', 2],
        ['message-flags', 1],
      ]);
      expect(mailbox.journalMark).toBe(seen[1]!.id);
    } finally {
      follower.stop();
    }
  });

  it('opens on one database from several processes at once (idempotent set-up)', async () => {
    const others = await Promise.all([MongoStore.open(uri), MongoStore.open(uri), MongoStore.open(uri)]);
    const { inbox } = await newInbox();
    for (const other of others) {
      expect((await other.getMailboxById(inbox.id))?.path).toBe('INBOX');
      await other.close();
    }
  });

  it('gives messages stored before thread ids theirs at start-up, once', async () => {
    const { inbox } = await newInbox();
    const head = (id: string, more: string) => Buffer.from(`Message-ID: <${id}>\r\n${more}\r\n\r\nx\r\n`);
    await store.append(inbox.id, head('r@x', 'Subject: Re: Plan\r\nReferences: <p@x>'), {
      internalDate: new Date(Date.UTC(2026, 0, 1)),
    });
    await store.append(inbox.id, head('p@x', 'Subject: Plan'), {
      internalDate: new Date(Date.UTC(2026, 0, 2)),
    });
    await store.append(inbox.id, head('u@x', 'Subject: Unrelated'));
    // As a database of the version before thread ids has them.
    const db = direct.db();
    await db.collection('messages').updateMany({}, { $unset: { threadId: '' } });
    await db.collection('thread_links').deleteMany({});
    await db.collection('meta').deleteOne({ _id: 'threadIds' as never });
    await store.close();
    store = await MongoStore.open(uri);
    const [reply, plan, unrelated] = (await store.listMessages(inbox.id)).map((m) => m.threadId);
    expect(plan).toMatch(/^T[0-9a-f]{16}$/);
    expect(reply).toBe(plan);
    expect(unrelated).not.toBe(plan);
    expect(await db.collection('meta').findOne({ _id: 'threadIds' as never })).not.toBeNull();
  });

  it('reports UNAVAILABLE once closed, and treats foreign ids as unknown', async () => {
    expect(await store.getUser('abc')).toBeNull();
    expect(await store.getMailboxById('1e3')).toBeNull();
    expect(await store.getMessage('-1', 1)).toBeNull();
    await rejectsWith(store.append('x', raw('x')), 'NONEXISTENT');
    const other = await MongoStore.open(uri);
    await other.close();
    await rejectsWith(other.journalHead('1'), 'UNAVAILABLE');
    expect((await other.health()).ok).toBe(false);
  });

  it('refuses an empty URI and fails fast on an unreachable database', async () => {
    await rejectsWith(MongoStore.open(''), 'INVALID');
    await rejectsWith(MongoStore.open('http://localhost'), 'INVALID');
    const started = Date.now();
    await rejectsWith(
      MongoStore.open('mongodb://127.0.0.1:9/x', { serverSelectionTimeoutMS: 500 }),
      'UNAVAILABLE',
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('mongodb engine: database outage', () => {
  it('fails calls with UNAVAILABLE while the database is down and recovers with nothing lost', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-mongo-outage-'));
    const h2File = path.join(dir, 'stand-in.mv');
    let db = await startMongoStandIn({ h2File });
    const port = db.port;
    const store = await MongoStore.open(`${db.uri}/mallard`, { serverSelectionTimeoutMS: 1500 });
    try {
      const user = await store.createUser({ username: 'outage@example.com', passwordHash: 'h' });
      const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
      const before = await store.append(inbox.id, raw('acknowledged before the outage'), {
        flags: ['\\Seen'],
      });

      const follower = new JournalFollower(store);
      await follower.start(60_000);
      const seen: JournalEntry[] = [];
      follower.subscribe(user.id, (entry) => seen.push(entry));
      await follower.ready(user.id); // followed from here on

      await db.kill();
      const started = Date.now();
      // Two reads at once while the database is down: the second waits for the first, both fail.
      const failed = await Promise.allSettled([follower.catchUp(), follower.catchUp()]);
      expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
      await rejectsWith(store.append(inbox.id, raw('during the outage')), 'UNAVAILABLE');
      await rejectsWith(store.listMessages(inbox.id), 'UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(8000);
      expect((await store.health()).ok).toBe(false);

      db = await startMongoStandIn({ h2File, port });
      let listed: Awaited<ReturnType<MongoStore['listMessages']>> | null = null;
      const deadline = Date.now() + 15_000;
      while (listed === null) {
        try {
          listed = await store.listMessages(inbox.id);
        } catch (error) {
          expect((error as StoreError).code).toBe('UNAVAILABLE');
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      expect(listed.map((m) => [m.uid, m.flags])).toEqual([[before.uid, ['\\Seen']]]);
      expect((await store.readBlob(listed[0]!.blobId)).equals(raw('acknowledged before the outage'))).toBe(
        true,
      );
      const after = await store.append(inbox.id, raw('after the outage'));
      expect(after.uid).toBeGreaterThan(before.uid);
      // The failure is not kept: two reads at once succeed and deliver the new message.
      await Promise.all([follower.catchUp(), follower.catchUp()]);
      expect(seen.filter((e) => e.kind === 'message-new').map((e) => e.uid)).toContain(after.uid);
      follower.stop();
      expect((await store.health()).ok).toBe(true);
    } finally {
      await store.close();
      await db.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
