/**
 * IMAP4rev2 (RFC 9051) beside IMAP4rev1, over real TCP against a real server: each difference of
 * RFC 9051 Appendix E that changes what a session sees after `ENABLE IMAP4rev2` (server/imap/rev2.ts
 * lists them) has a test here, and a rev1 session beside it keeps the rev1 answers.
 *
 * - capability and ENABLE
 * - \Recent and RECENT gone (SELECT, EXAMINE, new mail, FETCH FLAGS, STATUS), a rev1 session still
 *   sees the message as recent
 * - SEARCH answered with ESEARCH (SEARCH, UID SEARCH, empty result)
 * - SELECT: LIST with the mailbox name, no UNSEEN code, `OK [CLOSED]` when switching mailboxes
 * - mailbox names in UTF-8
 * - a real client that turns rev2 on (imapflow): search, flags and UTF-8 names as it sees them
 * - the extensions folded into rev2 offered (NAMESPACE, UNSELECT, MOVE, ESEARCH, STATUS DELETED and
 *   SIZE, LIST-STATUS, SPECIAL-USE)
 */
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mailbox } from '../../server/store/types.ts';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

const mail = (subject: string) => Buffer.from(`From: a@example.org\r\nSubject: ${subject}\r\n\r\nbody\r\n`);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  closeClients();
  await server?.stop();
});

/** An account with Box holding 3 messages (UIDs 1..3, the first \Seen), none claimed as recent. */
async function account(): Promise<{ account: Account; mailbox: Mailbox }> {
  const account = await newAccount(server);
  const mailbox = await server.server.store.createMailbox(account.userId, 'Box');
  for (let i = 1; i <= 3; i++) {
    await server.server.store.append(mailbox.id, mail(`m${i}`), { flags: i === 1 ? ['\\Seen'] : [] });
  }
  return { account, mailbox };
}

async function rev2Client(account: Account): Promise<LineClient> {
  const client = await loggedIn(account);
  expect(await client.command('e', 'ENABLE IMAP4rev2')).toBe(
    '* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n',
  );
  return client;
}

