/**
 * A big mailbox (issue 20), on both store engines, not timed: STATUS answers from the mailbox's
 * counters (no per-message work: a counter changed behind the store's back shows through as is),
 * and the fast paths for flags (SEARCH on flags, FETCH of FLAGS/UID/MODSEQ from the shared state)
 * answer exactly as the general path does (the same criteria with a key that needs the store) and
 * as the store's own listing says, also while the view has changes it has not reported yet.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../server/store/sqlite/database.ts';
import { closeClients, loggedIn, newAccount, rawMessage, type Account } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MESSAGES = 2000;

/** The STATUS counters kept per mailbox, by their sqlite column and their MongoDB field. */
const MONGO_COUNTERS = {
  message_count: 'messageCount',
  unseen_count: 'unseenCount',
  byte_count: 'byteCount',
  deleted_count: 'deletedCount',
} as const;
type Counter = keyof typeof MONGO_COUNTERS;

/** Store calls that read a mailbox or its messages: what STATUS may cost. */
const MAILBOX_READS = [
  'getMailbox',
  'getMailboxById',
  'mailboxCounts',
  'mailboxStatus',
  'listMessages',
  'listFlags',
  'getMessage',
  'listKeywords',
] as const;

/** A few flag combinations, as a real mailbox has: most seen, some flagged, answered, a keyword. */
function flagsOf(i: number): string[] {
  const flags: string[] = [];
  if (i % 3 !== 0) flags.push('\\Seen');
  if (i % 7 === 0) flags.push('\\Flagged');
  if (i % 5 === 0) flags.push('\\Answered');
  if (i % 11 === 0) flags.push('$Work');
  if (i % 13 === 0) flags.push('\\Deleted');
  if (i % 17 === 0) flags.push('\\Draft');
  return flags;
}

/** The numbers of a `* SEARCH` answer. */
function searched(response: string): string {
  return /^\* SEARCH([ \d]*)\r?$/m.exec(response)![1]!.trim();
}

/** `* n FETCH (...)` lines of a response with the given item taken out, in order. */
function fetchLines(response: string, without?: RegExp): string[] {
  return response
    .split('\r\n')
    .filter((line) => /^\* \d+ FETCH /.test(line))
    .map((line) => (without ? line.replace(without, '') : line));
}

