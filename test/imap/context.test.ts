/**
 * Transcripts for CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267) and the PARTIAL return option of RFC
 * 9394, over real TCP against a real server, on both store engines: PARTIAL ranges (positive and
 * negative) on SEARCH, UID SEARCH and UID SORT; RETURN (UPDATE) answered by unsolicited ESEARCH
 * ADDTO/REMOVEFROM as messages arrive (also from another process), change flags (another session's
 * and the client's own) and are expunged; sort positions; CANCELUPDATE; NOUPDATE for searches that
 * are not kept.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mailbox } from '../../server/store/types.ts';
import { MALLARD_BIN, ROOT } from '../helpers/cli.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

const mail = (subject: string, date = 'Mon, 7 Feb 1994 21:52:25 -0800') =>
  Buffer.from(`From: a@example.org\r\nDate: ${date}\r\nSubject: ${subject}\r\n\r\nbody\r\n`);

describe.each(['sqlite', 'mongodb'] as const)('CONTEXT=SEARCH/SORT and PARTIAL on %s', (engine) => {
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

  /**
   * Box with 5 messages at UIDs 3..7 (sequence numbers 1..5); 4 and 6 are \Flagged. Subjects sort
   * as UID 3 "e", 4 "d", 5 "c", 6 "b", 7 "a".
   */
  async function selectedBox(): Promise<{ account: Account; mailbox: Mailbox; client: LineClient }> {
    const account = await newAccount(server);
    const { store } = server.server;
    const mailbox = await store.createMailbox(account.userId, 'Box');
    for (let i = 0; i < 2; i++) await store.append(mailbox.id, mail('gone'));
    await store.deleteMessages(mailbox.id, [1, 2]);
    for (const [i, subject] of ['e', 'd', 'c', 'b', 'a'].entries()) {
      await store.append(mailbox.id, mail(subject), { flags: i % 2 === 1 ? ['\\Flagged'] : [] });
    }
    await store.claimRecent(mailbox.id);
    const client = await loggedIn(account);
    expect(await client.command('S', 'SELECT Box')).toMatch(/^S OK /m);
    return { account, mailbox, client };
  }

  /** A second session of the same account with Box selected. */
  async function otherSession(account: Account): Promise<LineClient> {
    const other = await loggedIn(account);
    expect(await other.command('O', 'SELECT Box')).toMatch(/^O OK /m);
    return other;
  }

  it('advertises CONTEXT=SEARCH, CONTEXT=SORT and PARTIAL', async () => {
    const { client } = await selectedBox();
    expect(await client.command('c', 'CAPABILITY')).toMatch(
      /^\* CAPABILITY .* CONTEXT=SEARCH CONTEXT=SORT PARTIAL/m,
    );
  });

  describe('FETCH with PARTIAL (RFC 9394 3.3)', () => {
    it('fetches only the messages at those positions of the set', async () => {
      const { client } = await selectedBox();
      // The RFC's example: the newest messages first (here the last two).
      expect(await client.command('A01', 'UID FETCH 1:* (FLAGS) (PARTIAL -1:-2)')).toBe(
        '* 4 FETCH (UID 6 FLAGS (\\Flagged))\r\n* 5 FETCH (UID 7 FLAGS ())\r\nA01 OK UID FETCH completed\r\n',
      );
      expect(await client.command('A02', 'FETCH 2:5 (UID) (PARTIAL 2:3)')).toBe(
        '* 3 FETCH (UID 5)\r\n* 4 FETCH (UID 6)\r\nA02 OK FETCH completed\r\n',
      );
      expect(await client.command('A03', 'UID FETCH 1:* (UID) (PARTIAL 9:10)')).toBe(
        'A03 OK UID FETCH completed\r\n',
      );
      expect(
        await client.command('A04', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)]) (PARTIAL 1:1)'),
      ).toMatch(
        /^\* 1 FETCH \(UID 3 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: e\r\n\r\n\)\r\nA04 OK /,
      );
    });

    it('counts positions among the messages CHANGEDSINCE selects', async () => {
      const { client } = await selectedBox();
      const status = await client.command('m0', 'STATUS Box (HIGHESTMODSEQ)');
      const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(status)![1]);
      await client.command('m1', 'UID STORE 3,5,7 +FLAGS.SILENT (\\Answered)');
      expect(
        await client.command('m2', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} PARTIAL -1:-2)`),
      ).toMatch(
        /^\* 3 FETCH \(UID 5 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)\r\n\* 5 FETCH \(UID 7 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)\r\nm2 OK /,
      );
    });

    it('refuses a bad or repeated range', async () => {
      const { client } = await selectedBox();
      expect(await client.command('b1', 'UID FETCH 1:* (FLAGS) (PARTIAL 0:3)')).toMatch(
        /^b1 BAD .*PARTIAL range/m,
      );
      expect(await client.command('b2', 'UID FETCH 1:* (FLAGS) (PARTIAL 1:2 PARTIAL 1:2)')).toMatch(
        /^b2 BAD .*twice/m,
      );
    });
  });

  describe('PARTIAL', () => {
    it('answers the messages at the positions asked, counted from the start or the end', async () => {
      const { client } = await selectedBox();
      expect(await client.command('p1', 'UID SEARCH RETURN (PARTIAL 1:2) ALL')).toBe(
        '* ESEARCH (TAG "p1") UID PARTIAL (1:2 3:4)\r\np1 OK UID SEARCH completed\r\n',
      );
      // RFC 9394 3.1: -1:-2 are the last two; the range comes back as the client wrote it.
      expect(await client.command('p2', 'UID SEARCH RETURN (PARTIAL -1:-2) ALL')).toBe(
        '* ESEARCH (TAG "p2") UID PARTIAL (-1:-2 6:7)\r\np2 OK UID SEARCH completed\r\n',
      );
      expect(await client.command('p3', 'SEARCH RETURN (PARTIAL 2:3 COUNT) NOT FLAGGED')).toBe(
        '* ESEARCH (TAG "p3") COUNT 3 PARTIAL (2:3 3,5)\r\np3 OK SEARCH completed\r\n',
      );
      expect(await client.command('p4', 'UID SEARCH RETURN (PARTIAL 4:100) FLAGGED')).toBe(
        '* ESEARCH (TAG "p4") UID PARTIAL (4:100 NIL)\r\np4 OK UID SEARCH completed\r\n',
      );
      // Past the start from the end: only what there is.
      expect(await client.command('p5', 'UID SEARCH RETURN (PARTIAL -2:-10) FLAGGED')).toBe(
        '* ESEARCH (TAG "p5") UID PARTIAL (-2:-10 4)\r\np5 OK UID SEARCH completed\r\n',
      );
      // The numbers of a range in either order are one range.
      expect(await client.command('p6', 'UID SEARCH RETURN (PARTIAL 3:2) ALL')).toBe(
        '* ESEARCH (TAG "p6") UID PARTIAL (2:3 4:5)\r\np6 OK UID SEARCH completed\r\n',
      );
    });

    it('pages a SORT in sort order, and SAVE keeps the page as $', async () => {
      const { client } = await selectedBox();
      expect(await client.command('s1', 'UID SORT RETURN (PARTIAL 1:2) (SUBJECT) UTF-8 ALL')).toBe(
        '* ESEARCH (TAG "s1") UID PARTIAL (1:2 7,6)\r\ns1 OK UID SORT completed\r\n',
      );
      expect(await client.command('s2', 'SORT RETURN (PARTIAL -1:-3 MIN) (SUBJECT) UTF-8 ALL')).toBe(
        '* ESEARCH (TAG "s2") MIN 5 PARTIAL (-1:-3 3,2,1)\r\ns2 OK SORT completed\r\n',
      );
      expect(await client.command('s3', 'UID SEARCH RETURN (PARTIAL 2:3 SAVE) ALL')).toBe(
        '* ESEARCH (TAG "s3") UID PARTIAL (2:3 4:5)\r\ns3 OK UID SEARCH completed\r\n',
      );
      expect(await client.command('s4', 'UID SEARCH UID $')).toBe(
        '* SEARCH 4 5\r\ns4 OK UID SEARCH completed\r\n',
      );
    });

    it('refuses bad ranges with BAD', async () => {
      const { client } = await selectedBox();
      expect(await client.command('b1', 'UID SEARCH RETURN (PARTIAL 0:5) ALL')).toMatch(
        /^b1 BAD .*PARTIAL range/m,
      );
      expect(await client.command('b2', 'UID SEARCH RETURN (PARTIAL -1:5) ALL')).toMatch(
        /^b2 BAD .*same sign/m,
      );
      expect(await client.command('b3', 'UID SEARCH RETURN (PARTIAL) ALL')).toMatch(/^b3 BAD /m);
      expect(await client.command('b4', 'UID SEARCH RETURN (PARTIAL 1:99999999999) ALL')).toMatch(
        /^b4 BAD /m,
      );
      expect(await client.command('b5', 'UID SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL')).toMatch(
        /^b5 BAD .*twice/m,
      );
    });
  });

  describe('UPDATE', () => {
    it("sends ADDTO and REMOVEFROM as another session's flag changes and expunges change the result", async () => {
      const { account, client } = await selectedBox();
      const other = await otherSession(account);
      expect(await client.command('B01', 'UID SEARCH RETURN (UPDATE) FLAGGED')).toBe(
        '* ESEARCH (TAG "B01") UID ALL 4,6\r\nB01 OK UID SEARCH completed\r\n',
      );
      client.send('i1 IDLE\r\n');
      await client.readUntil(/^\+ /);
      await other.command('o1', 'UID STORE 5 +FLAGS.SILENT (\\Flagged)');
      expect(await client.readUntil(/^\* ESEARCH/)).toMatch(
        /^\* 3 FETCH \(UID 5 FLAGS \(\\Flagged\)\)\r\n\* ESEARCH \(TAG "B01"\) UID ADDTO \(0 5\)\r\n$/,
      );
      await other.command('o2', 'UID STORE 4 -FLAGS.SILENT (\\Flagged)');
      expect(await client.readUntil(/^\* ESEARCH/)).toMatch(
        /\* ESEARCH \(TAG "B01"\) UID REMOVEFROM \(0 4\)\r\n$/,
      );
      await other.command('o3', 'UID STORE 6 +FLAGS.SILENT (\\Deleted)');
      await other.command('o4', 'EXPUNGE');
      expect(await client.readUntil(/^\* ESEARCH/)).toMatch(
        /\* 4 EXPUNGE\r\n\* ESEARCH \(TAG "B01"\) UID REMOVEFROM \(0 6\)\r\n$/,
      );
      client.send('DONE\r\n');
      await client.readUntil(/^i1 OK/);
      expect(await client.command('n1', 'UID SEARCH FLAGGED')).toBe(
        '* SEARCH 5\r\nn1 OK UID SEARCH completed\r\n',
      );
    });

    it("follows the client's own STORE and new messages, after the EXISTS", async () => {
      const { mailbox, client } = await selectedBox();
      expect(await client.command('B02', 'UID SEARCH RETURN (COUNT UPDATE) UNSEEN')).toBe(
        '* ESEARCH (TAG "B02") UID COUNT 5\r\nB02 OK UID SEARCH completed\r\n',
      );
      expect(await client.command('s1', 'UID STORE 3,7 +FLAGS.SILENT (\\Seen)')).toBe(
        '* ESEARCH (TAG "B02") UID REMOVEFROM (0 3,7)\r\ns1 OK UID STORE completed\r\n',
      );
      await server.server.store.append(mailbox.id, mail('new'));
      expect(await client.command('n1', 'NOOP')).toMatch(
        /^\* 6 EXISTS\r\n\* \d+ RECENT\r\n\* ESEARCH \(TAG "B02"\) UID ADDTO \(0 8\)\r\nn1 OK /,
      );
    });

    it('keeps a SORT result in sort order: ADDTO and REMOVEFROM at sort positions', async () => {
      const { account, mailbox, client } = await selectedBox();
      const other = await otherSession(account);
      expect(await client.command('E01', 'UID SORT RETURN (UPDATE) (SUBJECT) UTF-8 ALL')).toBe(
        '* ESEARCH (TAG "E01") UID ALL 7,6,5,4,3\r\nE01 OK UID SORT completed\r\n',
      );
      const { store } = server.server;
      await store.append(mailbox.id, mail('bb')); // UID 8, between "b" (6) and "c" (5): position 3
      await store.append(mailbox.id, mail('0')); // UID 9, first
      expect(await client.command('n1', 'NOOP')).toMatch(
        /^\* 7 EXISTS\r\n\* \d+ RECENT\r\n\* ESEARCH \(TAG "E01"\) UID ADDTO \(1 9 4 8\)\r\nn1 OK /,
      );
      // Now 9 0, 7 a, 6 b, 8 bb, 5 c, 4 d, 3 e: expunge 6 (position 3) and 4 (position 6).
      await other.command('o1', 'UID STORE 4,6 +FLAGS.SILENT (\\Deleted)');
      await other.command('o2', 'EXPUNGE');
      expect(await client.command('n2', 'NOOP')).toMatch(
        /\* ESEARCH \(TAG "E01"\) UID REMOVEFROM \(6 4 3 6\)\r\nn2 OK /,
      );
      expect(await client.command('n3', 'UID SORT (SUBJECT) UTF-8 ALL')).toBe(
        '* SORT 9 7 8 5 3\r\nn3 OK UID SORT completed\r\n',
      );
    });

    it('CANCELUPDATE stops the updates of the tags named, and refuses unknown tags', async () => {
      const { mailbox, client } = await selectedBox();
      await client.command('A1', 'UID SEARCH RETURN (UPDATE) ALL');
      await client.command('A2', 'UID SEARCH RETURN (MIN UPDATE) ALL');
      expect(await client.command('c1', 'CANCELUPDATE "A1" "A3"')).toMatch(/^c1 BAD .*"A3"/m);
      expect(await client.command('c2', 'CANCELUPDATE "A1"')).toBe('c2 OK Updates cancelled\r\n');
      await server.server.store.append(mailbox.id, mail('new'));
      const noop = await client.command('n1', 'NOOP');
      expect(noop).toMatch(/\* ESEARCH \(TAG "A2"\) UID ADDTO \(0 8\)\r\n/);
      expect(noop).not.toMatch(/TAG "A1"/);
      expect(await client.command('c3', 'CANCELUPDATE "A1"')).toMatch(/^c3 BAD /m);
      expect(await client.command('c4', 'CANCELUPDATE A2')).toMatch(/^c4 BAD /m);
    });

    it('answers NOUPDATE for a search by sequence number and past the limit of updating searches', async () => {
      const { client } = await selectedBox();
      expect(await client.command('q1', 'SEARCH RETURN (UPDATE) FLAGGED')).toBe(
        '* NO [NOUPDATE "q1"] Only UID SEARCH and UID SORT results are updated\r\n' +
          '* ESEARCH (TAG "q1") ALL 2,4\r\nq1 OK SEARCH completed\r\n',
      );
      for (let i = 1; i <= 5; i++) {
        expect(await client.command(`u${i}`, 'UID SEARCH RETURN (UPDATE) ALL')).not.toMatch(/NOUPDATE/);
      }
      expect(await client.command('u6', 'UID SEARCH RETURN (UPDATE) ALL')).toMatch(
        /^\* NO \[NOUPDATE "u6"\] At most 5 searches .*\r\n\* ESEARCH \(TAG "u6"\) UID ALL 3:7\r\nu6 OK /,
      );
      // A new selection forgets them all.
      await client.command('S2', 'SELECT Box');
      expect(await client.command('u7', 'UID SEARCH RETURN (UPDATE) ALL')).not.toMatch(/NOUPDATE/);
      expect(await client.command('c1', 'CANCELUPDATE "u1"')).toMatch(/^c1 BAD /m);
    });

    it.runIf(engine === 'sqlite')('reports a delivery by another process as ADDTO', async () => {
      const { account, client } = await selectedBox();
      expect(await client.command('R1', 'SELECT INBOX')).toMatch(/^R1 OK /m);
      expect(await client.command('D01', 'UID SEARCH RETURN (UPDATE) SUBJECT elsewhere')).toBe(
        '* ESEARCH (TAG "D01") UID\r\nD01 OK UID SEARCH completed\r\n',
      );
      client.send('i1 IDLE\r\n');
      await client.readUntil(/^\+ /);
      const env = {
        ...process.env,
        MALLARD_CONFIG: '',
        MALLARD_DATA_DIR: server.config.data_dir,
        MALLARD_LOG_LEVEL: 'warn',
      };
      const child = execFile(process.execPath, [MALLARD_BIN, 'deliver', account.username], {
        cwd: ROOT,
        env,
      });
      child.stdin!.end('Subject: from elsewhere\r\n\r\nhello\r\n');
      await new Promise((resolve) => child.once('exit', resolve));
      expect(await client.readUntil(/^\* ESEARCH/, 5000)).toMatch(
        /\* 1 EXISTS\r\n(\* \d+ RECENT\r\n)?\* ESEARCH \(TAG "D01"\) UID ADDTO \(0 1\)\r\n$/,
      );
      client.send('DONE\r\n');
      await client.readUntil(/^i1 OK/);
    });
  });
});
