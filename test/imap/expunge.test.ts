/**
 * Transcripts for EXPUNGE (RFC 3501 6.4.3), UID EXPUNGE (RFC 4315) and CLOSE's silent expunge
 * over real TCP against a real server, plus imapflow's messageDelete.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeClients,
  imapflowClient,
  loggedIn,
  mailboxWith,
  newAccount,
  storedFlags,
} from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(closeClients);
afterAll(() => server.stop());

const DELETED = ['\\Deleted'];

/** An account with `Box` holding messages with the given flags, and a client with it selected. */
async function selected(flags: string[][], selectCommand = 'SELECT Box') {
  const account = await newAccount(server);
  const mailbox = await mailboxWith(account, 'Box', flags);
  const client = await loggedIn(account);
  expect(await client.command('S', selectCommand)).toMatch(/^S OK /m);
  return { account, mailbox, client };
}

describe('EXPUNGE', () => {
  it('removes every \\Deleted message, reporting the highest sequence number first', async () => {
    const { account, mailbox, client } = await selected([DELETED, [], DELETED, DELETED, ['\\Seen']]);
    expect(await client.command('a1', 'EXPUNGE')).toBe(
      '* 4 EXPUNGE\r\n* 3 EXPUNGE\r\n* 1 EXPUNGE\r\na1 OK EXPUNGE completed\r\n',
    );
    expect(await storedFlags(account, mailbox.id)).toEqual({ 2: [], 5: ['\\Seen'] });
    expect(await client.command('a2', 'EXPUNGE')).toBe('a2 OK EXPUNGE completed\r\n');
  });

  it('expunges what this session flagged \\Deleted itself', async () => {
    const { account, mailbox, client } = await selected([[], [], []]);
    await client.command('b1', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
    expect(await client.command('b2', 'EXPUNGE')).toBe('* 2 EXPUNGE\r\nb2 OK EXPUNGE completed\r\n');
    expect(Object.keys(await storedFlags(account, mailbox.id))).toEqual(['1', '3']);
  });

  it('expunges a message another session flagged \\Deleted before this one heard of it', async () => {
    const { account, mailbox, client } = await selected([[], []]);
    await account.server.server.store.storeFlags(mailbox.id, [1], 'add', DELETED);
    expect(await client.command('c1', 'EXPUNGE')).toBe('* 1 EXPUNGE\r\nc1 OK EXPUNGE completed\r\n');
  });

  it('reports expunges by another session along with its own', async () => {
    const { account, mailbox, client } = await selected([[], DELETED, []]);
    await account.server.server.store.deleteMessages(mailbox.id, [3]);
    expect(await client.command('d1', 'EXPUNGE')).toBe(
      '* 3 EXPUNGE\r\n* 2 EXPUNGE\r\nd1 OK EXPUNGE completed\r\n',
    );
    expect(Object.keys(await storedFlags(account, mailbox.id))).toEqual(['1']);
  });

  it('answers OK in an empty mailbox', async () => {
    const { client } = await selected([]);
    expect(await client.command('e1', 'EXPUNGE')).toBe('e1 OK EXPUNGE completed\r\n');
    expect(await client.command('e2', 'UID EXPUNGE 1:*')).toBe('e2 OK UID EXPUNGE completed\r\n');
  });

  it('refuses to expunge in a mailbox opened with EXAMINE', async () => {
    const { account, mailbox, client } = await selected([DELETED], 'EXAMINE Box');
    expect(await client.command('f1', 'EXPUNGE')).toBe(
      'f1 NO [READ-ONLY] Mailbox is read-only (EXAMINE): nothing can be expunged\r\n',
    );
    expect(await client.command('f2', 'UID EXPUNGE 1')).toMatch(/^f2 NO \[READ-ONLY\]/);
    expect(await storedFlags(account, mailbox.id)).toEqual({ 1: DELETED });
  });

  it('is refused before a mailbox is selected', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    expect(await client.command('g1', 'EXPUNGE')).toMatch(/^g1 BAD .*without a selected mailbox/);
    expect(await client.command('g2', 'UID EXPUNGE 1')).toMatch(/^g2 BAD /);
  });
});

