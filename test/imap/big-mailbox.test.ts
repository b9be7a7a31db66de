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

  /** Sets the stored message counter of a mailbox, behind the store's back. */
  async function setMessageCounter(value: number): Promise<void> {
    if (engine === 'sqlite') {
      const db = new Database(path.join(server.config.data_dir, DATABASE_FILE));
      db.prepare('UPDATE mailboxes SET message_count = ? WHERE id = ?').run(value, Number(inboxId));
      db.close();
      return;
    }
    const client = await MongoClient.connect(mongoUri);
    try {
      await client
        .db()
        .collection('mailboxes')
        .updateOne({ _id: Number(inboxId) as never }, { $set: { messageCount: value } });
    } finally {
      await client.close();
    }
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

  it('answers STATUS from the counters, not by counting the messages', async () => {
    const listed = await server.server.store.listMessages(inboxId);
    const unseen = listed.filter((message) => !message.flags.includes('\\Seen')).length;
    const client = await loggedIn(account);
    expect(await client.command('s1', 'STATUS INBOX (MESSAGES UNSEEN RECENT)')).toBe(
      `* STATUS INBOX (MESSAGES ${MESSAGES} UNSEEN ${unseen} RECENT 0)\r\ns1 OK STATUS completed\r\n`,
    );
    // A counter changed behind the store's back is what STATUS shows: it read one row, it did not
    // go through the messages.
    await setMessageCounter(123_456);
    try {
      expect(await client.command('s2', 'STATUS INBOX (MESSAGES)')).toBe(
        '* STATUS INBOX (MESSAGES 123456)\r\ns2 OK STATUS completed\r\n',
      );
    } finally {
      await setMessageCounter(MESSAGES);
    }
    expect(await client.command('s3', 'STATUS INBOX (MESSAGES)')).toMatch(`MESSAGES ${MESSAGES})`);
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
