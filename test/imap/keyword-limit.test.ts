/**
 * The limit on distinct keywords per mailbox (`limits.max_keywords_per_mailbox`), on both store
 * engines: a STORE, APPEND, COPY or MOVE that would pass it answers NO [LIMIT] and changes
 * nothing; keywords the mailbox already has can still be set, and anything under the limit works.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, mailboxWith, newAccount, storedFlags } from '../helpers/mail-fixtures.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const LIMIT = 5;
const keywords = (from: number, count: number) =>
  Array.from({ length: count }, (_, index) => `kw${from + index}`).join(' ');

describe.each(['sqlite', 'mongodb'] as const)('keyword limit on %s', (engine) => {
  let server: TestServer;
  let mongo: MongoStandIn | null = null;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = { MALLARD_LIMITS_MAX_KEYWORDS_PER_MAILBOX: String(LIMIT) };
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

  async function selectedBox() {
    const account = await newAccount(server);
    const mailbox = await mailboxWith(account, 'Box', [[], ['\\Seen']]);
    const client = await loggedIn(account);
    expect(await client.command('s', 'SELECT Box')).toMatch(/^s OK /m);
    return { account, mailbox, client };
  }

  it('refuses a STORE that would pass the limit, and changes nothing', async () => {
    const { account, mailbox, client } = await selectedBox();
    expect(await client.command('a', `STORE 1 +FLAGS (${keywords(0, LIMIT - 1)})`)).toMatch(/^a OK/m);
    const before = await storedFlags(account, mailbox.id);
    expect(await client.command('b', `STORE 1:2 +FLAGS (\\Flagged ${keywords(LIMIT - 1, 2)})`)).toBe(
      `b NO [LIMIT] Too many keywords in this mailbox (at most ${LIMIT}); nothing was changed\r\n`,
    );
    expect(await storedFlags(account, mailbox.id)).toEqual(before);
    expect(await server.server.store.listKeywords(mailbox.id)).toHaveLength(LIMIT - 1);
    // Up to the limit, and keywords the mailbox has (in any case), still work.
    expect(await client.command('c', `STORE 2 +FLAGS (${keywords(LIMIT - 1, 1)})`)).toMatch(/^c OK/m);
    expect(await client.command('d', 'STORE 2 FLAGS (KW0 kw1 \\Seen)')).toMatch(/^d OK/m);
    expect(await client.command('e', 'STORE 1 -FLAGS (kw0)')).toMatch(/^e OK/m);
    expect(await client.command('f', 'STORE 1 +FLAGS (one-too-many)')).toMatch(/^f NO \[LIMIT\]/m);
  }, 30_000);

  it('refuses an APPEND that would pass the limit, and stores nothing', async () => {
    const { account, mailbox, client } = await selectedBox();
    const message = 'Subject: x\r\n\r\nbody\r\n';
    const before = Object.keys(await storedFlags(account, mailbox.id)).length;
    client.send(`a APPEND Box (${keywords(0, LIMIT + 1)}) {${message.length}+}\r\n${message}\r\n`);
    expect(await client.readUntil(/^a (OK|NO|BAD)/)).toMatch(/^a NO \[LIMIT\] Too many keywords/m);
    expect(Object.keys(await storedFlags(account, mailbox.id))).toHaveLength(before);
    // INBOX is not selected: its list comes from the store.
    client.send(`b APPEND INBOX (${keywords(0, LIMIT)}) {${message.length}+}\r\n${message}\r\n`);
    expect(await client.readUntil(/^b (OK|NO|BAD)/)).toMatch(/^b OK/m);
    client.send(`c APPEND INBOX (other) {${message.length}+}\r\n${message}\r\n`);
    expect(await client.readUntil(/^c (OK|NO|BAD)/)).toMatch(/^c NO \[LIMIT\]/m);
  }, 30_000);

  it('refuses a COPY or MOVE whose keywords the target has no room for', async () => {
    const { account, client } = await selectedBox();
    const full = await mailboxWith(account, 'Full', [[...keywords(100, LIMIT).split(' ')]]);
    expect(await client.command('a', `STORE 1 +FLAGS (${keywords(0, 2)})`)).toMatch(/^a OK/m);
    expect(await client.command('b', 'COPY 1 Full')).toMatch(/^b NO \[LIMIT\]/m);
    expect(await client.command('c', 'MOVE 1 Full')).toMatch(/^c NO \[LIMIT\]/m);
    expect(Object.keys(await storedFlags(account, full.id))).toHaveLength(1);
    // A message without keywords still goes.
    expect(await client.command('d', 'COPY 2 Full')).toMatch(/^d OK/m);
  }, 30_000);
});
