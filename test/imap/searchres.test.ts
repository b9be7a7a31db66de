/**
 * Transcripts for SEARCHRES (RFC 5182) over real TCP against a real server, on both store engines:
 * SEARCH RETURN (SAVE) and `$` in FETCH, STORE, COPY, MOVE, SEARCH and their UID forms, the RFC's
 * own examples' shapes, MIN/MAX saving, `$` emptied by SELECT and shrunk by EXPUNGE (also one done
 * by another session).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mailbox } from '../../server/store/types.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

const mail = (subject: string) => Buffer.from(`From: a@example.org\r\nSubject: ${subject}\r\n\r\nbody\r\n`);

describe.each(['sqlite', 'mongodb'] as const)('SEARCHRES on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {};
    if (engine === 'mongodb') {
      mongo = await startMongoStandIn();
      env.MALLARD_STORE_ENGINE = 'mongodb';
      env.MALLARD_STORE_MONGODB_URI = freshDatabaseUri(mongo.uri);
    }
    server = await startTestServer(env);
  });
  afterAll(async () => {
    closeClients();
    await server?.stop();
    await mongo?.stop();
  });

  /** Box with 5 messages at UIDs 3..7 (sequence numbers 1..5); 2 and 4 are \Flagged. */
  async function selectedBox(): Promise<{ account: Account; mailbox: Mailbox; client: LineClient }> {
    const account = await newAccount(server);
    const { store } = server.server;
    const mailbox = await store.createMailbox(account.userId, 'Box');
    await store.createMailbox(account.userId, 'Other');
    for (let i = 0; i < 2; i++) await store.append(mailbox.id, mail('gone'));
    await store.deleteMessages(mailbox.id, [1, 2]);
    for (let i = 1; i <= 5; i++) {
      await store.append(mailbox.id, mail(`m${i}`), { flags: i % 2 === 0 ? ['\\Flagged'] : [] });
    }
    await store.claimRecent(mailbox.id);
    const client = await loggedIn(account);
    expect(await client.command('S', 'SELECT Box')).toMatch(/^S OK /m);
    return { account, mailbox, client };
  }

  it('advertises SEARCHRES', async () => {
    const { client } = await selectedBox();
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* SEARCHRES/m);
  });

  it('saves a result without answering, then FETCH, STORE and SEARCH use $ (RFC 5182 examples)', async () => {
    const { client } = await selectedBox();
    expect(await client.command('A282', 'SEARCH RETURN (SAVE) FLAGGED')).toBe('A282 OK SEARCH completed\r\n');
    expect(await client.command('A283', 'FETCH $ (UID)')).toBe(
      '* 2 FETCH (UID 4)\r\n* 4 FETCH (UID 6)\r\nA283 OK FETCH completed\r\n',
    );
    expect(await client.command('A284', 'UID FETCH $ (FLAGS)')).toBe(
      '* 2 FETCH (UID 4 FLAGS (\\Flagged))\r\n* 4 FETCH (UID 6 FLAGS (\\Flagged))\r\nA284 OK UID FETCH completed\r\n',
    );
    expect(await client.command('A285', 'STORE $ +FLAGS.SILENT (\\Answered)')).toBe(
      'A285 OK STORE completed\r\n',
    );
    expect(await client.command('A286', 'SEARCH ANSWERED')).toBe(
      '* SEARCH 2 4\r\nA286 OK SEARCH completed\r\n',
    );
    expect(await client.command('A287', 'SEARCH OR $ 1 NOT 5')).toBe(
      '* SEARCH 1 2 4\r\nA287 OK SEARCH completed\r\n',
    );
    expect(await client.command('A288', 'UID SEARCH UID $')).toBe(
      '* SEARCH 4 6\r\nA288 OK UID SEARCH completed\r\n',
    );
    expect(await client.command('A289', 'SEARCH $ SUBJECT m4')).toBe(
      '* SEARCH 4\r\nA289 OK SEARCH completed\r\n',
    );
  });

  it('answers ESEARCH beside SAVE, and saves only MIN/MAX when asked for only those', async () => {
    const { client } = await selectedBox();
    expect(await client.command('a', 'UID SEARCH RETURN (SAVE COUNT) ALL')).toBe(
      '* ESEARCH (TAG "a") UID COUNT 5\r\na OK UID SEARCH completed\r\n',
    );
    expect(await client.command('b', 'SEARCH $')).toBe('* SEARCH 1 2 3 4 5\r\nb OK SEARCH completed\r\n');
    expect(await client.command('c', 'SEARCH RETURN (MIN MAX SAVE) NOT FLAGGED')).toBe(
      '* ESEARCH (TAG "c") MIN 1 MAX 5\r\nc OK SEARCH completed\r\n',
    );
    expect(await client.command('d', 'SEARCH $')).toBe('* SEARCH 1 5\r\nd OK SEARCH completed\r\n');
    expect(await client.command('e', 'SEARCH RETURN (SAVE) SUBJECT nothing')).toBe(
      'e OK SEARCH completed\r\n',
    );
    expect(await client.command('f', 'FETCH $ (UID)')).toBe('f OK FETCH completed\r\n');
  });

  it('COPY $ and MOVE $, by sequence number and by UID', async () => {
    const { client } = await selectedBox();
    await client.command('s', 'SEARCH RETURN (SAVE) FLAGGED');
    expect(await client.command('c', 'COPY $ Other')).toMatch(/^c OK \[COPYUID \d+ 4,6 1:2\] /m);
    expect(await client.command('m', 'UID MOVE $ Other')).toMatch(
      /^\* OK \[COPYUID \d+ 4,6 3:4\][^\r]*\r\n\* 4 EXPUNGE\r\n\* 2 EXPUNGE\r\nm OK /,
    );
    // The moved messages left the mailbox, and $ with them.
    expect(await client.command('f', 'FETCH $ (UID)')).toBe('f OK FETCH completed\r\n');
  });

  it('empties $ on SELECT and drops expunged messages, also expunged by another session', async () => {
    const { account, client } = await selectedBox();
    await client.command('s', 'SEARCH RETURN (SAVE) ALL');
    expect(await client.command('x', 'STORE 1 +FLAGS.SILENT (\\Deleted)')).toMatch(/^x OK/m);
    expect(await client.command('e', 'EXPUNGE')).toMatch(/^\* 1 EXPUNGE\r\n/);
    expect(await client.command('a', 'UID SEARCH $')).toBe(
      '* SEARCH 4 5 6 7\r\na OK UID SEARCH completed\r\n',
    );
    const other = await loggedIn(account);
    await other.command('o1', 'SELECT Box');
    await other.command('o2', 'UID STORE 5 +FLAGS.SILENT (\\Deleted)');
    await other.command('o3', 'UID EXPUNGE 5');
    expect(await client.command('n', 'NOOP')).toMatch(/^\* 2 EXPUNGE\r\n/m);
    expect(await client.command('b', 'UID SEARCH $')).toBe('* SEARCH 4 6 7\r\nb OK UID SEARCH completed\r\n');
    expect(await client.command('c', 'SELECT Box')).toMatch(/^c OK/m);
    expect(await client.command('d', 'SEARCH $')).toBe('* SEARCH\r\nd OK SEARCH completed\r\n');
  });
});
