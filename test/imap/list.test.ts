/**
 * Transcripts for LIST (RFC 3501 6.3.8, LIST-EXTENDED basics of RFC 5258, SPECIAL-USE of RFC 6154,
 * LIST-STATUS of RFC 5819), LSUB (6.3.9) and Gmail's XLIST, over real TCP against a real server;
 * and imapflow's mailbox calls (list, create, rename, delete, status) for a client's view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imapflowClient, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** An account with, beside the default mailboxes, the given ones (parents created as needed). */
async function accountWith(...paths: string[]): Promise<Account> {
  const account = await newAccount(server);
  for (const path of paths) await server.server.store.createMailbox(account.userId, path);
  return account;
}

async function subscribe(account: Account, path: string, subscribed: boolean): Promise<void> {
  await server.server.store.setSubscribed(account.userId, path, subscribed);
}

const DEFAULT_LIST =
  '* LIST (\\HasNoChildren) "/" INBOX\r\n' +
  '* LIST (\\HasNoChildren \\Archive) "/" "Archive"\r\n' +
  '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"\r\n' +
  '* LIST (\\HasNoChildren \\Junk) "/" "Junk"\r\n' +
  '* LIST (\\HasNoChildren \\Sent) "/" "Sent"\r\n' +
  '* LIST (\\HasNoChildren \\Trash) "/" "Trash"\r\n';

