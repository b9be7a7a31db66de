/** Transcripts for SUBSCRIBE and UNSUBSCRIBE (RFC 3501 6.3.6-7). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe('SUBSCRIBE / UNSUBSCRIBE', () => {
  it('sets and clears the subscription, idempotently', async () => {
    const account = await newAccount(server);
    const { store } = server.server;
    const client = await loggedIn(account);
    expect(await client.command('u1', 'UNSUBSCRIBE Sent')).toBe('u1 OK UNSUBSCRIBE completed\r\n');
    expect(await client.command('u2', 'UNSUBSCRIBE Sent')).toBe('u2 OK UNSUBSCRIBE completed\r\n');
    expect((await store.getMailbox(account.userId, 'Sent'))?.subscribed).toBe(false);
    expect(await client.command('l1', 'LIST "" Sent RETURN (SUBSCRIBED)')).toBe(
      '* LIST (\\HasNoChildren \\Sent) "/" "Sent"\r\nl1 OK LIST completed\r\n',
    );
    expect(await client.command('s1', 'SUBSCRIBE Sent')).toBe('s1 OK SUBSCRIBE completed\r\n');
    expect(await client.command('s2', 'SUBSCRIBE Sent')).toBe('s2 OK SUBSCRIBE completed\r\n');
    expect((await store.getMailbox(account.userId, 'Sent'))?.subscribed).toBe(true);
    expect(await client.command('l2', 'LIST "" Sent RETURN (SUBSCRIBED)')).toBe(
      '* LIST (\\Subscribed \\HasNoChildren \\Sent) "/" "Sent"\r\nl2 OK LIST completed\r\n',
    );
    client.close();
  });

  it('handles INBOX in any case and modified UTF-7 names', async () => {
    const account = await newAccount(server);
    await server.server.store.createMailbox(account.userId, 'Ünïcode');
    const client = await loggedIn(account);
    expect(await client.command('u1', 'UNSUBSCRIBE inbox')).toBe('u1 OK UNSUBSCRIBE completed\r\n');
    expect(await client.command('u2', 'UNSUBSCRIBE "&ANw-n&AO8-code"')).toBe(
      'u2 OK UNSUBSCRIBE completed\r\n',
    );
    expect(await client.command('l1', 'LSUB "" "*"')).not.toMatch(/INBOX|code/);
    expect(await client.command('s1', 'SUBSCRIBE "&ANw-n&AO8-code"')).toMatch(/^s1 OK/m);
    expect(await client.command('l2', 'LSUB "" "*"')).toMatch(/^\* LSUB \(\) "\/" "&ANw-n&AO8-code"\r\n/m);
    client.close();
  });

  it('leaves subscriptions to the client: CREATE adds none, DELETE and RENAME remove none', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    expect(await client.command('c1', 'CREATE Lists/Rust')).toMatch(/^c1 OK /m);
    expect(await client.command('l1', 'LSUB "" "Lists*"')).toBe('l1 OK LSUB completed\r\n');
    expect(await client.command('s1', 'SUBSCRIBE Lists/Rust')).toMatch(/^s1 OK /m);
    expect(await client.command('d1', 'DELETE Lists/Rust')).toMatch(/^d1 OK /m);
    // RFC 3501 6.3.6: the server must not remove the name from the subscription list on its own.
    expect(await client.command('l2', 'LIST (SUBSCRIBED) "" "Lists*"')).toBe(
      '* LIST (\\NonExistent \\Subscribed) "/" "Lists/Rust"\r\nl2 OK LIST completed\r\n',
    );
    expect(await client.command('l3', 'LSUB "" "Lists/*"')).toBe(
      '* LSUB () "/" "Lists/Rust"\r\nl3 OK LSUB completed\r\n',
    );
    // Plain LIST names only mailboxes that exist.
    expect(await client.command('l4', 'LIST "" "Lists/*"')).toBe('l4 OK LIST completed\r\n');
    // Re-created, the mailbox shows its old subscription; unsubscribing a gone name works.
    expect(await client.command('c2', 'CREATE Lists/Rust')).toMatch(/^c2 OK /m);
    expect(await client.command('l5', 'LIST "" "Lists/Rust" RETURN (SUBSCRIBED)')).toBe(
      '* LIST (\\Subscribed \\HasNoChildren) "/" "Lists/Rust"\r\nl5 OK LIST completed\r\n',
    );
    expect(await client.command('d2', 'DELETE Lists/Rust')).toMatch(/^d2 OK /m);
    expect(await client.command('u1', 'UNSUBSCRIBE Lists/Rust')).toMatch(/^u1 OK /m);
    expect(await client.command('l6', 'LSUB "" "*"')).not.toContain('Lists');
    client.close();
  });

  it('refuses to subscribe to what does not exist, but unsubscribing from it is fine', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('s1', 'SUBSCRIBE Nowhere')).toMatch(/^s1 NO \[NONEXISTENT\] /m);
    expect(await client.command('s2', 'SUBSCRIBE "&Jjo"')).toMatch(/^s2 NO \[CANNOT\] /m);
    expect(await client.command('s3', 'SUBSCRIBE "a*"')).toMatch(/^s3 NO \[NONEXISTENT\] /m);
    expect(await client.command('s4', `SUBSCRIBE "${'z'.repeat(3000)}"`)).toMatch(/^s4 NO \[NONEXISTENT\] /m);
    expect(await client.command('u1', 'UNSUBSCRIBE Nowhere')).toBe('u1 OK UNSUBSCRIBE completed\r\n');
    expect(await client.command('s5', 'SUBSCRIBE')).toMatch(/^s5 BAD /m);
    client.close();
  });
});
