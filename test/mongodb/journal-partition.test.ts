/**
 * The journal scales with the users of a process, not with the users of the cluster (issue 12):
 * a server process follows only the users that have sessions in it. Two processes on one MongoDB
 * stand-in: this test's in-process server, where only Alice has a session (IDLE), and a
 * `mallard serve` process, where Bob has one, taking LMTP deliveries for both. The driver's
 * command monitoring of the in-process server shows which journal entries it read: Alice's, and
 * not one of Bob's; once Bob logs in here too, his are read as well (the measure can fail).
 */
import type { Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MongoStore } from '../../server/store/mongodb/store.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';
import { FINAL, startServerProcess, TextClient, type ServerProcess } from './support.ts';

const ALICE = { username: 'alice@example.com', password: 'alice-password' };
const BOB = { username: 'bob@example.com', password: 'bob-password' };
const BOB_DELIVERIES = 30;

let standIn: MongoStandIn;
let here: TestServer;
let elsewhere: ServerProcess;
const ids = { alice: '', bob: '' };

beforeAll(async () => {
  standIn = await startMongoStandIn();
  const uri = freshDatabaseUri(standIn.uri);
  here = await startTestServer({ MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: uri });
  ids.alice = await here.addUser(ALICE.username, ALICE.password);
  ids.bob = await here.addUser(BOB.username, BOB.password);
  elsewhere = await startServerProcess(uri);
}, 120_000);

afterAll(async () => {
  await elsewhere?.stop();
  await here?.stop();
  await standIn?.stop();
});

/** The journal documents this process's driver reads (find and getMore replies on user_journal). */
function recordJournalReads(store: MongoStore): {
  users: () => number[];
  queried: () => number[];
  stop: () => void;
} {
  const read: number[] = [];
  const queried = new Set<number>();
  const stop = store.onCommandReply((command: Document, reply: Document) => {
    const onJournal =
      command.find === 'user_journal' ||
      (command.getMore !== undefined && command.collection === 'user_journal');
    if (!onJournal) return;
    const filter = (command.filter ?? {}) as Document;
    for (const clause of (filter.$or as Document[] | undefined) ?? [filter]) {
      if (typeof clause.user === 'number') queried.add(clause.user);
    }
    const cursor = reply.cursor as { firstBatch?: Document[]; nextBatch?: Document[] } | undefined;
    for (const doc of cursor?.firstBatch ?? cursor?.nextBatch ?? []) read.push(doc.user as number);
  });
  return { users: () => read, queried: () => [...queried], stop };
}

async function login(port: number, user: { username: string; password: string }): Promise<LineClient> {
  const imap = await LineClient.connect(port);
  await imap.readUntil(/^\* OK/);
  expect(await imap.command('l', `LOGIN ${user.username} ${user.password}`, 30_000)).toMatch(/^l OK/m);
  expect(await imap.command('s', 'SELECT INBOX', 30_000)).toMatch(/^s OK/m);
  return imap;
}

async function deliver(lmtpPort: number, recipient: string, count: number, subject: string): Promise<void> {
  const lmtp = await TextClient.connect(lmtpPort);
  await lmtp.read(FINAL);
  await lmtp.send('LHLO partition.example', FINAL);
  for (let i = 0; i < count; i++) {
    await lmtp.send('MAIL FROM:<sender@example.net>', FINAL);
    await lmtp.send(`RCPT TO:<${recipient}>`, FINAL);
    await lmtp.send('DATA', FINAL);
    const reply = await lmtp.send(`Subject: ${subject} ${i}\r\n\r\nbody\r\n.`, FINAL, 30_000);
    expect(reply).toMatch(/^250/);
  }
  lmtp.close();
}

describe('journal partitioned by user (mongodb engine)', () => {
  it("a process with a session of Alice only reads Alice's journal, not Bob's", async () => {
    const store = here.server.store as MongoStore;
    const alice = await login(here.imapPort, ALICE);
    const bobElsewhere = await login(elsewhere.imapPort, BOB);
    alice.send('i IDLE\r\n');
    await alice.readUntil(/^\+ /);
    const reads = recordJournalReads(store);
    try {
      // Bob gets mail through the other process first, then Alice one message.
      await deliver(elsewhere.lmtpPort, BOB.username, BOB_DELIVERIES, 'for bob');
      await deliver(elsewhere.lmtpPort, ALICE.username, 1, 'for alice');
      await alice.readUntil(/^\* 1 EXISTS/, 5000);
      // Bob's session in the other process saw his mail (his journal is followed there).
      expect(await bobElsewhere.command('n', 'NOOP', 10_000)).toMatch(
        new RegExp(`^\\* ${BOB_DELIVERIES} EXISTS`, 'm'),
      );

      const aliceId = Number(ids.alice);
      const bobId = Number(ids.bob);
      console.log(
        `journal documents read here while Bob got ${BOB_DELIVERIES} messages elsewhere: ` +
          `${reads.users().filter((user) => user === aliceId).length} of Alice, ` +
          `${reads.users().filter((user) => user === bobId).length} of Bob`,
      );
      expect(reads.users().filter((user) => user === aliceId).length).toBeGreaterThan(0);
      expect(reads.users().filter((user) => user !== aliceId)).toEqual([]);
      expect(reads.queried()).toEqual([aliceId]);

      // Bob logs in here as well: from then on this process follows him too.
      const bobHere = await login(here.imapPort, BOB);
      await deliver(elsewhere.lmtpPort, BOB.username, 1, 'for bob here');
      expect(await bobHere.command('n', 'NOOP', 10_000)).toMatch(
        new RegExp(`^\\* ${BOB_DELIVERIES + 1} EXISTS`, 'm'),
      );
      expect(reads.users()).toContain(bobId);
      expect(reads.queried().sort((a, b) => a - b)).toEqual([aliceId, bobId].sort((a, b) => a - b));
      bobHere.close();
    } finally {
      reads.stop();
      alice.send('DONE\r\n');
      alice.close();
      bobElsewhere.close();
    }
  }, 120_000);
});
