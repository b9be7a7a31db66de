/**
 * Transcripts for CREATE (RFC 3501 6.3.3) and CREATE-SPECIAL-USE (RFC 6154 3), including
 * hostile names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

async function client() {
  const account = await newAccount(server);
  return { account, client: await loggedIn(account) };
}

describe('CREATE', () => {
  it('creates a mailbox with its missing parents', async () => {
    const { account, client: c } = await client();
    expect(await c.command('c1', 'CREATE Work/2024/Q1')).toMatch(
      /^c1 OK \[MAILBOXID \(\w+\)\] CREATE completed\r\n$/,
    );
    expect(await c.command('l1', 'LIST "" "Work*"')).toBe(
      '* LIST (\\HasChildren) "/" "Work"\r\n' +
        '* LIST (\\HasChildren) "/" "Work/2024"\r\n' +
        '* LIST (\\HasNoChildren) "/" "Work/2024/Q1"\r\n' +
        'l1 OK LIST completed\r\n',
    );
    const parent = await server.server.store.getMailbox(account.userId, 'Work');
    expect(parent?.selectable).toBe(true);
    c.close();
  });

  it('accepts and drops a trailing delimiter', async () => {
    const { client: c } = await client();
    expect(await c.command('c1', 'CREATE Folder/')).toMatch(
      /^c1 OK \[MAILBOXID \(\w+\)\] CREATE completed\r\n$/,
    );
    expect(await c.command('l1', 'LIST "" "Folder*"')).toBe(
      '* LIST (\\HasNoChildren) "/" "Folder"\r\nl1 OK LIST completed\r\n',
    );
    c.close();
  });

  it('refuses INBOX in any case and names that exist', async () => {
    const { client: c } = await client();
    expect(await c.command('c1', 'CREATE INBOX')).toMatch(/^c1 NO \[ALREADYEXISTS\] /m);
    expect(await c.command('c2', 'CREATE inbox')).toMatch(/^c2 NO \[ALREADYEXISTS\] /m);
    expect(await c.command('c3', 'CREATE "InBox/"')).toMatch(/^c3 NO \[ALREADYEXISTS\] /m);
    expect(await c.command('c4', 'CREATE Sent')).toMatch(/^c4 NO \[ALREADYEXISTS\] /m);
    expect(await c.command('c5', 'CREATE sent')).toMatch(
      /^c5 OK \[MAILBOXID \(\w+\)\] CREATE completed\r\n$/,
    );
    c.close();
  });

  it('creates children of INBOX', async () => {
    const { client: c } = await client();
    expect(await c.command('c1', 'CREATE inbox/Sub')).toMatch(
      /^c1 OK \[MAILBOXID \(\w+\)\] CREATE completed\r\n$/,
    );
    expect(await c.command('l1', 'LIST "" "INBOX*"')).toBe(
      '* LIST (\\HasChildren) "/" INBOX\r\n' +
        '* LIST (\\HasNoChildren) "/" "INBOX/Sub"\r\n' +
        'l1 OK LIST completed\r\n',
    );
    c.close();
  });

  it('makes a \\Noselect placeholder a mailbox again', async () => {
    const { client: c } = await client();
    expect(await c.command('c1', 'CREATE Old/Child')).toMatch(/^c1 OK/m);
    expect(await c.command('d1', 'DELETE Old')).toMatch(/^d1 OK/m);
    expect(await c.command('l1', 'LIST "" Old')).toMatch(/^\* LIST \(\\Noselect \\HasChildren\)/);
    expect(await c.command('c2', 'CREATE Old')).toMatch(/^c2 OK \[MAILBOXID \(\w+\)\] CREATE completed\r\n$/);
    expect(await c.command('l2', 'LIST "" Old')).toBe(
      '* LIST (\\HasChildren) "/" "Old"\r\nl2 OK LIST completed\r\n',
    );
    c.close();
  });

  it('decodes modified UTF-7 names', async () => {
    const { account, client: c } = await client();
    expect(await c.command('c1', 'CREATE "&ZeVnLIqe-"')).toMatch(
      /^c1 OK \[MAILBOXID \(\w+\)\] CREATE completed\r\n$/,
    );
    expect(await server.server.store.getMailbox(account.userId, '日本語')).not.toBeNull();
    expect(await c.command('l1', 'LIST "" "&ZeVnLIqe-"')).toBe(
      '* LIST (\\HasNoChildren) "/" "&ZeVnLIqe-"\r\nl1 OK LIST completed\r\n',
    );
    c.close();
  });

  it('refuses bad names with NO [CANNOT] and stays usable', async () => {
    const { client: c } = await client();
    const bad = [
      '"&Jjo"', // unterminated modified UTF-7
      '"&AGE-"', // ASCII encoded in base64
      '"a&b"', // a bare "&"
      '"a*b"', // LIST wildcards cannot be listed unambiguously
      '"a%b"',
      '"a//b"', // empty level
      '"/lead"',
      '"twice//"',
      '""',
      `"${'x'.repeat(1001)}"`, // longer than the store allows
      `"${Array.from({ length: 40 }, () => 'd').join('/')}"`, // deeper than the store allows
    ];
    for (const [index, name] of bad.entries()) {
      expect(await c.command(`b${index}`, `CREATE ${name}`)).toMatch(
        new RegExp(`^b${index} NO \\[CANNOT\\] `, 'm'),
      );
    }
    expect(await c.command('n1', 'NOOP')).toBe('n1 OK NOOP completed\r\n');
    expect(await c.command('l1', 'LIST "" "*"')).not.toMatch(/"a/);
    c.close();
  });

  it('takes a special use with CREATE-SPECIAL-USE', async () => {
    const { account, client: c } = await client();
    expect(await c.command('c1', 'CREATE Outbox (USE (\\Sent))')).toMatch(
      /^c1 OK \[MAILBOXID \(\w+\)\] CREATE completed\r\n$/,
    );
    expect((await server.server.store.getMailbox(account.userId, 'Outbox'))?.specialUse).toBe('\\Sent');
    expect(await c.command('l1', 'LIST "" Outbox')).toBe(
      '* LIST (\\HasNoChildren \\Sent) "/" "Outbox"\r\nl1 OK LIST completed\r\n',
    );
    expect(await c.command('c2', 'CREATE Stars (USE (\\Flagged))')).toMatch(/^c2 NO \[USEATTR\] /m);
    expect(await c.command('c3', 'CREATE Both (USE (\\Sent \\Trash))')).toMatch(/^c3 NO \[USEATTR\] /m);
    expect(await c.command('c4', 'CREATE Bad (USE (Sent))')).toMatch(/^c4 BAD /m);
    expect(await c.command('l2', 'LIST "" "%" ')).toMatch(/^l2 BAD /m);
    expect(await c.command('l3', 'LIST "" "Stars"')).toBe('l3 OK LIST completed\r\n');
    c.close();
  });
});
