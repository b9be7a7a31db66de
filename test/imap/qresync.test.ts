/**
 * Transcripts for QRESYNC (RFC 7162 3.2) over real TCP against a real server: ENABLE, SELECT and
 * EXAMINE (QRESYNC ...) with VANISHED (EARLIER) and the changed flags, the RFC's examples adapted
 * to this mailbox (known UIDs, sequence match data), unsolicited VANISHED instead of EXPUNGE (own
 * EXPUNGE, MOVE, another session's expunge while IDLE), UID FETCH (CHANGEDSINCE n VANISHED), and
 * the larger answer past what the store remembers (an imported mailbox, RFC 7162 3.2.5.2).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Mailbox } from '../../server/store/types.ts';
import {
  closeClients,
  loggedIn,
  mailboxWith,
  newAccount,
  rawMessage,
  type Account,
} from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(closeClients);
afterAll(() => server.stop());

interface Setup {
  account: Account;
  mailbox: Mailbox;
  client: LineClient;
}

/** An account with `Box` holding `count` messages and a client that ENABLEd QRESYNC. */
async function qresyncClient(count: number): Promise<Setup> {
  const account = await newAccount(server);
  const mailbox = await mailboxWith(
    account,
    'Box',
    Array.from({ length: count }, () => []),
  );
  const client = await loggedIn(account);
  expect(await client.command('E', 'ENABLE QRESYNC')).toBe('* ENABLED QRESYNC\r\nE OK ENABLE completed\r\n');
  return { account, mailbox, client };
}

async function highestModseq({ account, mailbox }: Setup): Promise<number> {
  return (await account.server.server.store.getMailboxById(mailbox.id))!.highestModseq;
}

/** The lines of `text` that are VANISHED or FETCH responses. */
function resyncLines(text: string): string[] {
  return text.split('\r\n').filter((line) => /^\* (VANISHED|\d+ FETCH)/.test(line));
}

describe('ENABLE QRESYNC', () => {
  it('is advertised, enables CONDSTORE too, and is required by the QRESYNC parameter', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Box', [[]]);
    const client = await loggedIn(account);
    expect(await client.command('a1', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* CONDSTORE QRESYNC /m);
    const box = (await account.server.server.store.getMailbox(account.userId, 'Box'))!;
    expect(await client.command('a2', `SELECT Box (QRESYNC (${box.uidValidity} 1))`)).toBe(
      'a2 BAD QRESYNC is not enabled: ENABLE QRESYNC first\r\n',
    );
    expect(await client.command('a3', 'ENABLE QRESYNC')).toBe(
      '* ENABLED QRESYNC\r\na3 OK ENABLE completed\r\n',
    );
    // CONDSTORE came with it: SELECT reports HIGHESTMODSEQ and STORE's FETCH carries MODSEQ.
    expect(await client.command('a4', 'SELECT Box')).toMatch(/^\* OK \[HIGHESTMODSEQ \d+\]/m);
    expect(await client.command('a5', 'STORE 1 +FLAGS (\\Seen)')).toMatch(
      /^\* 1 FETCH \(FLAGS \(\\Seen\) MODSEQ \(\d+\)\)/m,
    );
    expect(await client.command('a6', 'ENABLE QRESYNC')).toBe('* ENABLED\r\na6 OK ENABLE completed\r\n');
  });
});

