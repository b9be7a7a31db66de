/**
 * Transcripts for THREAD and UID THREAD (RFC 5256): ORDEREDSUBJECT, REFERENCES and REFS over real
 * TCP against a real server, on both store engines, with In-Reply-To only, References chains, a
 * referenced message that is not there (a dummy parent), a reply joined by subject alone, a
 * reference loop, a missing Message-ID and a broken Date.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../server/store/sqlite/database.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

function mail(day: number | null, subject: string, headers: string[] = []): Buffer {
  const date = day === null ? 'Date: not a date' : `Date: ${day} Jan 2025 10:00:00 +0000`;
  return Buffer.from(
    ['From: a@example.org', `Subject: ${subject}`, date, ...headers, '', 'body', ''].join('\r\n'),
  );
}

/** Sequence numbers 1..10. */
const BOX = [
  mail(1, 'Plans', ['Message-ID: <1@x>']),
  mail(2, 'Re: Plans', ['Message-ID: <2@x>', 'In-Reply-To: <1@x>']),
  mail(3, 'Re: Plans', ['Message-ID: <3@x>', 'References: <1@x>\r\n <2@x>']),
  mail(4, 'Re: Plans', ['Message-ID: <4@x>', 'References: <1@x>']),
  mail(5, 'Re: Trip', ['Message-ID: <5@x>', 'References: <gone@x>']),
  mail(6, 'Trip', ['Message-ID: <6@x>', 'References: <gone@x>']),
  mail(7, 'Re: Plans', ['Message-ID: <7@x>']),
  mail(null, 'Lonely'),
  mail(9, 'Loop', ['Message-ID: <9@x>', 'References: <10@x>']),
  mail(10, 'Re: Loop', ['Message-ID: <10@x>', 'References: <9@x>']),
];

describe.each(['sqlite', 'mongodb'] as const)('THREAD on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;
  let client: LineClient;
  let account: Account;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {};
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
    }
    server = await startTestServer(env);
    account = await newAccount(server);
    const { store } = server.server;
    const mailbox = await store.createMailbox(account.userId, 'Box');
    // UIDs are sequence numbers + 10.
    for (let i = 0; i < 10; i++) await store.append(mailbox.id, Buffer.from('Subject: gone\r\n\r\ngone\r\n'));
    await store.deleteMessages(mailbox.id, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const [i, raw] of BOX.entries()) {
      await store.append(mailbox.id, raw, { internalDate: new Date(Date.UTC(2025, 5, i + 1, 12)) });
    }
    if (engine === 'sqlite') {
      // Every other message as stored before the MIME index kept References: THREAD reads those
      // from the stored header instead, and must answer the same.
      const db = new Database(path.join(server.config.data_dir, DATABASE_FILE));
      const changed = db
        .prepare("UPDATE blobs SET mime_index = json_remove(mime_index, '$.references') WHERE rowid % 2 = 0")
        .run().changes;
      db.close();
      expect(changed).toBeGreaterThanOrEqual(4);
    }
    client = await loggedIn(account);
    expect(await client.command('S', 'SELECT Box')).toMatch(/^S OK /m);
  });
  afterAll(async () => {
    closeClients();
    await server?.stop();
    await mongo?.stop();
  });

  async function expectThread(command: string, expected: string): Promise<void> {
    const uid = command.startsWith('UID ');
    expect(await client.command('t', command), command).toBe(
      `* THREAD${expected ? ` ${expected}` : ''}\r\nt OK ${uid ? 'UID ' : ''}THREAD completed\r\n`,
    );
  }

  it('advertises the three algorithms', async () => {
    expect(await client.command('c', 'CAPABILITY')).toMatch(
      /^\* CAPABILITY .* THREAD=ORDEREDSUBJECT THREAD=REFERENCES THREAD=REFS/m,
    );
  });

  it('THREAD=ORDEREDSUBJECT: one thread per base subject, the first message the parent', async () => {
    // The broken Date of 8 falls back to its internal date (June): its thread comes last.
    await expectThread('THREAD ORDEREDSUBJECT UTF-8 ALL', '(1 (2)(3)(4)(7))(5 6)(9 10)(8)');
    await expectThread('THREAD ORDEREDSUBJECT US-ASCII SUBJECT "trip"', '(5 6)');
  });

  it('THREAD=REFERENCES: links, a dummy parent, subject grouping and a loop broken', async () => {
    // 7 has no references and joins "Plans" by its subject; <gone@x> is a dummy with 5 and 6;
    // 9 and 10 reference each other: 10 (processed second) stays the parent.
    await expectThread('THREAD REFERENCES UTF-8 ALL', '(1 (2 3)(4)(7))((5)(6))(10 9)(8)');
    await expectThread('UID THREAD REFERENCES UTF-8 ALL', '(11 (12 13)(14)(17))((15)(16))(20 19)(18)');
    // Only what the search matches: without 2, <2@x> is a dummy under 1 with one child, 3, which
    // takes its place.
    await expectThread('THREAD REFERENCES UTF-8 NOT 2', '(1 (3)(4)(7))((5)(6))(10 9)(8)');
    await expectThread('THREAD REFERENCES UTF-8 TEXT "not in mailbox"', '');
  });

  it('THREAD=REFS: no subject grouping, threads ordered by their newest message', async () => {
    await expectThread('THREAD REFS UTF-8 ALL', '(1 (2 3)(4))((5)(6))(7)(10 9)(8)');
  });

  it('answers a repeated THREAD alike, and anew once a message comes or goes', async () => {
    const all = '(1 (2 3)(4)(7))((5)(6))(10 9)(8)';
    await expectThread('THREAD REFERENCES UTF-8 ALL', all);
    expect(await client.command('f', 'STORE 1:10 +FLAGS (\\Seen)')).toMatch(/^f OK /m);
    await expectThread('THREAD REFERENCES UTF-8 ALL', all);
    await expectThread('THREAD REFERENCES UTF-8 UNSEEN', '');
    await expectThread('THREAD REFERENCES UTF-8 ALL', all);
    const { store } = server.server;
    const box = (await store.getMailbox(account.userId, 'Box'))!;
    await store.append(box.id, mail(12, 'Re: Trip', ['Message-ID: <11@x>', 'References: <6@x>']));
    expect(await client.command('n', 'NOOP')).toMatch(/^\* 11 EXISTS/m);
    await expectThread('THREAD REFERENCES UTF-8 ALL', '(1 (2 3)(4)(7))((5)(6 11))(10 9)(8)');
    expect(await client.command('d', 'STORE 2 +FLAGS (\\Deleted)')).toMatch(/^d OK /m);
    expect(await client.command('e', 'EXPUNGE')).toMatch(/^\* 2 EXPUNGE/m);
    // <2@x> is now a dummy under 1 with one child, 3 (now 2), which takes its place.
    await expectThread('THREAD REFERENCES UTF-8 ALL', '(1 (2)(3)(6))((4)(5 10))(9 8)(7)');
    await expectThread('UID THREAD REFERENCES UTF-8 ALL', '(11 (13)(14)(17))((15)(16 21))(20 19)(18)');
  });

  it('refuses an unknown algorithm and other charsets', async () => {
    expect(await client.command('t', 'THREAD JWZ UTF-8 ALL')).toMatch(/^t BAD /);
    expect(await client.command('t', 'THREAD REFERENCES KOI8-R ALL')).toMatch(
      /^t NO \[BADCHARSET \(UTF-8 US-ASCII\)\] /,
    );
  });
});
