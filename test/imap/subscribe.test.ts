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
