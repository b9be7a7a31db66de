/** Transcripts for DELETE (RFC 3501 6.3.4). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedIn, mailboxWith, newAccount } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe('DELETE', () => {
  it('deletes a mailbox and its messages', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Old', [[], ['\\Seen']]);
    const client = await loggedIn(account);
    expect(await client.command('d1', 'DELETE Old')).toBe('d1 OK DELETE completed\r\n');
    expect(await client.command('l1', 'LIST "" Old')).toBe('l1 OK LIST completed\r\n');
    expect(await client.command('s1', 'SELECT Old')).toMatch(/^s1 NO \[NONEXISTENT\] /m);
    expect(await server.server.store.getMailbox(account.userId, 'Old')).toBeNull();
    client.close();
  });

  it('leaves a mailbox with children as \\Noselect, and refuses to delete that again', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Parent', [[]]);
    await server.server.store.createMailbox(account.userId, 'Parent/Child');
    const client = await loggedIn(account);
    expect(await client.command('d1', 'DELETE Parent')).toBe('d1 OK DELETE completed\r\n');
    expect(await client.command('l1', 'LIST "" "Parent*"')).toBe(
      '* LIST (\\Noselect \\HasChildren) "/" "Parent"\r\n' +
        '* LIST (\\HasNoChildren) "/" "Parent/Child"\r\n' +
        'l1 OK LIST completed\r\n',
    );
    expect(await client.command('d2', 'DELETE Parent')).toMatch(/^d2 NO \[CANNOT\] Mailbox has children/m);
    expect(await client.command('s1', 'SELECT Parent')).toMatch(/^s1 NO /m);
    expect(await client.command('t1', 'STATUS Parent (MESSAGES)')).toMatch(/^t1 NO /m);
    // Once the children are gone, the placeholder can go too.
    expect(await client.command('d3', 'DELETE Parent/Child')).toMatch(/^d3 OK/m);
    expect(await client.command('d4', 'DELETE Parent')).toBe('d4 OK DELETE completed\r\n');
    expect(await client.command('l2', 'LIST "" "Parent*"')).toBe('l2 OK LIST completed\r\n');
    client.close();
  });

  it('refuses INBOX and names that do not exist', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('d1', 'DELETE INBOX')).toMatch(/^d1 NO \[CANNOT\] /m);
    expect(await client.command('d2', 'DELETE inbox')).toMatch(/^d2 NO \[CANNOT\] /m);
    expect(await client.command('d3', 'DELETE Nowhere')).toMatch(/^d3 NO \[NONEXISTENT\] /m);
    expect(await client.command('d4', 'DELETE ""')).toMatch(/^d4 NO \[NONEXISTENT\] /m);
    expect(await client.command('d5', 'DELETE "&Jjo"')).toMatch(/^d5 NO \[CANNOT\] /m);
    expect(await client.command('d6', `DELETE "${'x'.repeat(5000)}"`)).toMatch(/^d6 NO \[NONEXISTENT\] /m);
    expect(await client.command('d7', 'DELETE "a*"')).toMatch(/^d7 NO \[NONEXISTENT\] /m);
    expect(await client.command('l1', 'LIST "" "*"')).toMatch(/INBOX[\s\S]*Trash/);
    client.close();
  });

  it('closes the session after deleting the selected mailbox, as Dovecot does', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Current', [[]]);
    const client = await loggedIn(account);
    expect(await client.command('s1', 'SELECT Current')).toMatch(/^s1 OK/m);
    client.send('d1 DELETE Current\r\n');
    expect(await client.readUntil(/^\* BYE/)).toBe(
      'd1 OK DELETE completed\r\n* BYE Selected mailbox was deleted, have to disconnect.\r\n',
    );
    await client.readUntil(/never/, 2000).catch(() => undefined);
    expect(client.closed).toBe(true);
    expect(await server.server.store.getMailbox(account.userId, 'Current')).toBeNull();
  });

  it('keeps the session when deleting another mailbox while one is selected', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Other', [[]]);
    const client = await loggedIn(account);
    expect(await client.command('s1', 'SELECT INBOX')).toMatch(/^s1 OK/m);
    expect(await client.command('d1', 'DELETE Other')).toBe('d1 OK DELETE completed\r\n');
    expect(await client.command('n1', 'NOOP')).toBe('n1 OK NOOP completed\r\n');
    client.close();
  });
});