describe('UID EXPUNGE', () => {
  it('removes only the \\Deleted messages in the UID set', async () => {
    const { account, mailbox, client } = await selected([DELETED, [], DELETED, DELETED]);
    expect(await client.command('h1', 'UID EXPUNGE 2:3,99')).toBe(
      '* 3 EXPUNGE\r\nh1 OK UID EXPUNGE completed\r\n',
    );
    expect(await client.command('h2', 'UID EXPUNGE 50:*')).toBe(
      '* 3 EXPUNGE\r\nh2 OK UID EXPUNGE completed\r\n',
    );
    expect(await storedFlags(account, mailbox.id)).toEqual({ 1: DELETED, 2: [] });
    expect(await client.command('h3', 'UID EXPUNGE 5:10')).toBe('h3 OK UID EXPUNGE completed\r\n');
  });

  it('answers BAD for malformed arguments', async () => {
    const { account, mailbox, client } = await selected([DELETED]);
    const bad = ['UID EXPUNGE', 'UID EXPUNGE 0', 'UID EXPUNGE 1:0', 'UID EXPUNGE x', 'EXPUNGE 1'];
    for (const [index, command] of bad.entries()) {
      expect(await client.command(`i${index}`, command), command).toMatch(new RegExp(`^i${index} BAD `, 'm'));
    }
    // `$` (SEARCHRES) is a valid set; nothing saved yet, so nothing is expunged.
    expect(await client.command('d', 'UID EXPUNGE $')).toBe('d OK UID EXPUNGE completed\r\n');
    expect(await storedFlags(account, mailbox.id)).toEqual({ 1: DELETED });
  });
});

describe('CLOSE', () => {
  it('expunges silently', async () => {
    const { account, mailbox, client } = await selected([DELETED, [], DELETED]);
    expect(await client.command('j1', 'CLOSE')).toBe('j1 OK CLOSE completed\r\n');
    expect(await storedFlags(account, mailbox.id)).toEqual({ 2: [] });
    expect(await client.command('j2', 'NOOP')).toBe('j2 OK NOOP completed\r\n');
  });

  it('says BYE when another session deletes the selected mailbox, as Dovecot does', async () => {
    const { account, client } = await selected([DELETED]);
    await account.server.server.store.deleteMailbox(account.userId, 'Box');
    expect(await client.readUntil(/^\* BYE /, 2000)).toMatch(/^\* BYE Selected mailbox was deleted/m);
    await expect.poll(() => client.closed).toBe(true);
  });

  it('expunges nothing in a mailbox opened with EXAMINE', async () => {
    const { account, mailbox, client } = await selected([DELETED], 'EXAMINE Box');
    expect(await client.command('k1', 'CLOSE')).toBe('k1 OK CLOSE completed\r\n');
    expect(await storedFlags(account, mailbox.id)).toEqual({ 1: DELETED });
  });
});

describe('imapflow', () => {
  it('deletes messages (STORE \\Deleted and UID EXPUNGE)', async () => {
    const account = await newAccount(server);
    const inbox = await mailboxWith(account, 'INBOX', [[], DELETED, [], []]);
    const client = await imapflowClient(account);
    const expunged: number[] = [];
    client.on('expunge', (event: { seq: number }) => expunged.push(event.seq));
    try {
      await client.mailboxOpen('INBOX');
      expect(await client.messageDelete('3:4', { uid: true })).toBe(true);
      expect(expunged).toEqual([4, 3]);
      expect(client.mailbox && client.mailbox.exists).toBe(2);
      // The message flagged \Deleted beforehand is not in the set: UID EXPUNGE leaves it.
      expect(await storedFlags(account, inbox.id)).toEqual({ 1: [], 2: DELETED });
    } finally {
      await client.logout();
    }
  });
});
