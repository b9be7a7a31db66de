/**
 * The STATUS counters' repair (recount.ts) under concurrent writers: two stores on one database
 * (as two server processes) append, flag, expunge and move while the mailboxes are recounted over
 * and over; at the end the counters equal what the messages say. A recount that ignored writes in
 * flight, or wrote a result another writer had overtaken, would leave them off for good. And, step
 * by step with the database driven directly as a writer would: an append caught between its UID
 * allocation and its insert holds a recount back while it lives, and is given up and recounted
 * when it died.
 */
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { freshDatabaseUri } from '../../../test/helpers/mongo.ts';
import { mongoForTests } from '../../../test/helpers/mongo-suite.ts';
import type { Store } from '../types.ts';
import { MongoStore } from './store.ts';

const baseUri = mongoForTests();

/** What the messages say, as STATUS would count them. */
async function truth(
  store: Store,
  mailboxId: string,
): Promise<{ messages: number; unseen: number; bytes: number }> {
  const listed = await store.listMessages(mailboxId);
  return {
    messages: listed.length,
    unseen: listed.filter((m) => !m.flags.includes('\\Seen')).length,
    bytes: listed.reduce((total, m) => total + m.size, 0),
  };
}

async function counted(
  store: Store,
  mailboxId: string,
): Promise<{ messages: number; unseen: number; bytes: number }> {
  const { messages, unseen, bytes } = await store.mailboxCounts(mailboxId);
  return { messages, unseen, bytes };
}