describe('LIST', () => {
  it('answers an empty pattern with the delimiter', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('a1', 'LIST "" ""')).toBe(
      '* LIST (\\Noselect) "/" ""\r\na1 OK LIST completed\r\n',
    );
    expect(await client.command('a2', 'LIST "Work" ""')).toBe(
      '* LIST (\\Noselect) "/" ""\r\na2 OK LIST completed\r\n',
    );
    client.close();
  });

  it('lists the default mailboxes with children and special-use attributes, INBOX first', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('a1', 'LIST "" "*"')).toBe(DEFAULT_LIST + 'a1 OK LIST completed\r\n');
    client.close();
  });

  it('matches % within one level and * across levels', async () => {
    const client = await loggedIn(await accountWith('Work/2024/Q1', 'Workshop'));
    const top = await client.command('a1', 'LIST "" "W%"');
    expect(top).toBe(
      '* LIST (\\HasChildren) "/" "Work"\r\n' +
        '* LIST (\\HasNoChildren) "/" "Workshop"\r\n' +
        'a1 OK LIST completed\r\n',
    );
    expect(await client.command('a2', 'LIST "" "Work/%"')).toBe(
      '* LIST (\\HasChildren) "/" "Work/2024"\r\na2 OK LIST completed\r\n',
    );
    expect(await client.command('a3', 'LIST "" "Work/*"')).toBe(
      '* LIST (\\HasChildren) "/" "Work/2024"\r\n' +
        '* LIST (\\HasNoChildren) "/" "Work/2024/Q1"\r\n' +
        'a3 OK LIST completed\r\n',
    );
    expect(await client.command('a4', 'LIST "" "%/%/Q1"')).toBe(
      '* LIST (\\HasNoChildren) "/" "Work/2024/Q1"\r\na4 OK LIST completed\r\n',
    );
    expect(await client.command('a5', 'LIST "" "Nothing*"')).toBe('a5 OK LIST completed\r\n');
    client.close();
  });

  it('joins the reference and the pattern', async () => {
    const client = await loggedIn(await accountWith('Work/2024'));
    const expected = '* LIST (\\HasNoChildren) "/" "Work/2024"\r\n';
    expect(await client.command('a1', 'LIST "Work/" "%"')).toBe(`${expected}a1 OK LIST completed\r\n`);
    expect(await client.command('a2', 'LIST "Work" "/%"')).toBe(`${expected}a2 OK LIST completed\r\n`);
    expect(await client.command('a3', 'LIST Work %')).toBe(
      '* LIST (\\HasChildren) "/" "Work"\r\na3 OK LIST completed\r\n',
    );
    client.close();
  });

  it('matches INBOX in any case', async () => {
    const client = await loggedIn(await accountWith('INBOX/Sub'));
    expect(await client.command('a1', 'LIST "" inbox')).toBe(
      '* LIST (\\HasChildren) "/" INBOX\r\na1 OK LIST completed\r\n',
    );
    expect(await client.command('a2', 'LIST "" "iNbOx/%"')).toBe(
      '* LIST (\\HasNoChildren) "/" "INBOX/Sub"\r\na2 OK LIST completed\r\n',
    );
    expect(await client.command('a3', 'LIST "" "in*"')).toMatch(/^\* LIST \(\\HasChildren\) "\/" INBOX\r\n/);
    expect(await client.command('a4', 'LIST "" "sent"')).toBe('a4 OK LIST completed\r\n');
    client.close();
  });

  it('shows a deleted parent as \\Noselect while its children remain', async () => {
    const client = await loggedIn(await accountWith('Parent/Child'));
    expect(await client.command('d1', 'DELETE Parent')).toBe('d1 OK DELETE completed\r\n');
    expect(await client.command('a1', 'LIST "" "Parent*"')).toBe(
      '* LIST (\\Noselect \\HasChildren) "/" "Parent"\r\n' +
        '* LIST (\\HasNoChildren) "/" "Parent/Child"\r\n' +
        'a1 OK LIST completed\r\n',
    );
    expect(await client.command('a2', 'LIST "" "%"')).toMatch(
      /^\* LIST \(\\Noselect \\HasChildren\) "\/" "Parent"\r\n/m,
    );
    client.close();
  });

  it('sends names in modified UTF-7, or UTF-8 once UTF8=ACCEPT is enabled', async () => {
    const client = await loggedIn(await accountWith('Café/日本'));
    expect(await client.command('a1', 'LIST "" "Caf*"')).toBe(
      '* LIST (\\HasChildren) "/" "Caf&AOk-"\r\n' +
        '* LIST (\\HasNoChildren) "/" "Caf&AOk-/&ZeVnLA-"\r\n' +
        'a1 OK LIST completed\r\n',
    );
    expect(await client.command('a2', 'LIST "Caf&AOk-/" "%"')).toBe(
      '* LIST (\\HasNoChildren) "/" "Caf&AOk-/&ZeVnLA-"\r\na2 OK LIST completed\r\n',
    );
    expect(await client.command('e1', 'ENABLE UTF8=ACCEPT')).toMatch(/^e1 OK/m);
    const utf8 = await client.command('a3', 'LIST "" "Café/%"');
    expect(Buffer.from(utf8, 'latin1').toString('utf8')).toBe(
      '* LIST (\\HasNoChildren) "/" "Café/日本"\r\na3 OK LIST completed\r\n',
    );
    client.close();
  });

  it('matches nothing with a pattern that is not valid modified UTF-7, as Dovecot', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('a1', 'LIST "" "&Jjo"')).toBe('a1 OK LIST completed\r\n');
    expect(await client.command('a2', 'LIST "&" "*"')).toBe('a2 OK LIST completed\r\n');
    expect(await client.command('a4', 'LIST "" "AT&T*"')).toBe('a4 OK LIST completed\r\n');
    expect(await client.command('a5', 'LSUB "" "AT&T*"')).toBe('a5 OK LSUB completed\r\n');
    expect(await client.command('a3', 'NOOP')).toMatch(/^a3 OK/m);
    client.close();
  });

  it('survives hostile patterns: long, wildcard-heavy, and unmatched', async () => {
    const client = await loggedIn(await accountWith('a'.repeat(900)));
    const started = Date.now();
    expect(await client.command('a1', `LIST "" "${'*a'.repeat(511)}*b"`)).toBe('a1 OK LIST completed\r\n');
    expect(await client.command('a2', `LIST "" "${'%'.repeat(1024)}"`)).toMatch(/^a2 OK/m);
    expect(await client.command('a3', `LIST "${'x'.repeat(1000)}" "*"`)).toBe('a3 OK LIST completed\r\n');
    expect(Date.now() - started).toBeLessThan(5000);
    // Over 1,024 bytes (reference and pattern together): refused before any matching.
    const tooLong = /^a6 BAD \[LIMIT\] Mailbox pattern too long \(at most 1024 bytes\)\r\n$/;
    expect(await client.command('a6', `LIST "" "${'*a'.repeat(2000)}*b"`)).toMatch(tooLong);
    expect(await client.command('a6', `LIST "${'x'.repeat(1000)}" "${'%'.repeat(25)}"`)).toMatch(tooLong);
    expect(await client.command('a6', `LSUB "" "${'%'.repeat(3000)}"`)).toMatch(tooLong);
    expect(await client.command('a4', `LIST "" "${'a'.repeat(900)}"`)).toMatch(
      /^\* LIST \(\\HasNoChildren\) /,
    );
    expect(await client.command('a5', 'LIST "" "%" junk')).toMatch(/^a5 BAD /m);
    client.close();
  });

  it('is not allowed before login', async () => {
    const client = await LineClient.connect(server.imapPort);
    await client.readUntil(/^\* OK/);
    expect(await client.command('a1', 'LIST "" "*"')).toMatch(/^a1 BAD /m);
    expect(await client.command('a2', 'LSUB "" "*"')).toMatch(/^a2 BAD /m);
    client.close();
  });
});

