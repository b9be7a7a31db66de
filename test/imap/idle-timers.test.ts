/**
 * IDLE's timers (RFC 2177): a keep-alive every imap.idle_keepalive seconds while idling, and at
 * imap.idle_max a BYE that ends the connection. One timer per idling session does both (memory per
 * session: thousands idle at once), so these check both ends of it with short settings. Not timed:
 * each step waits for the line it expects.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, newAccount, rawMessage, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('IDLE keep-alives and time limit', () => {
  let server: TestServer;
  let account: Account;

  beforeAll(async () => {
    server = await startTestServer({ MALLARD_IMAP_IDLE_KEEPALIVE: '1', MALLARD_IMAP_IDLE_MAX: '4' });
    account = await newAccount(server);
  });
  afterEach(closeClients);
  afterAll(() => server?.stop());

  it('sends keep-alives while idling, then BYE at the limit and closes', async () => {
    const client = await loggedIn(account);
    expect(await client.command('s1', 'SELECT INBOX')).toMatch(/^s1 OK /m);
    client.send('i1 IDLE\r\n');
    await client.readUntil(/^\+ /);
    const started = Date.now();
    const keepalives = await client.readUntil(/^\* OK Still here/, 10_000);
    expect(keepalives).not.toMatch(/BYE/);
    await client.readUntil(/^\* OK Still here/, 10_000);
    const end = await client.readUntil(/^\* BYE /, 15_000);
    expect(end).toMatch(/^\* BYE IDLE time limit reached/m);
    // Not before the limit (keep-alives never end it early).
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    await client.waitClosed();
  });

  it('keeps idling across keep-alives: DONE then ends IDLE, and the session goes on', async () => {
    const client = await loggedIn(account);
    expect(await client.command('s1', 'SELECT INBOX')).toMatch(/^s1 OK /m);
    client.send('i1 IDLE\r\n');
    await client.readUntil(/^\+ /);
    await client.readUntil(/^\* OK Still here/, 10_000);
    const inbox = (await server.server.store.getMailbox(account.userId, 'INBOX'))!;
    await server.server.store.append(inbox.id, rawMessage('while idling'));
    expect(await client.readUntil(/^\* \d+ EXISTS/, 10_000)).toMatch(/EXISTS/);
    client.send('DONE\r\n');
    expect(await client.readUntil(/^i1 /)).toMatch(/^i1 OK IDLE terminated/m);
    expect(await client.command('n1', 'NOOP')).toMatch(/^n1 OK /m);
    // A second IDLE gets its own keep-alives.
    client.send('i2 IDLE\r\n');
    await client.readUntil(/^\+ /);
    await client.readUntil(/^\* OK Still here/, 10_000);
    client.send('DONE\r\n');
    expect(await client.readUntil(/^i2 /)).toMatch(/^i2 OK /m);
  });
});
