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
import { startTestServer } from '../test/helpers/server.ts';
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
    const store = server.server.store;
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
  } finally {
    await direct.close();
    await server.stop();
    await standIn.stop();
  }
}

await main();
