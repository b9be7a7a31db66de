/**
 * UIDONLY (RFC 9586) over real TCP against a real server, on both store engines: ENABLE UIDONLY,
 * `BAD [UIDREQUIRED]` for every command by sequence number (and sequence sets among search keys),
 * `* uid UIDFETCH` for UID FETCH, UID STORE, another session's flag changes and a QRESYNC reselect,
 * `* VANISHED` for expunges; and the per-account switch (User.uidOnly, set through the admin API)
 * over the server default (imap.uidonly): where it is off, UIDONLY is neither advertised after
 * login nor enabled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mailbox } from '../../server/store/types.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

/** The admin API of a test server, as the panel calls it. */
function adminApi(server: TestServer) {
  const { url, token } = server.server.admin!;
  return {
    async call(method: string, path: string, { body }: { body: unknown }) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer checked field by field
      return { status: response.status, body: (await response.json()) as any };
    },
  };
}

const mail = (subject: string) => Buffer.from(`From: a@example.org\r\nSubject: ${subject}\r\n\r\nbody\r\n`);

describe.each(['sqlite', 'mongodb'] as const)('UIDONLY on %s', (engine) => {
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

  /** Box with 4 messages at UIDs 3..6 (sequence numbers 1..4). */
  async function box(): Promise<{ account: Account; mailbox: Mailbox }> {
    const account = await newAccount(server);
    const { store } = server.server;
    const mailbox = await store.createMailbox(account.userId, 'Box');
    for (let i = 0; i < 2; i++) await store.append(mailbox.id, mail('gone'));
    await store.deleteMessages(mailbox.id, [1, 2]);
    for (let i = 1; i <= 4; i++) await store.append(mailbox.id, mail(`m${i}`));
    await store.claimRecent(mailbox.id);
    return { account, mailbox };
  }

  async function uidOnlyClient(account: Account): Promise<LineClient> {
    const client = await loggedIn(account);
    expect(await client.command('e', 'ENABLE UIDONLY')).toBe(
      '* ENABLED UIDONLY\r\ne OK ENABLE completed\r\n',
    );
    expect(await client.command('s', 'SELECT Box')).toMatch(/^s OK /m);
    return client;
  }

  it('is advertised after login only', async () => {
    const { account } = await box();
    const client = await loggedIn(account);
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* UIDONLY\r\n/m);
    await client.command('u', 'UNAUTHENTICATE');
    expect(await client.command('c2', 'CAPABILITY')).not.toMatch(/UIDONLY/);
  });

  it('refuses every command by sequence number with BAD [UIDREQUIRED]', async () => {
    const { account } = await box();
    const client = await uidOnlyClient(account);
    for (const command of [
      'FETCH 1 (FLAGS)',
      'STORE 1 +FLAGS (\\Seen)',
      'COPY 1 INBOX',
      'MOVE 1 INBOX',
      'SEARCH ALL',
      'SORT (ARRIVAL) UTF-8 ALL',
      'THREAD REFERENCES UTF-8 ALL',
      'UID SEARCH 1:2',
      'UID SEARCH OR SEEN NOT 1',
      'UID SORT (ARRIVAL) UTF-8 2',
    ]) {
      expect(await client.command('b', command)).toMatch(/^b BAD \[UIDREQUIRED\] /m);
    }
    // Nothing was done: no \Seen, nothing copied.
    expect(await client.command('f', 'UID FETCH 3 (FLAGS)')).toBe(
      '* 3 UIDFETCH (UID 3 FLAGS ())\r\nf OK UID FETCH completed\r\n',
    );
    expect(await client.command('t', 'STATUS INBOX (MESSAGES)')).toMatch(/MESSAGES 0/);
  });

  it('answers UID FETCH and UID STORE with UIDFETCH', async () => {
    const { account } = await box();
    const client = await uidOnlyClient(account);
    expect(await client.command('f1', 'UID FETCH 4:5 (UID FLAGS)')).toBe(
      '* 4 UIDFETCH (UID 4 FLAGS ())\r\n* 5 UIDFETCH (UID 5 FLAGS ())\r\nf1 OK UID FETCH completed\r\n',
    );
    expect(await client.command('f2', 'UID FETCH 6 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).toMatch(
      /^\* 6 UIDFETCH \(UID 6 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: m4\r\n\r\n\)\r\nf2 OK /,
    );
    expect(await client.command('s1', 'UID STORE 3 +FLAGS (\\Flagged)')).toBe(
      '* 3 UIDFETCH (FLAGS (\\Flagged) UID 3)\r\ns1 OK UID STORE completed\r\n',
    );
    expect(await client.command('s2', 'UID SEARCH FLAGGED')).toBe(
      '* SEARCH 3\r\ns2 OK UID SEARCH completed\r\n',
    );
  });

  it("reports another session's changes as UIDFETCH and VANISHED", async () => {
    const { account } = await box();
    const client = await uidOnlyClient(account);
    const other = await loggedIn(account);
    await other.command('o0', 'SELECT Box');
    await other.command('o1', 'UID STORE 4 +FLAGS.SILENT (\\Seen)');
    expect(await client.command('n1', 'NOOP')).toBe(
      '* 4 UIDFETCH (UID 4 FLAGS (\\Seen))\r\nn1 OK NOOP completed\r\n',
    );
    await other.command('o2', 'UID STORE 5,6 +FLAGS.SILENT (\\Deleted)');
    await other.command('o3', 'EXPUNGE');
    expect(await client.command('n2', 'NOOP')).toBe('* VANISHED 5:6\r\nn2 OK NOOP completed\r\n');
    // Its own expunge too.
    await client.command('d', 'UID STORE 3 +FLAGS.SILENT (\\Deleted)');
    expect(await client.command('x', 'UID EXPUNGE 3')).toBe('* VANISHED 3\r\nx OK UID EXPUNGE completed\r\n');
  });

  it('is off for an account whose setting says so, whatever the server default', async () => {
    const { account } = await box();
    const admin = adminApi(server);
    const off = await admin.call('PATCH', `/api/users/${account.userId}`, { body: { uidOnly: false } });
    expect(off.status).toBe(200);
    expect(off.body.uidOnly).toBe(false);
    const client = await loggedIn(account);
    expect(await client.command('c', 'CAPABILITY')).not.toMatch(/UIDONLY/);
    expect(await client.command('e', 'ENABLE UIDONLY')).toBe('* ENABLED\r\ne OK ENABLE completed\r\n');
    await client.command('s', 'SELECT Box');
    expect(await client.command('f', 'FETCH 1 (UID)')).toBe('* 1 FETCH (UID 3)\r\nf OK FETCH completed\r\n');
    // Back to the server's default (on).
    const reset = await admin.call('PATCH', `/api/users/${account.userId}`, { body: { uidOnly: null } });
    expect(reset.body.uidOnly).toBeNull();
    const again = await loggedIn(account);
    expect(await again.command('c', 'CAPABILITY')).toMatch(/ UIDONLY\r\n/);
    expect(
      (await admin.call('PATCH', `/api/users/${account.userId}`, { body: { uidOnly: 'no' } })).status,
    ).toBe(400);
  });
});

describe('UIDONLY with the server default off', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ MALLARD_IMAP_UIDONLY: 'false' });
  });
  afterAll(async () => {
    closeClients();
    await server?.stop();
  });

  it('is offered only to accounts that have it on', async () => {
    const plain = await newAccount(server);
    const client = await loggedIn(plain);
    expect(await client.command('c', 'CAPABILITY')).not.toMatch(/UIDONLY/);
    const chosen = await newAccount(server);
    await server.server.store.updateUser(chosen.userId, { uidOnly: true });
    const other = await loggedIn(chosen);
    expect(await other.command('c', 'CAPABILITY')).toMatch(/ UIDONLY\r\n/);
    expect(await other.command('e', 'ENABLE UIDONLY')).toBe('* ENABLED UIDONLY\r\ne OK ENABLE completed\r\n');
  });
});
