/**
 * Transcripts for STORE and UID STORE (RFC 3501 6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162),
 * over real TCP against a real server, plus imapflow's flag calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeClients,
  imapflowClient,
  loggedIn,
  mailboxWith,
  newAccount,
  storedFlags,
} from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(closeClients);
afterAll(() => server.stop());

/** An account with `Box` holding three messages (flags: none, \Seen, \Flagged) and a client on it. */
async function selected(selectCommand = 'SELECT Box') {
  const account = await newAccount(server);
  const mailbox = await mailboxWith(account, 'Box', [[], ['\\Seen'], ['\\Flagged']]);
  const client = await loggedIn(account);
  expect(await client.command('S', selectCommand)).toMatch(/^S OK /m);
  return { account, mailbox, client };
}

describe('STORE', () => {
  it('adds, removes and replaces flags, answering FETCH FLAGS for every message', async () => {
    const { account, mailbox, client } = await selected();
    expect(await client.command('a1', 'STORE 1:3 +FLAGS (\\Seen)')).toBe(
      '* 1 FETCH (FLAGS (\\Seen))\r\n' +
        '* 2 FETCH (FLAGS (\\Seen))\r\n' +
        '* 3 FETCH (FLAGS (\\Flagged \\Seen))\r\n' +
        'a1 OK STORE completed\r\n',
    );
    expect(await client.command('a2', 'STORE 3 -FLAGS (\\Flagged \\Answered)')).toBe(
      '* 3 FETCH (FLAGS (\\Seen))\r\na2 OK STORE completed\r\n',
    );
    expect(await client.command('a3', 'STORE 2 FLAGS (\\Draft \\Answered)')).toBe(
      '* 2 FETCH (FLAGS (\\Draft \\Answered))\r\na3 OK STORE completed\r\n',
    );
    expect(await client.command('a4', 'STORE 1 FLAGS ()')).toBe(
      '* 1 FETCH (FLAGS ())\r\na4 OK STORE completed\r\n',
    );
    expect(await storedFlags(account, mailbox.id)).toEqual({
      1: [],
      2: ['\\Draft', '\\Answered'],
      3: ['\\Seen'],
    });
    client.close();
  });

  it('accepts flags without parentheses and in any case', async () => {
    const { account, mailbox, client } = await selected();
    expect(await client.command('b1', 'store 1 +flags \\seen \\DELETED')).toBe(
      '* 1 FETCH (FLAGS (\\Seen \\Deleted))\r\nb1 OK STORE completed\r\n',
    );
    expect((await storedFlags(account, mailbox.id))[1]).toEqual(['\\Seen', '\\Deleted']);
    client.close();
  });

  it('is quiet with .SILENT', async () => {
    const { account, mailbox, client } = await selected();
    expect(await client.command('c1', 'STORE 1,3 +FLAGS.SILENT (\\Answered)')).toBe(
      'c1 OK STORE completed\r\n',
    );
    expect(await client.command('c2', 'UID STORE 1:* -FLAGS.SILENT (\\Answered)')).toBe(
      'c2 OK UID STORE completed\r\n',
    );
    expect(await client.command('c3', 'STORE 2 FLAGS.SILENT (\\Flagged)')).toBe('c3 OK STORE completed\r\n');
    expect(await storedFlags(account, mailbox.id)).toEqual({ 1: [], 2: ['\\Flagged'], 3: ['\\Flagged'] });
    client.close();
  });

  it('includes the UID in UID STORE responses and ignores UIDs that do not exist', async () => {
    const { account, mailbox, client } = await selected();
    expect(await client.command('d1', 'UID STORE 2,3,99 +FLAGS (\\Deleted)')).toBe(
      '* 2 FETCH (FLAGS (\\Seen \\Deleted) UID 2)\r\n' +
        '* 3 FETCH (FLAGS (\\Flagged \\Deleted) UID 3)\r\n' +
        'd1 OK UID STORE completed\r\n',
    );
    expect(await client.command('d2', 'UID STORE 50:60 +FLAGS (\\Deleted)')).toBe(
      'd2 OK UID STORE completed\r\n',
    );
    // `n:*` with n above the highest UID still names the highest UID (RFC 3501 6.4.8).
    expect(await client.command('d3', 'UID STORE 100:* -FLAGS (\\Deleted)')).toBe(
      '* 3 FETCH (FLAGS (\\Flagged) UID 3)\r\nd3 OK UID STORE completed\r\n',
    );
    expect(await storedFlags(account, mailbox.id)).toEqual({
      1: [],
      2: ['\\Seen', '\\Deleted'],
      3: ['\\Flagged'],
    });
    client.close();
  });

  it('stores keywords and announces new ones in FLAGS and PERMANENTFLAGS before the FETCH', async () => {
    const { account, mailbox, client } = await selected();
    expect(await client.command('e1', 'STORE 1 +FLAGS ($Forwarded Work)')).toBe(
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded Work)\r\n' +
        '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded Work \\*)] Flags permitted\r\n' +
        '* 1 FETCH (FLAGS ($Forwarded Work))\r\n' +
        'e1 OK STORE completed\r\n',
    );
    // A known keyword in another case is the same keyword, spelled as the mailbox knows it.
    expect(await client.command('e2', 'STORE 2 +FLAGS (work)')).toBe(
      '* 2 FETCH (FLAGS (\\Seen Work))\r\ne2 OK STORE completed\r\n',
    );
    const flags = await storedFlags(account, mailbox.id);
    expect([flags[1], flags[2]]).toEqual([
      ['$Forwarded', 'Work'],
      ['\\Seen', 'Work'],
    ]);
    client.close();
  });

  it('announces a keyword another session added before a FETCH or STORE answer shows it', async () => {
    const { account, client } = await selected();
    const other = await loggedIn(account);
    expect(await other.command('o1', 'SELECT Box')).toMatch(/^o1 OK /m);
    expect(await other.command('o2', 'STORE 1 +FLAGS.SILENT ($CrossKw1)')).toMatch(/^o2 OK /m);
    const fetched = await client.command('f1', 'FETCH 1 (FLAGS)');
    const flagsAt = fetched.indexOf('* FLAGS (');
    expect(flagsAt).toBeGreaterThanOrEqual(0);
    expect(flagsAt).toBeLessThan(fetched.indexOf('$CrossKw1'));
    expect(fetched.indexOf('[PERMANENTFLAGS (')).toBeLessThan(fetched.indexOf('* 1 FETCH'));
    expect(await other.command('o3', 'STORE 2 +FLAGS.SILENT ($CrossKw2)')).toMatch(/^o3 OK /m);
    const stored = await client.command('s1', 'STORE 2 +FLAGS (\\Answered)');
    expect(stored.indexOf('* FLAGS (')).toBeGreaterThanOrEqual(0);
    expect(stored.indexOf('* FLAGS (')).toBeLessThan(stored.indexOf('$CrossKw2'));
    other.close();
    client.close();
  });

  it('stores NIL as a keyword: it is an atom', async () => {
    const { account, mailbox, client } = await selected();
    expect(await client.command('k1', 'STORE 1 +FLAGS (NIL)')).toMatch(
      /^\* 1 FETCH \(FLAGS \(NIL\)\)\r\nk1 OK /m,
    );
    expect((await storedFlags(account, mailbox.id))[1]).toEqual(['NIL']);
    client.close();
  });

  it('refuses to store \\Recent, as Dovecot does, and shows it only to the session it is recent for', async () => {
    const account = await newAccount(server);
    const mailbox = await mailboxWith(account, 'Box', [[]], { recent: true });
    const client = await loggedIn(account);
    expect(await client.command('f0', 'SELECT Box')).toMatch(/^\* 1 RECENT/m);
    expect(await client.command('f1', 'STORE 1 +FLAGS (\\Recent \\Seen)')).toBe(
      'f1 BAD Invalid system flag \\Recent\r\n',
    );
    expect(await client.command('f2', 'STORE 1 +FLAGS (\\Seen)')).toBe(
      '* 1 FETCH (FLAGS (\\Seen \\Recent))\r\nf2 OK STORE completed\r\n',
    );
    expect(await client.command('f3', 'STORE 1 -FLAGS (\\Seen)')).toBe(
      '* 1 FETCH (FLAGS (\\Recent))\r\nf3 OK STORE completed\r\n',
    );
    expect((await storedFlags(account, mailbox.id))[1]).toEqual([]);
    client.close();
  });

  it('refuses STORE in a mailbox opened with EXAMINE', async () => {
    const { account, mailbox, client } = await selected('EXAMINE Box');
    expect(await client.command('g1', 'STORE 1 +FLAGS (\\Seen)')).toBe(
      'g1 NO [READ-ONLY] Mailbox is read-only (EXAMINE): flags cannot be changed\r\n',
    );
    expect(await client.command('g2', 'UID STORE 1:* FLAGS.SILENT ()')).toMatch(/^g2 NO \[READ-ONLY\]/);
    expect(await storedFlags(account, mailbox.id)).toEqual({ 1: [], 2: ['\\Seen'], 3: ['\\Flagged'] });
    client.close();
  });

  it('answers BAD for sequence numbers outside the mailbox and for malformed flags', async () => {
    const { account, mailbox, client } = await selected();
    const bad = [
      'STORE 0 +FLAGS (\\Seen)',
      'STORE 4 +FLAGS (\\Seen)',
      'STORE 1:4 +FLAGS (\\Seen)',
      'STORE 1,9999999999 +FLAGS (\\Seen)',
      'STORE 1 +FLAGS (\\Bogus)',
      'STORE 1 +FLAGS (\\*)',
      'STORE 1 +FLAGS (a"b)',
      'STORE 1 +FLAGS (a(b)',
      'STORE 1 +FLAGS (a%b)',
      'STORE 1 +FLAGS ("quoted")',
      'STORE 1 +FLAGS (k\u00e9y)',
      'STORE 1 +FLAGS (\\Seen',
      'STORE 1 FLAGZ (\\Seen)',
      'STORE 1 +FLAGS',
      'STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)',
      'STORE 1 (FOO 1) +FLAGS (\\Seen)',
      'UID STORE 0 +FLAGS (\\Seen)',
    ];
    for (const [index, command] of bad.entries()) {
      expect(await client.command(`h${index}`, command), command).toMatch(new RegExp(`^h${index} BAD `, 'm'));
    }
    expect(await storedFlags(account, mailbox.id)).toEqual({ 1: [], 2: ['\\Seen'], 3: ['\\Flagged'] });
    expect(await client.command('h99', 'NOOP')).toBe('h99 OK NOOP completed\r\n');
    client.close();
  });

  it('answers BAD for sequence numbers in an empty mailbox, but OK for a UID range', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Empty', []);
    const client = await loggedIn(account);
    await client.command('i0', 'SELECT Empty');
    expect(await client.command('i1', 'STORE 1:* +FLAGS (\\Seen)')).toMatch(/^i1 BAD Invalid messageset/);
    expect(await client.command('i2', 'STORE * +FLAGS (\\Seen)')).toMatch(/^i2 BAD /);
    expect(await client.command('i3', 'UID STORE 1:* +FLAGS (\\Seen)')).toBe('i3 OK UID STORE completed\r\n');
    client.close();
  });

  it('is refused before a mailbox is selected', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    expect(await client.command('j1', 'STORE 1 +FLAGS (\\Seen)')).toMatch(
      /^j1 BAD .*without a selected mailbox/,
    );
    client.close();
  });
});

