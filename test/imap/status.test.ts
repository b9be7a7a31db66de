/**
 * Transcripts for STATUS (RFC 3501 6.3.10) with HIGHESTMODSEQ (RFC 7162), SIZE (RFC 8438),
 * DELETED (RFC 9051), APPENDLIMIT (RFC 7889) and MAILBOXID (RFC 8474).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedIn, mailboxWith, newAccount, rawMessage } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe('STATUS', () => {
  it('reports the counters of a mailbox', async () => {
    const account = await newAccount(server);
    const box = await mailboxWith(account, 'Box', [['\\Seen'], [], ['\\Deleted', '\\Seen']]);
    // One more, still \Recent: not yet seen by any session.
    await server.server.store.append(box.id, rawMessage('fresh'));
    const mailbox = (await server.server.store.getMailboxById(box.id))!;
    const { bytes } = await server.server.store.mailboxCounts(box.id);
    const client = await loggedIn(account);
    expect(
      await client.command('s1', 'STATUS Box (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)'),
    ).toBe(
      `* STATUS "Box" (MESSAGES 4 RECENT 1 UIDNEXT 5 UIDVALIDITY ${mailbox.uidValidity} UNSEEN 2 ` +
        `HIGHESTMODSEQ ${mailbox.highestModseq})\r\ns1 OK STATUS completed\r\n`,
    );
    const limit = server.config.limits.max_message_size;
    expect(await client.command('s2', 'STATUS Box (SIZE DELETED APPENDLIMIT MAILBOXID)')).toBe(
      `* STATUS "Box" (SIZE ${bytes} DELETED 1 APPENDLIMIT ${limit} MAILBOXID (${box.id}))\r\n` +
        's2 OK STATUS completed\r\n',
    );
    client.close();
  });

  it('answers each item once, in the order asked, for INBOX in any case', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('s1', 'STATUS inbox (UIDNEXT messages UIDNEXT)')).toBe(
      '* STATUS INBOX (UIDNEXT 1 MESSAGES 0)\r\ns1 OK STATUS completed\r\n',
    );
    client.close();
  });

  it('works on the selected mailbox, counting its \\Recent messages, with OK [CLIENTBUG]', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Box', [[], []], { recent: true });
    const client = await loggedIn(account);
    expect(await client.command('e1', 'SELECT Box')).toMatch(/\* 2 RECENT/);
    expect(await client.command('s1', 'STATUS Box (MESSAGES RECENT)')).toBe(
      '* STATUS "Box" (MESSAGES 2 RECENT 2)\r\ns1 OK [CLIENTBUG] Status on selected mailbox completed\r\n',
    );
    client.close();
  });

  it('refuses mailboxes that do not exist or cannot be selected', async () => {
    const account = await newAccount(server);
    await server.server.store.createMailbox(account.userId, 'Gone/Child');
    await server.server.store.deleteMailbox(account.userId, 'Gone');
    const client = await loggedIn(account);
    expect(await client.command('s1', 'STATUS Nowhere (MESSAGES)')).toMatch(/^s1 NO \[NONEXISTENT\] /m);
    expect(await client.command('s2', 'STATUS Gone (MESSAGES)')).toMatch(/^s2 NO \[NONEXISTENT\] /m);
    expect(await client.command('s3', 'STATUS "&Jjo" (MESSAGES)')).toMatch(/^s3 NO \[CANNOT\] /m);
    expect(await client.command('s4', 'STATUS INBOX (BOGUS)')).toMatch(/^s4 BAD /m);
    expect(await client.command('s5', 'STATUS INBOX ()')).toMatch(/^s5 BAD /m);
    expect(await client.command('s6', 'STATUS INBOX')).toMatch(/^s6 BAD /m);
    expect(await client.command('s7', `STATUS "${'q'.repeat(4000)}" (MESSAGES)`)).toMatch(
      /^s7 NO \[NONEXISTENT\] /m,
    );
    client.close();
  });

  it('turns CONDSTORE on when HIGHESTMODSEQ is asked for', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Box', [[]]);
    const client = await loggedIn(account);
    expect(await client.command('s1', 'STATUS Box (HIGHESTMODSEQ)')).toMatch(/^s1 OK/m);
    expect(await client.command('e1', 'SELECT Box')).toMatch(/^e1 OK/m);
    expect(await client.command('f1', 'STORE 1 +FLAGS (\\Flagged)')).toMatch(/MODSEQ \(\d+\)/);
    client.close();
  });
});