describe('LIST-EXTENDED', () => {
  it('adds \\Subscribed with RETURN (SUBSCRIBED)', async () => {
    const account = await accountWith('Lists');
    await subscribe(account, 'Lists', false);
    const client = await loggedIn(account);
    expect(await client.command('a1', 'LIST "" "%s" RETURN (SUBSCRIBED CHILDREN)')).toBe(
      '* LIST (\\Subscribed \\HasNoChildren \\Drafts) "/" "Drafts"\r\n' +
        '* LIST (\\HasNoChildren) "/" "Lists"\r\n' +
        'a1 OK LIST completed\r\n',
    );
    client.close();
  });

  it('selects subscribed mailboxes, and with RECURSIVEMATCH the parents of hidden ones', async () => {
    const account = await accountWith('Fruit/Apple', 'Veg/Leek', 'Veg/Kale');
    for (const path of ['INBOX', 'Archive', 'Drafts', 'Junk', 'Sent', 'Trash']) {
      await subscribe(account, path, false);
    }
    for (const path of ['Fruit/Apple', 'Veg', 'Veg/Leek']) await subscribe(account, path, true);
    const client = await loggedIn(account);
    expect(await client.command('a1', 'LIST (SUBSCRIBED) "" "*"')).toBe(
      '* LIST (\\Subscribed \\HasNoChildren) "/" "Fruit/Apple"\r\n' +
        '* LIST (\\Subscribed \\HasChildren) "/" "Veg"\r\n' +
        '* LIST (\\Subscribed \\HasNoChildren) "/" "Veg/Leek"\r\n' +
        'a1 OK LIST completed\r\n',
    );
    expect(await client.command('a2', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')).toBe(
      '* LIST (\\HasChildren) "/" "Fruit" ("CHILDINFO" ("SUBSCRIBED"))\r\n' +
        '* LIST (\\Subscribed \\HasChildren) "/" "Veg" ("CHILDINFO" ("SUBSCRIBED"))\r\n' +
        'a2 OK LIST completed\r\n',
    );
    // With "*" the subscribed children match themselves: the unsubscribed parent is not needed.
    expect(await client.command('a3', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "*"')).toBe(
      '* LIST (\\Subscribed \\HasNoChildren) "/" "Fruit/Apple"\r\n' +
        '* LIST (\\Subscribed \\HasChildren) "/" "Veg" ("CHILDINFO" ("SUBSCRIBED"))\r\n' +
        '* LIST (\\Subscribed \\HasNoChildren) "/" "Veg/Leek"\r\n' +
        'a3 OK LIST completed\r\n',
    );
    expect(await client.command('a4', 'LIST (RECURSIVEMATCH) "" "*"')).toMatch(/^a4 BAD /m);
    client.close();
  });

  it('selects special-use mailboxes', async () => {
    const client = await loggedIn(await accountWith('Plain'));
    expect(await client.command('a1', 'LIST (SPECIAL-USE) "" "*" RETURN (SPECIAL-USE)')).toBe(
      '* LIST (\\HasNoChildren \\Archive) "/" "Archive"\r\n' +
        '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"\r\n' +
        '* LIST (\\HasNoChildren \\Junk) "/" "Junk"\r\n' +
        '* LIST (\\HasNoChildren \\Sent) "/" "Sent"\r\n' +
        '* LIST (\\HasNoChildren \\Trash) "/" "Trash"\r\n' +
        'a1 OK LIST completed\r\n',
    );
    client.close();
  });

  it('takes a list of patterns, listing each mailbox once', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('a1', 'LIST "" ("Sent" "S*" INBOX)')).toBe(
      '* LIST (\\HasNoChildren) "/" INBOX\r\n' +
        '* LIST (\\HasNoChildren \\Sent) "/" "Sent"\r\n' +
        'a1 OK LIST completed\r\n',
    );
    client.close();
  });

  it('returns STATUS after each selectable mailbox with RETURN (STATUS ...)', async () => {
    const account = await accountWith('Box/Child');
    const { store } = server.server;
    const box = (await store.getMailbox(account.userId, 'Box'))!;
    await store.append(box.id, Buffer.from('Subject: one\r\n\r\nbody\r\n'), { flags: ['\\Seen'] });
    await store.append(box.id, Buffer.from('Subject: two\r\n\r\nbody\r\n'));
    const client = await loggedIn(account);
    expect(await client.command('d1', 'DELETE Box/Child')).toMatch(/^d1 OK/m);
    expect(await client.command('c1', 'CREATE Box/Child/Leaf')).toMatch(/^c1 OK/m);
    expect(await client.command('d2', 'DELETE Box/Child')).toMatch(/^d2 OK/m);
    expect(await client.command('a1', 'LIST "" "Box*" RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))')).toBe(
      '* LIST (\\HasChildren) "/" "Box"\r\n' +
        '* STATUS "Box" (MESSAGES 2 UNSEEN 1 UIDNEXT 3)\r\n' +
        '* LIST (\\Noselect \\HasChildren) "/" "Box/Child"\r\n' +
        '* LIST (\\HasNoChildren) "/" "Box/Child/Leaf"\r\n' +
        '* STATUS "Box/Child/Leaf" (MESSAGES 0 UNSEEN 0 UIDNEXT 1)\r\n' +
        'a1 OK LIST completed\r\n',
    );
    client.close();
  });
});

