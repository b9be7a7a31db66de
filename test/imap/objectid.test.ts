/**
 * OBJECTID (RFC 8474) on both store engines: MAILBOXID in CREATE's OK, SELECT and STATUS, kept by
 * RENAME; EMAILID in FETCH, the same after COPY and MOVE (it names the content), found by SEARCH
 * EMAILID; THREADID given to every message (its rules: test/imap/threadid.test.ts), and SEARCH
 * THREADID of an unknown id matching nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, mailboxWith, newAccount } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe.each(['sqlite', 'mongodb'] as const)('OBJECTID on %s', (engine) => {
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
  }, 120_000);
  afterEach(closeClients);
  afterAll(async () => {
    await server?.stop();
    await mongo?.stop();
  }, 60_000);

  it('gives mailboxes a MAILBOXID that RENAME keeps (RFC 8474 4)', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* OBJECTID( |\r\n)/m);
    const created = /^3 OK \[MAILBOXID \((\w+)\)\] CREATE completed\r\n$/m.exec(
      await client.command('3', 'CREATE foo'),
    );
    expect(created).not.toBeNull();
    const id = created![1]!;
    expect(id).toBe((await server.server.store.getMailbox(account.userId, 'foo'))!.id);
    expect(await client.command('4', 'CREATE bar')).not.toMatch(new RegExp(`MAILBOXID \\(${id}\\)`));
    expect(await client.command('5', 'RENAME foo renamed')).toMatch(/^5 OK/m);
    expect(await client.command('6', 'STATUS renamed (MAILBOXID)')).toMatch(
      new RegExp(`^\\* STATUS "renamed" \\(MAILBOXID \\(${id}\\)\\)`, 'm'),
    );
    expect(await client.command('7', 'EXAMINE renamed')).toMatch(
      new RegExp(`^\\* OK \\[MAILBOXID \\(${id}\\)\\] Ok\\r\\n`, 'm'),
    );
  });

  it('gives messages an EMAILID kept by COPY and MOVE, searchable, and a THREADID', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'INBOX', [[], ['\\Seen']]);
    const client = await loggedIn(account);
    await client.command('s', 'SELECT INBOX');
    const fetched = await client.command('f1', 'UID FETCH 1:2 (EMAILID THREADID)');
    const ids = [
      ...fetched.matchAll(
        /^\* \d FETCH \(UID (\d) EMAILID \((M[0-9a-f]{24})\) THREADID \(T[0-9a-f]{16}\)\)/gm,
      ),
    ].map((m) => m[2]!);
    expect(ids, fetched).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    expect(await client.command('c1', 'UID COPY 1 Archive')).toMatch(/^c1 OK/m);
    expect(await client.command('m1', 'UID MOVE 2 Archive')).toMatch(/^m1 OK/m);
    await client.command('s2', 'SELECT Archive');
    expect(await client.command('f2', 'FETCH 1:2 (EMAILID)')).toBe(
      `* 1 FETCH (EMAILID (${ids[0]}))\r\n* 2 FETCH (EMAILID (${ids[1]}))\r\nf2 OK FETCH completed\r\n`,
    );
    expect(await client.command('q1', `UID SEARCH EMAILID ${ids[1]}`)).toMatch(/^\* SEARCH 2\r\n/m);
    expect(await client.command('q2', 'UID SEARCH EMAILID Mnothing')).toMatch(/^\* SEARCH\r\n/m);
    expect(await client.command('q3', 'UID SEARCH THREADID T1')).toMatch(/^\* SEARCH\r\n/m);
    expect(await client.command('q4', 'UID SEARCH EMAILID')).toMatch(/^q4 BAD /m);
  });
});