describe('STATUS counter recount (mongodb engine)', () => {
  it('recounts racing appends, flag changes, expunges and moves leave the counters exact', async () => {
    const uri = freshDatabaseUri(baseUri());
    // The janitors stay off: the test runs the rounds, and checks before any later round heals.
    const options = { recountEveryMs: 0 };
    const [one, two] = [await MongoStore.open(uri, options), await MongoStore.open(uri, options)];
    try {
      const user = await one.createUser({ username: 'busy@example.com', passwordHash: 'x' });
      const inbox = (await one.getMailbox(user.id, 'INBOX'))!;
      const archive = (await one.getMailbox(user.id, 'Archive'))!;
      let running = true;
      const writer = async (store: MongoStore, tag: string) => {
        for (let i = 0; running; i++) {
          const body = Buffer.from(`Subject: ${tag} ${i}\r\n\r\n${'x'.repeat(i % 50)}\r\n`);
          const { uid } = await store.append(inbox.id, body, { flags: i % 3 === 0 ? ['\\Seen'] : [] });
          if (i % 2 === 0) await store.storeFlags(inbox.id, [uid], 'add', ['\\Seen']);
          if (i % 4 === 1) await store.storeFlags(inbox.id, [uid], 'remove', ['\\Seen']);
          if (i % 5 === 2) {
            await store.storeFlags(inbox.id, [uid], 'add', ['\\Deleted']);
            await store.expunge(inbox.id, [uid]);
          }
          if (i % 7 === 3) await store.moveMessages(inbox.id, [uid], archive.id);
          // Now and then a pause, as between two clients' commands, so recounts can complete.
          if (i % 3 === 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
        }
      };
      let recounts = 0;
      let recounting = true;
      const recounter = async (store: MongoStore) => {
        while (recounting) {
          await store.requestRecount(inbox.id);
          await store.requestRecount(archive.id);
          if ((await store.recountNow()) < 2) recounts++;
        }
      };
      const writers = [writer(one, 'one'), writer(two, 'two')];
      const recounters = [recounter(one), recounter(two)];
      // Enough completed recounts that they land inside every kind of write.
      while (recounts < 200) await new Promise((resolve) => setTimeout(resolve, 50));
      recounting = false;
      await Promise.all(recounters);
      running = false;
      await Promise.all(writers);

      // Right without one more recount: no recount made them wrong (a later one could hide it).
      for (const box of [inbox, archive]) {
        const expected = await truth(one, box.id);
        expect(expected.messages).toBeGreaterThan(0);
        expect(await counted(one, box.id)).toEqual(expected);
        expect(await counted(two, box.id)).toEqual(expected);
      }
      // The marks left (writes were in flight) are recounted once the writers are quiet.
      for (let round = 0; (await one.pendingRecounts()) > 0; round++) {
        expect(round, 'marks still pending').toBeLessThan(50);
        await one.recountNow();
      }
      expect(await counted(one, inbox.id)).toEqual(await truth(one, inbox.id));
      expect(await one.checkIntegrity()).toEqual([]);
    } finally {
      await one.close();
      await two.close();
    }
  }, 120_000);

  it('an append between allocation and insert holds the recount back; a dead one is recounted', async () => {
    const uri = freshDatabaseUri(baseUri());
    const store = await MongoStore.open(uri, { recountEveryMs: 0 });
    const direct = new MongoClient(uri);
    try {
      const db = direct.db();
      const user = await store.createUser({ username: 'halfway@example.com', passwordHash: 'x' });
      const inbox = (await store.getMailbox(user.id, 'INBOX'))!;
      const first = await store.append(inbox.id, Buffer.from('Subject: one\r\n\r\none\r\n'));
      await store.append(inbox.id, Buffer.from('Subject: two\r\n\r\ntwo\r\n'), { flags: ['\\Seen'] });
      const template = await db.collection('messages').findOne({ mailbox: Number(inbox.id), uid: first.uid });
      // What appendMessage does before its insert: body reference and quota, then the allocation
      // (journal position, then UID, MODSEQ and the counters in one write of the mailbox).
      const allocate = async () => {
        await db.collection('blobs').updateOne({ _id: template!.blob }, { $inc: { refs: 1 } });
        await db
          .collection<{ _id: number }>('users')
          .updateOne({ _id: Number(user.id) }, { $inc: { usedBytes: template!.size } });
        const counter = await db
          .collection<{ _id: string; seq: number }>('counters')
          .findOneAndUpdate(
            { _id: `journal:${user.id}` },
            { $inc: { seq: 1 } },
            { returnDocument: 'before' },
          );
        const position = counter!.seq + 1;
        const before = await db.collection('mailboxes').findOneAndUpdate(
          { _id: Number(inbox.id) as never },
          {
            $inc: {
              uidNext: 1,
              highestModseq: 1,
              messageCount: 1,
              unseenCount: 1,
              byteCount: template!.size,
            },
            $set: { userJournalMark: position },
          },
          { returnDocument: 'before' },
        );
        return { position, uid: before!.uidNext as number, modseq: (before!.highestModseq as number) + 1 };
      };

      // A live writer: while its position is open, a recount must not run.
      const live = await allocate();
      await store.requestRecount(inbox.id);
      expect(await store.recountNow()).toBe(1);
      expect((await counted(store, inbox.id)).messages).toBe(3);
      // It inserts and journals its message: the counters are right as they are.
      const { _id: _, ...copy } = template!;
      await db
        .collection('messages')
        .insertOne({ ...copy, uid: live.uid, modseq: live.modseq, seen: false, flags: [] });
      await db.collection('user_journal').insertOne({
        _id: `${user.id}:${live.position}` as never,
        user: Number(user.id),
        pos: live.position,
        mailbox: Number(inbox.id),
        kind: 'message-new',
        uid: live.uid,
        modseq: live.modseq,
        flags: [],
        path: null,
        oldPath: null,
        at: new Date(),
      });
      expect(await counted(store, inbox.id)).toEqual(await truth(store, inbox.id));
      expect(await store.recountNow()).toBe(0);
      expect(await counted(store, inbox.id)).toEqual(await truth(store, inbox.id));

      // A writer that dies after its allocation: the last thing of this user, so no entry above
      // shows its position as a gap. A session's reads of the journal give it up, and the janitor
      // recounts; polled, as a session would.
      await allocate();
      expect((await counted(store, inbox.id)).messages).toBe(4);
      const head = await store.journalHead(user.id);
      const deadline = Date.now() + 15_000;
      while (
        JSON.stringify(await counted(store, inbox.id)) !== JSON.stringify(await truth(store, inbox.id))
      ) {
        expect(Date.now(), 'counters not repaired in time').toBeLessThan(deadline);
        await store.readJournal(new Map([[user.id, head]]));
        await store.recountNow();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await counted(store, inbox.id)).toEqual({
        messages: 3,
        unseen: 2,
        bytes: (await truth(store, inbox.id)).bytes,
      });
      expect(await store.pendingRecounts()).toBe(0);
      // The dead writer's body reference and bytes stay counted: a leak, never damage.
      expect(await store.checkIntegrity({ allowLeaks: true })).toEqual([]);
    } finally {
      await direct.close();
      await store.close();
    }
  }, 120_000);
});
