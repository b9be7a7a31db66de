/** Transcripts for RENAME (RFC 3501 6.3.5), including INBOX's special case. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedIn, mailboxWith, newAccount } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe('RENAME', () => {
  it('renames a mailbox with its children, keeping UIDVALIDITY and messages', async () => {
    const account = await newAccount(server);
    const before = await mailboxWith(account, 'Old', [[], ['\\Seen']]);
    await server.server.store.createMailbox(account.userId, 'Old/Child');
    const client = await loggedIn(account);
    expect(await client.command('r1', 'RENAME Old New/Place')).toBe('r1 OK RENAME completed\r\n');
    expect(await client.command('l2', 'LIST "" "New*"')).toBe(
      '* LIST (\\HasChildren) "/" "New"\r\n' +
        '* LIST (\\HasChildren) "/" "New/Place"\r\n' +
        '* LIST (\\HasNoChildren) "/" "New/Place/Child"\r\n' +
        'l2 OK LIST completed\r\n',
    );
    expect(await client.command('l3', 'LIST "" "Old*"')).toBe('l3 OK LIST completed\r\n');
    expect(await client.command('s1', 'STATUS New/Place (MESSAGES UIDVALIDITY)')).toBe(
      `* STATUS "New/Place" (MESSAGES 2 UIDVALIDITY ${before.uidValidity})\r\ns1 OK STATUS completed\r\n`,
    );
    client.close();
  });

  it('moves the messages of INBOX to the new mailbox and leaves INBOX empty', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'INBOX', [[], []]);
    await server.server.store.createMailbox(account.userId, 'INBOX/Kept');
    const client = await loggedIn(account);
    expect(await client.command('r1', 'RENAME inbox "Old Mail"')).toBe('r1 OK RENAME completed\r\n');
    expect(await client.command('s1', 'STATUS INBOX (MESSAGES)')).toBe(
      '* STATUS INBOX (MESSAGES 0)\r\ns1 OK STATUS completed\r\n',
    );
    expect(await client.command('s2', 'STATUS "Old Mail" (MESSAGES)')).toBe(
      '* STATUS "Old Mail" (MESSAGES 2)\r\ns2 OK STATUS completed\r\n',
    );
    // INBOX's children stay where they are.
    expect(await client.command('l1', 'LIST "" "INBOX*"')).toBe(
      '* LIST (\\HasChildren) "/" INBOX\r\n' +
        '* LIST (\\HasNoChildren) "/" "INBOX/Kept"\r\n' +
        'l1 OK LIST completed\r\n',
    );
    client.close();
  });

  it('reports the messages leaving a selected INBOX as EXPUNGEs', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'INBOX', [[], []]);
    const client = await loggedIn(account);
    expect(await client.command('s1', 'SELECT INBOX')).toMatch(/\* 2 EXISTS/);
    expect(await client.command('r1', 'RENAME INBOX Saved')).toBe(
      '* 2 EXPUNGE\r\n* 1 EXPUNGE\r\nr1 OK RENAME completed\r\n',
    );
    client.close();
  });

  it('keeps a renamed selected mailbox selected', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Here', [[]]);
    const client = await loggedIn(account);
    expect(await client.command('s1', 'SELECT Here')).toMatch(/^s1 OK/m);
    expect(await client.command('r1', 'RENAME Here There')).toBe('r1 OK RENAME completed\r\n');
    expect(await client.command('f1', 'FETCH 1 UID')).toBe('* 1 FETCH (UID 1)\r\nf1 OK FETCH completed\r\n');
    client.close();
  });

  it('refuses missing sources, taken targets and moves into itself', async () => {
    const account = await newAccount(server);
    await server.server.store.createMailbox(account.userId, 'Tree/Leaf');
    const client = await loggedIn(account);
    expect(await client.command('r1', 'RENAME Nowhere Else')).toMatch(/^r1 NO \[NONEXISTENT\] /m);
    expect(await client.command('r2', 'RENAME Sent Junk')).toMatch(/^r2 NO \[ALREADYEXISTS\] /m);
    expect(await client.command('r3', 'RENAME Sent inbox')).toMatch(/^r3 NO \[ALREADYEXISTS\] /m);
    expect(await client.command('r4', 'RENAME Tree Tree/Leaf/Deeper')).toMatch(/^r4 NO \[CANNOT\] /m);
    expect(await client.command('r5', 'RENAME Tree Tree')).toMatch(/^r5 NO \[ALREADYEXISTS\] /m);
    expect(await client.command('r6', 'RENAME Sent "bad*name"')).toMatch(/^r6 NO \[CANNOT\] /m);
    expect(await client.command('r7', 'RENAME Sent "&Jjo"')).toMatch(/^r7 NO \[CANNOT\] /m);
    expect(await client.command('r8', `RENAME Sent "${'y'.repeat(1200)}"`)).toMatch(/^r8 NO \[CANNOT\] /m);
    expect(await client.command('r9', 'RENAME Sent')).toMatch(/^r9 BAD /m);
    expect(await client.command('l1', 'LIST "" "%"')).toMatch(/"Sent"[\s\S]*"Tree"/);
    client.close();
  });

  it('accepts a trailing delimiter on the new name', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('r1', 'RENAME Archive Attic/')).toBe('r1 OK RENAME completed\r\n');
    expect(await client.command('l1', 'LIST "" "A*"')).toBe(
      '* LIST (\\HasNoChildren \\Archive) "/" "Attic"\r\nl1 OK LIST completed\r\n',
    );
    client.close();
  });
});
