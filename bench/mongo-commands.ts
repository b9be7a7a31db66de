/**
 * Database commands per IMAP operation and per delivery on the mongodb engine, on a mailbox of
 * 100,000 messages (the MongoDB stand-in: commands are counted with the driver's command
 * monitoring, never timed, as the stand-in's speed says nothing about MongoDB's).
 *
 *   node bin/run-ts.mjs bench/mongo-commands.ts [--messages N]
 *
 * The mailbox is filled directly (1,000 bodies appended through the store, then their message
 * documents repeated under new UIDs), then a server runs in this process on it.
 */
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { hashPassword } from '../server/auth/password.ts';
import type { MessageDoc } from '../server/store/mongodb/schema.ts';
import { freshDatabaseUri, startMongoStandIn } from '../test/helpers/mongo.ts';
import { MongoStore } from '../server/store/mongodb/store.ts';
import { LineClient, startTestServer } from '../test/helpers/server.ts';
import { measureCommandCosts } from '../test/mongodb/command-costs.ts';

const { values: args } = parseArgs({ options: { messages: { type: 'string', default: '100000' } } });
const total = Math.max(1000, Number(args.messages));
const DISTINCT = 1000;
const USER = { username: 'bench@example.com', password: 'bench-password' };

async function main(): Promise<void> {
  const standIn = await startMongoStandIn();
  const uri = freshDatabaseUri(standIn.uri);
  const server = await startTestServer({ MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: uri });
  const direct = new MongoClient(uri);
  try {
    const store = server.server.store as MongoStore;
    const user = await store.createUser({
      username: USER.username,
      passwordHash: await hashPassword(USER.password),
    });
    const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
    for (let i = 0; i < DISTINCT; i++) {
      const subject = i === 7 ? 'needle-subject' : `message ${i}`;
      const body = i === 9 ? 'the needle-body is here' : `body ${i} ${'x'.repeat((i % 100) * 40)}`;
      await store.append(
        inbox.id,
        Buffer.from(`From: a@example.com\r\nSubject: ${subject}\r\n\r\n${body}\r\n`),
        {
          flags: i % 10 === 0 ? ['\\Flagged'] : i % 3 === 0 ? ['\\Seen'] : [],
        },
      );
    }
    const db = direct.db();
    const messages = db.collection<MessageDoc>('messages');
    const originals = await messages
      .find({ mailbox: Number(inbox.id) }, { projection: { _id: 0 } })
      .toArray();
    const mailbox = (await db.collection('mailboxes').findOne({ _id: Number(inbox.id) as never }))!;
    let uid = mailbox.uidNext as number;
    let modseq = mailbox.highestModseq as number;
    for (let made = DISTINCT; made < total;) {
      const batch: MessageDoc[] = [];
      for (; batch.length < 5000 && made < total; made++) {
        const original = originals[made % DISTINCT]!;
        batch.push({ ...original, uid: uid++, modseq: ++modseq, delivery: undefined });
      }
      await messages.insertMany(batch);
    }
    const copies = new Map<string, number>();
    for (let made = DISTINCT; made < total; made++) {
      const blob = originals[made % DISTINCT]!.blob;
      copies.set(blob, (copies.get(blob) ?? 0) + 1);
    }
    for (const [blob, count] of copies)
      await db.collection('blobs').updateOne({ _id: blob as never }, { $inc: { refs: count } });
    await db
      .collection('mailboxes')
      .updateOne({ _id: Number(inbox.id) as never }, { $set: { uidNext: uid, highestModseq: modseq } });
    const journal = await measureJournalFollowing(server, uri, store, inbox.id);
    const costs = await measureCommandCosts(
      server.server,
      { imap: server.imapPort, lmtp: server.lmtpPort },
      USER,
      10,
    );
    console.log(
      `\nmongodb engine: database commands per operation, INBOX of ${total} messages (command monitoring)\n`,
    );
    console.log('| operation | commands | of which |');
    console.log('| --- | ---: | --- |');
    for (const cost of costs) console.log(`| ${cost.operation} | ${cost.commands} | ${cost.detail} |`);
    console.log(
      `\njournal: while ${OTHER_USERS} other users got ${OTHER_USERS * PER_OTHER_USER} messages through ` +
        `another process, this process (one IDLE session of ${USER.username}) sent ` +
        `${journal.commands} journal commands and read ${journal.entries} journal entries, ` +
        `${journal.othersEntries} of them other users' (${journal.mode}).`,
    );
  } finally {
    await direct.close();
    await server.stop();
    await standIn.stop();
  }
}

/** Users receiving mail elsewhere while the measured process follows only the bench user. */
const OTHER_USERS = 20;
const PER_OTHER_USER = 10;

/**
 * What following the journal costs this process while other users get mail through another
 * process (a second store on the database): journal commands and entries read, by command
 * monitoring, from before the first delivery until 1 s (four polls) after the last.
 */
async function measureJournalFollowing(
  server: Awaited<ReturnType<typeof startTestServer>>,
  uri: string,
  store: MongoStore,
  inboxId: string,
): Promise<{ commands: number; entries: number; othersEntries: number; mode: string }> {
  const elsewhere = await MongoStore.open(uri);
  const imap = await LineClient.connect(server.imapPort);
  try {
    const others: string[] = [];
    for (let i = 0; i < OTHER_USERS; i++) {
      others.push(
        (await elsewhere.createUser({ username: `other${i}@example.com`, passwordHash: 'x' })).username,
      );
    }
    await imap.readUntil(/^\* OK/);
    await imap.command('l', `LOGIN ${USER.username} ${USER.password}`, 60_000);
    await imap.command('s', 'EXAMINE INBOX', 600_000);
    imap.send('i IDLE\r\n');
    await imap.readUntil(/^\+ /);
    const bench = (await store.getMailboxById(inboxId))!.userId;
    let commands = 0;
    let entries = 0;
    let othersEntries = 0;
    // Version 1 had one global `journal`; this one has `user_journal`.
    const journals = new Set(['journal', 'user_journal']);
    const stop = store.onCommandReply((command, reply) => {
      const collection = command.find ?? (command.getMore !== undefined ? command.collection : null);
      if (!journals.has(collection as string)) return;
      commands++;
      const cursor = reply.cursor as {
        firstBatch?: Array<{ user: number }>;
        nextBatch?: Array<{ user: number }>;
      };
      for (const doc of cursor?.firstBatch ?? cursor?.nextBatch ?? []) {
        entries++;
        if (String(doc.user) !== bench) othersEntries++;
      }
    });
    try {
      for (let round = 0; round < PER_OTHER_USER; round++) {
        for (const other of others)
          await elsewhere.deliver(other, Buffer.from(`Subject: for ${other}\r\n\r\nhi\r\n`));
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      stop();
    }
    imap.send('DONE\r\n');
    await imap.readUntil(/^i OK/);
    return { commands, entries, othersEntries, mode: (await store.health()).detail };
  } finally {
    imap.close();
    await elsewhere.close();
  }
}

await main();