describe('STORE with CONDSTORE', () => {
  /** The MODSEQ the fixture's appends gave message `n` (the last append set HIGHESTMODSEQ). */
  const appendModseq = (mailbox: { highestModseq: number }, n: number) => mailbox.highestModseq - 3 + n;

  it('adds MODSEQ once CONDSTORE is enabled, and reports only MODSEQ of changed messages with .SILENT', async () => {
    const { account, mailbox, client } = await selected('SELECT Box (CONDSTORE)');
    const next = mailbox.highestModseq + 1;
    // Message 2 was \Seen already: its FETCH carries its unchanged MODSEQ.
    expect(await client.command('k1', 'STORE 1:2 +FLAGS (\\Seen)')).toBe(
      `* 1 FETCH (FLAGS (\\Seen) MODSEQ (${next}))\r\n` +
        `* 2 FETCH (FLAGS (\\Seen) MODSEQ (${appendModseq(mailbox, 2)}))\r\n` +
        'k1 OK STORE completed\r\n',
    );
    expect(await client.command('k2', 'UID STORE 1:3 +FLAGS.SILENT (\\Seen)')).toBe(
      `* 3 FETCH (UID 3 MODSEQ (${next + 1}))\r\nk2 OK UID STORE completed\r\n`,
    );
    expect(await client.command('k3', 'STORE 1 -FLAGS.SILENT (\\Seen)')).toBe(
      `* 1 FETCH (MODSEQ (${next + 2}))\r\nk3 OK STORE completed\r\n`,
    );
    expect(await storedFlags(account, mailbox.id)).toEqual({
      1: [],
      2: ['\\Seen'],
      3: ['\\Flagged', '\\Seen'],
    });
    client.close();
  });

  it('leaves messages changed since UNCHANGEDSINCE alone and lists them in MODIFIED', async () => {
    const { account, mailbox, client } = await selected();
    const [first, second, third] = [1, 2, 3].map((n) => appendModseq(mailbox, n));
    const next = mailbox.highestModseq + 1;
    expect(await client.command('l1', `STORE 1:3 (UNCHANGEDSINCE ${first}) +FLAGS (\\Answered)`)).toBe(
      `* OK [HIGHESTMODSEQ ${mailbox.highestModseq}] Highest\r\n` +
        `* 1 FETCH (FLAGS (\\Answered) MODSEQ (${next}))\r\nl1 OK [MODIFIED 2:3] Conditional STORE failed\r\n`,
    );
    // UNCHANGEDSINCE turned CONDSTORE on for the session: MODSEQ is now in every FETCH.
    expect(await client.command('l2', `UID STORE 1:3 (UNCHANGEDSINCE ${third}) -FLAGS (\\Answered)`)).toBe(
      `* 2 FETCH (FLAGS (\\Seen) UID 2 MODSEQ (${second}))\r\n` +
        `* 3 FETCH (FLAGS (\\Flagged) UID 3 MODSEQ (${third}))\r\n` +
        'l2 OK [MODIFIED 1] Conditional STORE failed\r\n',
    );
    expect(await client.command('l3', `STORE 1 (UNCHANGEDSINCE ${next}) -FLAGS (\\Answered)`)).toBe(
      `* 1 FETCH (FLAGS () MODSEQ (${next + 1}))\r\nl3 OK STORE completed\r\n`,
    );
    expect(await storedFlags(account, mailbox.id)).toEqual({ 1: [], 2: ['\\Seen'], 3: ['\\Flagged'] });
    client.close();
  });

  it('fails every message with UNCHANGEDSINCE 0', async () => {
    const { account, mailbox, client } = await selected();
    expect(await client.command('m1', 'STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS (\\Deleted)')).toBe(
      `* OK [HIGHESTMODSEQ ${mailbox.highestModseq}] Highest\r\nm1 OK [MODIFIED 1:3] Conditional STORE failed\r\n`,
    );
    expect(await client.command('m2', 'UID STORE 2,3 (UNCHANGEDSINCE 0) FLAGS.SILENT ()')).toBe(
      'm2 OK [MODIFIED 2:3] Conditional STORE failed\r\n',
    );
    expect(await storedFlags(account, mailbox.id)).toEqual({ 1: [], 2: ['\\Seen'], 3: ['\\Flagged'] });
    client.close();
  });

  it('refuses UNCHANGEDSINCE in a read-only mailbox', async () => {
    const { client } = await selected('EXAMINE Box');
    expect(await client.command('n1', 'STORE 1 (UNCHANGEDSINCE 99) +FLAGS (\\Seen)')).toMatch(
      /^n1 NO \[READ-ONLY\]/,
    );
    client.close();
  });
});

describe('imapflow', () => {
  it('adds, removes and sets flags', async () => {
    const account = await newAccount(server);
    const mailbox = await mailboxWith(account, 'INBOX', [[], [], []]);
    const client = await imapflowClient(account);
    try {
      await client.mailboxOpen('INBOX');
      expect(await client.messageFlagsAdd('1:2', ['\\Seen', '$Label1'])).toBe(true);
      expect(await client.messageFlagsRemove('2', ['\\Seen'], { uid: true })).toBe(true);
      expect(await client.messageFlagsSet('3', ['\\Flagged'])).toBe(true);
      expect(await storedFlags(account, mailbox.id)).toEqual({
        1: ['\\Seen', '$Label1'],
        2: ['$Label1'],
        3: ['\\Flagged'],
      });
    } finally {
      await client.logout();
    }
  });
});