describe('XLIST', () => {
  it("answers with Gmail's attributes and keyword", async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('x1', 'XLIST "" "*"')).toBe(
      '* XLIST (\\HasNoChildren \\Inbox) "/" INBOX\r\n' +
        '* XLIST (\\HasNoChildren \\Archive) "/" "Archive"\r\n' +
        '* XLIST (\\HasNoChildren \\Drafts) "/" "Drafts"\r\n' +
        '* XLIST (\\HasNoChildren \\Spam) "/" "Junk"\r\n' +
        '* XLIST (\\HasNoChildren \\Sent) "/" "Sent"\r\n' +
        '* XLIST (\\HasNoChildren \\Trash) "/" "Trash"\r\n' +
        'x1 OK XLIST completed\r\n',
    );
    expect(await client.command('x2', 'XLIST "" ""')).toBe(
      '* XLIST (\\Noselect) "/" ""\r\nx2 OK XLIST completed\r\n',
    );
    client.close();
  });
});

describe('LSUB', () => {
  it('lists subscribed mailboxes, with \\Noselect parents hidden by a trailing %', async () => {
    const account = await accountWith('Foo/Bar/Baz', 'Veg/Kale');
    for (const path of ['Archive', 'Drafts', 'Junk', 'Sent', 'Trash']) await subscribe(account, path, false);
    for (const path of ['Foo/Bar', 'Veg']) await subscribe(account, path, true);
    const client = await loggedIn(account);
    expect(await client.command('a1', 'LSUB "" "*"')).toBe(
      '* LSUB () "/" INBOX\r\n' +
        '* LSUB () "/" "Foo/Bar"\r\n' +
        '* LSUB () "/" "Veg"\r\n' +
        'a1 OK LSUB completed\r\n',
    );
    expect(await client.command('a2', 'LSUB "" "%"')).toBe(
      '* LSUB () "/" INBOX\r\n' +
        '* LSUB (\\Noselect) "/" "Foo"\r\n' +
        '* LSUB () "/" "Veg"\r\n' +
        'a2 OK LSUB completed\r\n',
    );
    expect(await client.command('a3', 'LSUB "" "Foo"')).toBe('a3 OK LSUB completed\r\n');
    expect(await client.command('a4', 'LSUB "Foo/" "%"')).toBe(
      '* LSUB () "/" "Foo/Bar"\r\na4 OK LSUB completed\r\n',
    );
    expect(await client.command('a5', 'LSUB "" ""')).toBe('a5 OK LSUB completed\r\n');
    client.close();
  });

  it('follows SUBSCRIBE and UNSUBSCRIBE', async () => {
    const client = await loggedIn(await accountWith('News'));
    expect(await client.command('u1', 'UNSUBSCRIBE News')).toBe('u1 OK UNSUBSCRIBE completed\r\n');
    expect(await client.command('a1', 'LSUB "" "N*"')).toBe('a1 OK LSUB completed\r\n');
    expect(await client.command('s1', 'SUBSCRIBE News')).toBe('s1 OK SUBSCRIBE completed\r\n');
    expect(await client.command('a2', 'LSUB "" "N*"')).toBe(
      '* LSUB () "/" "News"\r\na2 OK LSUB completed\r\n',
    );
    client.close();
  });
});