describe('SELECT (QRESYNC ...)', () => {
  it('reports the UIDs expunged and the flags changed since the client last saw the mailbox', async () => {
    const setup = await qresyncClient(10);
    const { store } = setup.account.server.server;
    const since = await highestModseq(setup);
    await store.storeFlags(setup.mailbox.id, [3, 7], 'add', ['\\Seen']);
    await store.deleteMessages(setup.mailbox.id, [2, 5, 6]);
    await store.storeFlags(setup.mailbox.id, [7], 'add', ['$Work']);
    const now = await highestModseq(setup);
    const seven = (await store.getMessage(setup.mailbox.id, 7))!.modseq;
    const three = (await store.getMessage(setup.mailbox.id, 3))!.modseq;

    const reply = await setup.client.command(
      'b1',
      `SELECT Box (QRESYNC (${setup.mailbox.uidValidity} ${since}))`,
    );
    expect(reply).toMatch(/^\* 7 EXISTS\r\n/m);
    expect(reply).toContain(`* OK [HIGHESTMODSEQ ${now}]`);
    expect(resyncLines(reply)).toEqual([
      '* VANISHED (EARLIER) 2,5:6',
      `* 2 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (${three}))`,
      `* 4 FETCH (UID 7 FLAGS (\\Seen $Work) MODSEQ (${seven}))`,
    ]);
    expect(reply).toMatch(/b1 OK \[READ-WRITE\] SELECT completed\r\n$/);
    // Nothing changed since: nothing to resync; EXAMINE answers the same way, read-only.
    const again = await setup.client.command(
      'b2',
      `EXAMINE Box (QRESYNC (${setup.mailbox.uidValidity} ${now}))`,
    );
    expect(again).toMatch(/^\* OK \[CLOSED\] Previous mailbox closed\r\n/);
    expect(resyncLines(again)).toEqual([]);
    expect(again).toMatch(/b2 OK \[READ-ONLY\] EXAMINE completed\r\n$/);
  });

  it('sends no resync data for another UIDVALIDITY: the client must resync from scratch', async () => {
    const setup = await qresyncClient(3);
    await setup.account.server.server.store.deleteMessages(setup.mailbox.id, [1]);
    const reply = await setup.client.command(
      'c1',
      `SELECT Box (QRESYNC (${setup.mailbox.uidValidity + 1} 1))`,
    );
    expect(resyncLines(reply)).toEqual([]);
    expect(reply).toMatch(/^\* 2 EXISTS/m);
    expect(reply).toMatch(/c1 OK \[READ-WRITE\]/);
  });

  it('limits VANISHED (EARLIER) to the known UIDs (RFC 7162 3.2.5.1, adapted)', async () => {
    // RFC: A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541)).
    const setup = await qresyncClient(12);
    const since = await highestModseq(setup);
    await setup.account.server.server.store.deleteMessages(setup.mailbox.id, [1, 4, 5, 9, 12]);
    const reply = await setup.client.command(
      'd1',
      `SELECT Box (QRESYNC (${setup.mailbox.uidValidity} ${since} 2,4:9,11:12))`,
    );
    expect(resyncLines(reply)).toEqual(['* VANISHED (EARLIER) 4:5,9,12']);
  });

  it('answers with every missing UID past what the store remembers, narrowed by sequence match data', async () => {
    // An imported mailbox: the source's expunges are unknown (RFC 7162 3.2.5.2: a larger set).
    const account = await newAccount(server);
    const { store } = account.server.server;
    const box = await store.importMailbox(account.userId, {
      path: 'Old',
      uidValidity: 4242,
      uidNext: 11,
      highestModseq: 300,
      specialUse: null,
      subscribed: true,
    });
    for (const uid of [1, 3, 5, 6, 8]) {
      await store.importMessage(
        box.id,
        { uid, modseq: 100 + uid, flags: [], internalDate: new Date() },
        rawMessage(`m${uid}`),
      );
    }
    const client = await loggedIn(account);
    await client.command('E', 'ENABLE QRESYNC');
    // The client last saw MODSEQ 200 on the source: every UID below UIDNEXT not here has vanished.
    expect(resyncLines(await client.command('f1', 'SELECT Old (QRESYNC (4242 200))'))).toEqual([
      '* VANISHED (EARLIER) 2,4,7,9:10',
    ]);
    // Its sequence numbers 1:3 still map to UIDs 1,3,5: only what lies above UID 5 is in question.
    expect(
      resyncLines(await client.command('f2', 'SELECT Old (QRESYNC (4242 200 1:10 (1:3 1,3,5)))')),
    ).toEqual(['* VANISHED (EARLIER) 7,9:10']);
    // A mismatch at sequence number 2 (the client thinks it is UID 2): from UID 1 up.
    expect(
      resyncLines(await client.command('f3', 'SELECT Old (QRESYNC (4242 200 1:10 (1:3 1,2,3)))')),
    ).toEqual(['* VANISHED (EARLIER) 2,4,7,9:10']);
    // Expunges after the import are remembered exactly.
    await store.deleteMessages(box.id, [6]);
    expect(resyncLines(await client.command('f4', 'SELECT Old (QRESYNC (4242 300))'))).toEqual([
      '* VANISHED (EARLIER) 6',
    ]);
  });

  it('refuses malformed QRESYNC parameters with BAD', async () => {
    const setup = await qresyncClient(1);
    expect(await setup.client.command('g1', 'SELECT Box (QRESYNC (0 1))')).toMatch(/^g1 BAD /);
    expect(await setup.client.command('g2', 'SELECT Box (QRESYNC (1 x))')).toMatch(/^g2 BAD /);
    expect(await setup.client.command('g3', 'SELECT Box (QRESYNC (1 1 $))')).toMatch(/^g3 BAD /);
  });
});

