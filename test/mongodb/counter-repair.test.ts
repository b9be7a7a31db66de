/**
 * STATUS after a writer died half-way, over real IMAP sessions on a `mallard serve` process on
 * MongoDB (the stand-in): a writer that took its UID (and counted its message in the STATUS
 * counters) and died before inserting the message — simulated by making exactly the writes an
 * append makes before its insert, straight to the database — leaves STATUS one message above what
 * SELECT shows; within seconds STATUS agrees with SELECT again, whether the dead write was the
 * user's last (nothing above it in the journal) or other mail came after it.
 */
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { LineClient } from '../helpers/server.ts';
import { addUser, openMongo, startServerProcess, type ServerProcess } from './support.ts';

const USER = { username: 'alice@example.com', password: 'secret-password' };
/** How long the repair may take at most before the test gives up (it is polled, not slept). */
const REPAIR_DEADLINE_MS = 20_000;

let standIn: MongoStandIn;
let server: ServerProcess;
let direct: MongoClient;
let db: Db;
let userId: number;
let inboxId: number;

function message(subject: string): string {
  return `From: a@example.com\r\nTo: ${USER.username}\r\nSubject: ${subject}\r\n\r\n${subject} body\r\n`;
}

async function login(): Promise<LineClient> {
  const client = await LineClient.connect(server.imapPort);
  await client.readUntil(/^\* OK/);
  expect(await client.command('l', `LOGIN ${USER.username} ${USER.password}`, 30_000)).toMatch(/^l OK/m);
  return client;
}

async function append(client: LineClient, tag: string, text: string, flags = ''): Promise<void> {
  const reply = await client.command(
    tag,
    `APPEND INBOX (${flags}) {${Buffer.byteLength(text)}+}\r\n${text}`,
    30_000,
  );
  expect(reply).toMatch(new RegExp(`^${tag} OK`, 'm'));
}

async function status(client: LineClient): Promise<{ messages: number; unseen: number }> {
  const reply = await client.command('st', 'STATUS INBOX (MESSAGES UNSEEN)', 30_000);
  const match = /^\* STATUS INBOX \(MESSAGES (\d+) UNSEEN (\d+)\)/m.exec(reply);
  if (!match) throw new Error(`STATUS failed: ${reply}`);
  return { messages: Number(match[1]), unseen: Number(match[2]) };
}

/** What a fresh SELECT shows: EXISTS, and how many SEARCH UNSEEN finds. */
async function selected(): Promise<{ messages: number; unseen: number }> {
  const client = await login();
  try {
    const reply = await client.command('s', 'SELECT INBOX', 30_000);
    const exists = Number(/^\* (\d+) EXISTS/m.exec(reply)![1]);
    const search = await client.command('u', 'SEARCH UNSEEN', 30_000);
    const found = /^\* SEARCH(.*)$/m.exec(search)![1]!.trim();
    return { messages: exists, unseen: found === '' ? 0 : found.split(/\s+/).length };
  } finally {
    client.close();
  }
}

/**
 * What an append does before inserting its message (messages.ts): the body reference and quota
 * are left out (a leak only), then one journal position and, in one write of the mailbox, the UID,
 * the MODSEQ and the counters. The writer dies here.
 */
async function dieAfterAllocation(size: number): Promise<void> {
  const counter = await db
    .collection<{ _id: string; seq: number }>('counters')
    .findOneAndUpdate({ _id: `journal:${userId}` }, { $inc: { seq: 1 } }, { returnDocument: 'before' });
  await db.collection<{ _id: number }>('mailboxes').updateOne(
    { _id: inboxId },
    {
      $inc: { uidNext: 1, highestModseq: 1, messageCount: 1, unseenCount: 1, byteCount: size },
      $set: { userJournalMark: counter!.seq + 1 },
    },
  );
}

/** Polls STATUS until it agrees with a fresh SELECT; returns the agreed figures. */
async function statusConverges(client: LineClient): Promise<{ messages: number; unseen: number }> {
  const deadline = Date.now() + REPAIR_DEADLINE_MS;
  for (;;) {
    const [shown, truth] = [await status(client), await selected()];
    if (shown.messages === truth.messages && shown.unseen === truth.unseen) return shown;
    if (Date.now() > deadline) expect(shown, 'STATUS never agreed with SELECT').toEqual(truth);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  standIn = await startMongoStandIn();
  const uri = freshDatabaseUri(standIn.uri);
  // Set up with a store of this process, closed before the server starts: only the server repairs.
  const store = await openMongo(uri);
  const id = await addUser(store, USER.username, USER.password);
  userId = Number(id);
  inboxId = Number((await store.getMailbox(id, 'INBOX'))!.id);
  await store.close();
  direct = new MongoClient(uri);
  db = direct.db();
  server = await startServerProcess(uri);
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await direct?.close();
  await standIn?.stop();
});

describe('STATUS after a writer died between UID allocation and insert (mongodb)', () => {
  it('converges to what SELECT shows, with or without mail after the dead write', async () => {
    // A session in IDLE on INBOX: the server follows Alice's journal, as with any live client.
    const idler = await login();
    expect(await idler.command('s', 'SELECT INBOX', 30_000)).toMatch(/^s OK/m);
    idler.send('i IDLE\r\n');
    await idler.readUntil(/^\+ /);
    const client = await login();
    await append(client, 'a1', message('one'));
    await append(client, 'a2', message('two'), '\\Seen');
    expect(await status(client)).toEqual({ messages: 2, unseen: 1 });

    // The dead write is Alice's last: nothing above it in her journal shows it as a gap.
    await dieAfterAllocation(321);
    expect(await status(client)).toEqual({ messages: 3, unseen: 2 });
    expect(await selected()).toEqual({ messages: 2, unseen: 1 });
    expect(await statusConverges(client)).toEqual({ messages: 2, unseen: 1 });

    // A dead write with mail after it.
    await dieAfterAllocation(123);
    await append(client, 'a3', message('three'));
    expect(await status(client)).toEqual({ messages: 4, unseen: 3 });
    expect(await statusConverges(client)).toEqual({ messages: 3, unseen: 2 });

    // The marks go once done (the janitor removes them right after the recount), and the IDLE
    // session was told of the new message.
    const marks = db.collection('mailbox_recounts');
    for (const deadline = Date.now() + 5000; (await marks.countDocuments({})) > 0;) {
      expect(Date.now(), 'recount marks left').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await idler.readUntil(/^\* 3 EXISTS/, 10_000);
    idler.send('DONE\r\n');
    await idler.readUntil(/^i OK/);
    idler.close();
    client.close();
  }, 120_000);
});