describe('imapflow', () => {
  it('lists, creates, renames, deletes and reads the status of mailboxes', async () => {
    const account = await newAccount(server);
    const client = await imapflowClient(account);
    try {
      const before = await client.list();
      expect(before.map((mailbox) => mailbox.path)).toEqual(
        expect.arrayContaining(['INBOX', 'Archive', 'Drafts', 'Junk', 'Sent', 'Trash']),
      );
      expect(before.find((mailbox) => mailbox.path === 'Sent')?.specialUse).toBe('\\Sent');

      const created = await client.mailboxCreate(['Projects', 'Mallard']);
      expect(created.path).toBe('Projects/Mallard');
      await client.mailboxRename('Projects/Mallard', 'Projects/Drake');
      const tree = (await client.list()).map((mailbox) => mailbox.path);
      expect(tree).toContain('Projects/Drake');
      expect(tree).not.toContain('Projects/Mallard');

      await client.append('Projects/Drake', Buffer.from('Subject: hi\r\n\r\nhello\r\n'), ['\\Seen']);
      const status = await client.status('Projects/Drake', { messages: true, unseen: true, uidNext: true });
      expect(status).toMatchObject({ path: 'Projects/Drake', messages: 1, unseen: 0, uidNext: 2 });

      await client.mailboxDelete('Projects/Drake');
      expect((await client.list()).map((mailbox) => mailbox.path)).not.toContain('Projects/Drake');
    } finally {
      await client.logout();
    }
  });
});