describe('VANISHED instead of EXPUNGE', () => {
  it('answers EXPUNGE, UID EXPUNGE and MOVE with VANISHED', async () => {
    const setup = await qresyncClient(6);
    const { client } = setup;
    await client.command('h0', 'SELECT Box');
    await client.command('h1', 'STORE 1:3 +FLAGS.SILENT (\\Deleted)');
    expect(await client.command('h2', 'UID EXPUNGE 3')).toBe(
      '* VANISHED 3\r\nh2 OK UID EXPUNGE completed\r\n',
    );
    expect(await client.command('h3', 'EXPUNGE')).toBe('* VANISHED 1:2\r\nh3 OK EXPUNGE completed\r\n');
    await setup.account.server.server.store.createMailbox(setup.account.userId, 'Elsewhere');
    expect(await client.command('h4', 'UID MOVE 5:6 Elsewhere')).toMatch(
      /^\* OK \[COPYUID \d+ 5:6 1:2\] .*\r\n\* VANISHED 5:6\r\nh4 OK /,
    );
    expect(await client.command('h5', 'FETCH 1 (UID)')).toMatch(/^\* 1 FETCH \(UID 4\)/);
  });

  it("reports another session's expunge to an IDLE session as VANISHED", async () => {
    const setup = await qresyncClient(4);
    const other = await loggedIn(setup.account);
    await setup.client.command('i1', 'SELECT Box');
    setup.client.send('i2 IDLE\r\n');
    await setup.client.readUntil(/^\+ /);
    await other.command('j1', 'SELECT Box');
    await other.command('j2', 'STORE 2,4 +FLAGS.SILENT (\\Deleted)');
    expect(await other.command('j3', 'EXPUNGE')).toBe(
      '* 4 EXPUNGE\r\n* 2 EXPUNGE\r\nj3 OK EXPUNGE completed\r\n',
    );
    expect(await setup.client.readUntil(/^\* VANISHED/)).toMatch(
      /^(\* \d+ FETCH .*\r\n)*\* VANISHED 2,4\r\n$/,
    );
    setup.client.send('DONE\r\n');
    await setup.client.readUntil(/^i2 OK/);
    expect(await setup.client.command('i3', 'FETCH 1:* (UID)')).toBe(
      '* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\ni3 OK FETCH completed\r\n',
    );
  });
});

describe('UID FETCH (CHANGEDSINCE n VANISHED)', () => {
  it('sends the UIDs of the set expunged since n, then the changed messages (RFC 7162 3.2.6)', async () => {
    const setup = await qresyncClient(8);
    const { client } = setup;
    const { store } = setup.account.server.server;
    await client.command('k0', 'SELECT Box');
    const since = await highestModseq(setup);
    await store.deleteMessages(setup.mailbox.id, [2, 3, 7]);
    await store.storeFlags(setup.mailbox.id, [5], 'add', ['\\Flagged']);
    await client.command('k1', 'NOOP');
    const five = (await store.getMessage(setup.mailbox.id, 5))!.modseq;
    expect(await client.command('k2', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${since} VANISHED)`)).toBe(
      `* VANISHED (EARLIER) 2:3,7\r\n* 3 FETCH (UID 5 FLAGS (\\Flagged) MODSEQ (${five}))\r\nk2 OK UID FETCH completed\r\n`,
    );
    expect(await client.command('k3', `UID FETCH 4:6 (FLAGS) (CHANGEDSINCE ${since} VANISHED)`)).toBe(
      `* 3 FETCH (UID 5 FLAGS (\\Flagged) MODSEQ (${five}))\r\nk3 OK UID FETCH completed\r\n`,
    );
    expect(await client.command('k4', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${since} VANISHED)`)).toMatch(
      /^k4 BAD /,
    );
  });

  it('is refused without ENABLE QRESYNC', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Box', [[]]);
    const client = await loggedIn(account);
    await client.command('l0', 'SELECT Box');
    expect(await client.command('l1', 'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)')).toBe(
      'l1 BAD VANISHED needs QRESYNC: ENABLE QRESYNC first\r\n',
    );
  });
});
