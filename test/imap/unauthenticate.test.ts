/**
 * UNAUTHENTICATE (RFC 8437): the example of the RFC (log in, select, UNAUTHENTICATE, log in as
 * someone else on the same connection), what is reset (the selected mailbox closed without
 * expunging, ENABLEd extensions, the user's connection slot, the mailbox's updates), what stays
 * (TLS), and the refusals.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, mailboxWith, newAccount } from '../helpers/mail-fixtures.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  // One connection per user: UNAUTHENTICATE must give the slot back.
  server = await startTestServer({ MALLARD_IMAP_MAX_CONNECTIONS_PER_USER: '1' });
});
afterEach(() => closeClients());
afterAll(() => server.stop());

describe('UNAUTHENTICATE', () => {
  it('is advertised, and refused before login', async () => {
    const client = await LineClient.connect(server.imapPort);
    try {
      expect(await client.readUntil(/^\* OK/)).toMatch(/ UNAUTHENTICATE[ \]]/);
      expect(await client.command('a', 'UNAUTHENTICATE')).toBe(
        'a BAD UNAUTHENTICATE is not allowed before authentication\r\n',
      );
      expect(await client.command('b', 'UNAUTHENTICATE extra')).toMatch(/^b BAD /);
    } finally {
      client.close();
    }
  });

  it("follows RFC 8437's example: select, unauthenticate, log in as another user", async () => {
    const alice = await newAccount(server);
    const bob = await newAccount(server);
    const box = await mailboxWith(alice, 'INBOX', [['\\Deleted'], []]);
    await mailboxWith(bob, 'INBOX', [[]]);
    const client = await loggedIn(alice);
    expect(await client.command('A01', 'ENABLE CONDSTORE')).toMatch(/^\* ENABLED CONDSTORE/m);
    expect(await client.command('A02', 'SELECT INBOX')).toMatch(/^\* 2 EXISTS/m);
    const answer = await client.command('A03', 'UNAUTHENTICATE');
    // The OK lists the capabilities of the new state.
    expect(answer).toMatch(
      /^A03 OK \[CAPABILITY IMAP4rev1 LITERAL- [^\]]*AUTH=PLAIN[^\]]*\] UNAUTHENTICATE completed\r\n$/,
    );
    // The mailbox was closed without expunging, and no command of the old user works.
    expect((await server.server.store.listMessages(box.id)).map((message) => message.uid)).toEqual([1, 2]);
    expect(await client.command('A04', 'FETCH 1 FLAGS')).toMatch(/^A04 BAD .*before authentication/m);
    // Changes to the old user's mailbox are no longer reported.
    await server.server.store.append(box.id, Buffer.from('Subject: later\r\n\r\nx\r\n'));
    expect(await client.command('A05', 'NOOP')).toBe('A05 OK NOOP completed\r\n');
    // Alice's one connection slot is free again: she can log in elsewhere.
    const elsewhere = await loggedIn(alice);
    elsewhere.close();
    expect(await client.command('A06', `LOGIN ${bob.username} "${bob.password}"`)).toMatch(/^A06 OK /m);
    // Bob's mailbox, and CONDSTORE is off again (no HIGHESTMODSEQ-driven MODSEQ in FETCH).
    expect(await client.command('A07', 'SELECT INBOX')).toMatch(/^\* 1 EXISTS/m);
    expect(await client.command('A08', 'FETCH 1 (FLAGS)')).toMatch(/^\* 1 FETCH \(FLAGS \([^)]*\)\)\r\n/m);
  });

  it('keeps TLS: after STARTTLS, UNAUTHENTICATE and a new LOGIN work on the same encrypted connection', async () => {
    const account = await newAccount(server);
    const client = await LineClient.connect(server.imapPort);
    try {
      await client.readUntil(/^\* OK/);
      expect(await client.command('t', 'STARTTLS')).toMatch(/^t OK/m);
      await client.startTls();
      expect(await client.command('l', `LOGIN ${account.username} "${account.password}"`)).toMatch(/^l OK/m);
      const answer = await client.command('u', 'UNAUTHENTICATE');
      expect(answer).toMatch(/^u OK \[CAPABILITY /);
      expect(answer).not.toMatch(/STARTTLS/);
      expect(await client.command('l2', `LOGIN ${account.username} "${account.password}"`)).toMatch(
        /^l2 OK/m,
      );
    } finally {
      client.close();
    }
  });
});