describe.each(['sqlite', 'mongodb'] as const)('a big mailbox on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;
  let mongoUri = '';
  let account: Account;
  let inboxId = '';

  /** Sets stored counters of a mailbox, behind the store's back (names as in the sqlite table). */
  async function setCounters(values: Partial<Record<Counter, number>>): Promise<void> {
    const entries = Object.entries(values);
    if (engine === 'sqlite') {
      const db = new Database(path.join(server.config.data_dir, DATABASE_FILE));
      const assignments = entries.map(([column]) => `${column} = ?`).join(', ');
      db.prepare(`UPDATE mailboxes SET ${assignments} WHERE id = ?`).run(
        ...entries.map(([, value]) => value),
        Number(inboxId),
      );
      db.close();
      return;
    }
    const fields = Object.fromEntries(
      entries.map(([column, value]) => [MONGO_COUNTERS[column as Counter], value]),
    );
    const client = await MongoClient.connect(mongoUri);
    try {
      await client
        .db()
        .collection('mailboxes')
        .updateOne({ _id: Number(inboxId) as never }, { $set: fields });
    } finally {
      await client.close();
    }
  }

  /** Names of the store calls made while `run` runs (the store object is shared by the sessions). */
  async function storeCallsDuring(run: () => Promise<void>): Promise<string[]> {
    const store = server.server.store as unknown as Record<string, unknown>;
    const calls: string[] = [];
    const originals = new Map<string, unknown>();
    for (const name of MAILBOX_READS) {
      const original = store[name] as (...args: unknown[]) => unknown;
      originals.set(name, original);
      store[name] = (...args: unknown[]) => {
        calls.push(name);
        return original.apply(server.server.store, args);
      };
    }
    try {
      await run();
    } finally {
      for (const [name, original] of originals) store[name] = original;
    }
    return calls;
  }

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {};
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      mongoUri = freshDatabaseUri(mongo.uri);
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = mongoUri;
    }
    server = await startTestServer(env);
    account = await newAccount(server);
    const { store } = server.server;
    const inbox = (await store.getMailbox(account.userId, 'INBOX'))!;
    inboxId = inbox.id;
    // Concurrent appends: the embedded store commits them together.
    for (let start = 0; start < MESSAGES; start += 250) {
      await Promise.all(
        Array.from({ length: Math.min(250, MESSAGES - start) }, (_, k) =>
          store.append(inbox.id, rawMessage(`big ${start + k}`), { flags: flagsOf(start + k) }),
        ),
      );
    }
    await store.claimRecent(inbox.id);
  }, 300_000);
  afterEach(closeClients);
  afterAll(async () => {
    await server?.stop();
    await mongo?.stop();
  }, 60_000);

  it('answers STATUS from the counters, in one store call, not by counting the messages', async () => {
    const listed = await server.server.store.listMessages(inboxId);
    const unseen = listed.filter((message) => !message.flags.includes('\\Seen')).length;
    const deleted = listed.filter((message) => message.flags.includes('\\Deleted')).length;
    const bytes = listed.reduce((total, message) => total + message.size, 0);
    const client = await loggedIn(account);
    let answer = '';
    const calls = await storeCallsDuring(async () => {
      answer = await client.command('s1', 'STATUS INBOX (MESSAGES UNSEEN RECENT SIZE DELETED)');
    });
    expect(answer).toBe(
      `* STATUS INBOX (MESSAGES ${MESSAGES} UNSEEN ${unseen} RECENT 0 SIZE ${bytes} DELETED ${deleted})\r\n` +
        's1 OK STATUS completed\r\n',
    );
    expect(calls).toEqual(['mailboxStatus']);
    // Counters changed behind the store's back are what STATUS shows: it read one row, it did not
    // go through the messages.
    await setCounters({ message_count: 123_456, unseen_count: 2345, byte_count: 34_567, deleted_count: 456 });
    try {
      expect(await client.command('s2', 'STATUS INBOX (MESSAGES UNSEEN SIZE DELETED)')).toBe(
        '* STATUS INBOX (MESSAGES 123456 UNSEEN 2345 SIZE 34567 DELETED 456)\r\ns2 OK STATUS completed\r\n',
      );
    } finally {
      await setCounters({
        message_count: MESSAGES,
        unseen_count: unseen,
        byte_count: bytes,
        deleted_count: deleted,
      });
    }
    expect(await client.command('s3', 'STATUS INBOX (MESSAGES DELETED)')).toMatch(
      `MESSAGES ${MESSAGES} DELETED ${deleted})`,
    );
  });

  it('answers flag searches and flag fetches as the general path and the store do', async () => {
    const client = await loggedIn(account);
    const other = await loggedIn(account);
    expect(await client.command('a1', 'SELECT INBOX')).toMatch(/^a1 OK /m);
    // Changes the selected session has not been told of yet: the fast paths must see past them.
    expect(await other.command('b1', 'SELECT INBOX')).toMatch(/^b1 OK /m);
    expect(await other.command('b2', 'UID STORE 1:40 +FLAGS.SILENT (\\Deleted $Late)')).toMatch(/^b2 OK /m);
    expect(await other.command('b3', 'UID EXPUNGE 1:20')).toMatch(/^b3 OK /m);
    expect(await other.command('b4', 'UID STORE 21:60 -FLAGS.SILENT (\\Seen)')).toMatch(/^b4 OK /m);
    await server.server.store.append(inboxId, rawMessage('late arrival'), { flags: ['\\Flagged'] });
    // FETCH by sequence number holds the expunges back (RFC 3501 7.4.1): they stay pending in the view.
    await expect
      .poll(async () => fetchLines(await client.command('w', 'FETCH 1:30 (FLAGS)')).join('\n'), {
        timeout: 10_000,
      })
      .toMatch(/\\Deleted \$Late/);
    const flagsOnly = fetchLines(await client.command('f1', 'FETCH 1:* (FLAGS)'));
    const general = fetchLines(
      await client.command('f2', 'FETCH 1:* (FLAGS RFC822.SIZE)'),
      / RFC822\.SIZE \d+/,
    );
    // The general path leaves out the expunged messages it can no longer read (EXPUNGEISSUED); the
    // view still shows their last flags, as it must until EXPUNGE is sent.
    expect(flagsOnly).toHaveLength(MESSAGES + 1);
    expect(general).toHaveLength(MESSAGES + 1 - 20);
    expect(flagsOnly.filter((line) => !general.includes(line))).toHaveLength(20);
    expect(flagsOnly.filter((line) => general.includes(line))).toEqual(general);
    // The expunges are reported (after a command that allows them), and the views agree again.
    expect(await client.command('n1', 'NOOP')).toMatch(/^\* 1 EXPUNGE\r$/m);
    const uidFlags = fetchLines(await client.command('f3', 'UID FETCH 1:* (UID FLAGS)'));
    expect(uidFlags).toHaveLength(MESSAGES + 1 - 20);
    expect(uidFlags).toEqual(
      fetchLines(
        await client.command('f4', 'UID FETCH 1:* (UID FLAGS INTERNALDATE)'),
        / INTERNALDATE "[^"]+"/,
      ),
    );
    for (const criteria of [
      'UNSEEN',
      'SEEN',
      'FLAGGED',
      'UNFLAGGED',
      'DELETED',
      'ANSWERED',
      'DRAFT',
      'KEYWORD $Work',
      'UNKEYWORD $Late',
      'OR FLAGGED NOT ANSWERED',
      'UID 100:300 UNSEEN',
      'RECENT',
    ]) {
      const fast = searched(await client.command('s1', `UID SEARCH ${criteria}`));
      const slow = searched(await client.command('s2', `UID SEARCH ${criteria} LARGER 0`));
      expect(fast, criteria).toBe(slow);
    }
    // And what the store holds, once the view has caught up.
    expect(await client.command('n2', 'NOOP')).toMatch(/^n2 OK /m);
    const listed = await server.server.store.listMessages(inboxId);
    const unseen = listed
      .filter((message) => !message.flags.includes('\\Seen'))
      .map((message) => message.uid);
    expect(searched(await client.command('s3', 'UID SEARCH UNSEEN'))).toBe(unseen.join(' '));
    const keyword = listed.filter((message) => message.flags.includes('$Work')).map((message) => message.uid);
    expect(searched(await client.command('s4', 'UID SEARCH KEYWORD $work'))).toBe(keyword.join(' '));
  });
});