describe('IMAP4rev2', () => {
  it('is advertised beside IMAP4rev1, with the extensions it folds in', async () => {
    const { account: user } = await account();
    const client = await loggedIn(user);
    const capabilities = await client.command('c', 'CAPABILITY');
    expect(capabilities).toMatch(/^\* CAPABILITY IMAP4rev1 LITERAL\+ IMAP4rev2 /m);
    for (const name of [
      'NAMESPACE',
      'UNSELECT',
      'UIDPLUS',
      'ESEARCH',
      'SEARCHRES',
      'ENABLE',
      'IDLE',
      'SASL-IR',
    ]) {
      expect(capabilities).toContain(` ${name} `);
    }
    for (const name of ['LIST-EXTENDED', 'LIST-STATUS', 'MOVE', 'BINARY', 'SPECIAL-USE', 'STATUS=SIZE']) {
      expect(capabilities).toContain(` ${name}`);
    }
  });

  it('ENABLE IMAP4rev2 is case-insensitive and answered once', async () => {
    const { account: user } = await account();
    const client = await loggedIn(user);
    expect(await client.command('e1', 'ENABLE imap4rev2 IMAP4REV2')).toBe(
      '* ENABLED IMAP4rev2\r\ne1 OK ENABLE completed\r\n',
    );
    expect(await client.command('e2', 'ENABLE IMAP4rev2')).toBe('* ENABLED\r\ne2 OK ENABLE completed\r\n');
  });

  it('SELECT: no RECENT and no UNSEEN, a LIST with the name as stored; rev1 unchanged', async () => {
    const { account: user } = await account();
    const client = await rev2Client(user);
    const selected = await client.command('s1', 'SELECT Box');
    expect(selected).toMatch(/^\* 3 EXISTS\r\n/m);
    expect(selected).toMatch(/^\* LIST \(\) "\/" "Box"\r\n/m);
    expect(selected).not.toMatch(/RECENT|UNSEEN/);
    expect(selected).toMatch(/^s1 OK \[READ-WRITE\] /m);
    // A rev1 session afterwards: the messages are still recent for it (rev2 claimed none).
    const rev1 = await loggedIn(user);
    const rev1Selected = await rev1.command('r1', 'SELECT Box');
    expect(rev1Selected).toMatch(/^\* 3 RECENT\r\n/m);
    expect(rev1Selected).toMatch(/^\* OK \[UNSEEN 2\] /m);
    expect(rev1Selected).not.toMatch(/^\* LIST/m);
  });

  it('EXAMINE: no RECENT either', async () => {
    const { account: user } = await account();
    const client = await rev2Client(user);
    const examined = await client.command('x1', 'EXAMINE Box');
    expect(examined).not.toMatch(/RECENT/);
    expect(examined).toMatch(/^x1 OK \[READ-ONLY\] /m);
  });

  it('new mail: EXISTS without RECENT, and no \\Recent in FLAGS', async () => {
    const { account: user, mailbox } = await account();
    const client = await rev2Client(user);
    await client.command('s1', 'SELECT Box');
    await server.server.store.append(mailbox.id, mail('new'));
    expect(await client.command('n1', 'NOOP')).toBe('* 4 EXISTS\r\nn1 OK NOOP completed\r\n');
    expect(await client.command('f1', 'FETCH 4 (FLAGS)')).toBe(
      '* 4 FETCH (FLAGS ())\r\nf1 OK FETCH completed\r\n',
    );
    expect(await client.command('f2', 'SEARCH NEW')).toBe(
      '* ESEARCH (TAG "f2")\r\nf2 OK SEARCH completed\r\n',
    );
  });

  it('STATUS (RECENT) is BAD; DELETED and SIZE are answered', async () => {
    const { account: user, mailbox } = await account();
    const client = await rev2Client(user);
    expect(await client.command('t1', 'STATUS Box (MESSAGES RECENT)')).toMatch(/^t1 BAD .*RECENT/m);
    expect(await client.command('t2', 'LIST "" Box RETURN (STATUS (RECENT))')).toMatch(/^t2 BAD .*RECENT/m);
    await server.server.store.storeFlags(mailbox.id, [2], 'add', ['\\Deleted']);
    expect(await client.command('t3', 'STATUS Box (MESSAGES DELETED SIZE)')).toMatch(
      /^\* STATUS "Box" \(MESSAGES 3 DELETED 1 SIZE \d+\)\r\nt3 OK STATUS completed\r\n$/,
    );
    const rev1 = await loggedIn(user);
    expect(await rev1.command('t4', 'STATUS Box (RECENT)')).toMatch(
      /^\* STATUS "Box" \(RECENT \d+\)\r\nt4 OK /,
    );
  });

  it('SEARCH and UID SEARCH answer with ESEARCH (RFC 9051 6.4.4)', async () => {
    const { account: user } = await account();
    const client = await rev2Client(user);
    await client.command('s1', 'SELECT Box');
    expect(await client.command('A282', 'SEARCH UNSEEN')).toBe(
      '* ESEARCH (TAG "A282") ALL 2:3\r\nA282 OK SEARCH completed\r\n',
    );
    expect(await client.command('A283', 'UID SEARCH ALL')).toBe(
      '* ESEARCH (TAG "A283") UID ALL 1:3\r\nA283 OK UID SEARCH completed\r\n',
    );
    expect(await client.command('A284', 'SEARCH SUBJECT nothing')).toBe(
      '* ESEARCH (TAG "A284")\r\nA284 OK SEARCH completed\r\n',
    );
    expect(await client.command('A285', 'SEARCH RETURN (COUNT) ALL')).toBe(
      '* ESEARCH (TAG "A285") COUNT 3\r\nA285 OK SEARCH completed\r\n',
    );
    const rev1 = await loggedIn(user);
    await rev1.command('s2', 'SELECT Box');
    expect(await rev1.command('B1', 'SEARCH UNSEEN')).toBe('* SEARCH 2 3\r\nB1 OK SEARCH completed\r\n');
  });

  it('selecting another mailbox says OK [CLOSED] first (RFC 9051 6.3.2)', async () => {
    const { account: user } = await account();
    const client = await rev2Client(user);
    expect(await client.command('s1', 'SELECT Box')).not.toMatch(/CLOSED/);
    expect(await client.command('s2', 'EXAMINE INBOX')).toMatch(
      /^\* OK \[CLOSED\] [^\r]*\r\n(.*\r\n)*\* LIST \(\) "\/" INBOX\r\n/,
    );
  });

  it('mailbox names are UTF-8 on the wire', async () => {
    const { account: user } = await account();
    const client = await rev2Client(user);
    expect(await client.command('c1', 'CREATE "Entwürfe"')).toMatch(/^c1 OK /m);
    const listed = Buffer.from(await client.command('l1', 'LIST "" "Entw*"'), 'latin1').toString('utf8');
    expect(listed).toMatch(/^\* LIST \([^)]*\) "\/" "?Entwürfe"?\r\n/m);
    const rev1 = await loggedIn(user);
    expect(await rev1.command('l2', 'LIST "" "Entw*"')).toMatch(/"?Entw&APw-rfe"?\r\n/);
    const selected = Buffer.from(await client.command('s1', 'SELECT "Entwürfe"'), 'latin1').toString('utf8');
    expect(selected).toMatch(/^\* LIST \(\) "\/" "?Entwürfe"?\r\n/m);
  });

  it('imapflow turns it on and works with it: SEARCH, FLAGS without \\Recent, UTF-8 names', async () => {
    const { account: user, mailbox } = await account();
    await server.server.store.createMailbox(user.userId, 'Größe');
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: server.imapPort,
      secure: false,
      auth: { user: user.username, pass: user.password },
      logger: false,
      disableAutoIdle: true,
      tls: { rejectUnauthorized: false },
    });
    await client.connect();
    try {
      expect(client.enabled.has('IMAP4REV2')).toBe(true); // imapflow keeps the names upper-cased
      await client.mailboxOpen('Box');
      expect(await client.search({ seen: false }, { uid: true })).toEqual([2, 3]);
      await server.server.store.append(mailbox.id, mail('late'));
      await client.noop();
      const flags = [];
      for await (const message of client.fetch('1:*', { flags: true, uid: true }))
        flags.push([...message.flags!]);
      expect(flags).toEqual([['\\Seen'], [], [], []]);
      expect((await client.list()).map((entry) => entry.path)).toContain('Größe');
    } finally {
      await client.logout();
    }
  });
});
