/**
 * Transcripts for COPY / UID COPY (RFC 3501 6.4.7, COPYUID of RFC 4315) and MOVE / UID MOVE
 * (RFC 6851) over real TCP against a real server, plus imapflow's copy and move.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeClients,
  imapflowClient,
  loggedIn,
  mailboxWith,
  newAccount,
  storedFlags,
  type Account,
} from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(closeClients);
afterAll(() => server.stop());

/**
 * An account with `Box` holding three messages (flags: none, \Seen, $Work), an empty `Target`, and
 * a client with Box selected.
 */
async function selected(selectCommand = 'SELECT Box', quotaBytes?: number) {
  const account = await newAccount(server, quotaBytes);
  const source = await mailboxWith(account, 'Box', [[], ['\\Seen'], ['$Work']]);
  const target = await mailboxWith(account, 'Target', []);
  const client = await loggedIn(account);
  expect(await client.command('S', selectCommand)).toMatch(/^S OK /m);
  return { account, source, target, client };
}

async function messageCount(account: Account, mailboxId: string): Promise<number> {
  return (await account.server.server.store.listMessages(mailboxId)).length;
}

describe('COPY', () => {
  it('copies with flags and answers COPYUID', async () => {
    const { account, source, target, client } = await selected();
    expect(await client.command('a1', 'COPY 2:3 Target')).toBe(
      `a1 OK [COPYUID ${target.uidValidity} 2:3 1:2] COPY completed\r\n`,
    );
    expect(await client.command('a2', 'UID COPY 1,3,77 Target')).toBe(
      `a2 OK [COPYUID ${target.uidValidity} 1,3 3:4] UID COPY completed\r\n`,
    );
    expect(await storedFlags(account, target.id)).toEqual({
      1: ['\\Seen'],
      2: ['$Work'],
      3: [],
      4: ['$Work'],
    });
    expect(await messageCount(account, source.id)).toBe(3);
    const raw = await account.server.server.store.listMessages(target.id);
    expect(raw.every((message) => message.size > 0)).toBe(true);
  });

  it('answers OK without COPYUID when a UID set matches nothing', async () => {
    const { account, target, client } = await selected();
    expect(await client.command('b1', 'UID COPY 50:60 Target')).toBe('b1 OK No messages found\r\n');
    expect(await messageCount(account, target.id)).toBe(0);
  });

  it('asks to create a missing target with TRYCREATE and copies nothing', async () => {
    const { account, source, client } = await selected();
    expect(await client.command('c1', 'COPY 1 Nowhere')).toBe('c1 NO [TRYCREATE] No such mailbox\r\n');
    expect(await client.command('c2', 'UID COPY 1:* "Box/Sub"')).toBe(
      'c2 NO [TRYCREATE] No such mailbox\r\n',
    );
    expect(await messageCount(account, source.id)).toBe(3);
  });

  it('copies into the selected mailbox itself and reports the new messages', async () => {
    const { account, source, client } = await selected();
    expect(await client.command('d1', 'COPY 1:2 Box')).toBe(
      '* 5 EXISTS\r\n' +
        '* 2 RECENT\r\n' +
        `d1 OK [COPYUID ${source.uidValidity} 1:2 4:5] COPY completed\r\n`,
    );
    expect(await messageCount(account, source.id)).toBe(5);
  });

  it('copies from a mailbox opened with EXAMINE', async () => {
    const { target, client } = await selected('EXAMINE Box');
    expect(await client.command('e1', 'COPY 1 Target')).toBe(
      `e1 OK [COPYUID ${target.uidValidity} 1 1] COPY completed\r\n`,
    );
  });

  it('refuses a copy over quota with OVERQUOTA and copies nothing', async () => {
    const account = await newAccount(server);
    const source = await mailboxWith(account, 'INBOX', [[], [], []]);
    const target = await mailboxWith(account, 'Target', []);
    const { store } = account.server.server;
    const used = (await store.getQuota(account.userId)).usedBytes;
    await store.updateUser(account.userId, { quotaBytes: used + 10 });
    const client = await loggedIn(account);
    await client.command('f0', 'SELECT INBOX');
    expect(await client.command('f1', 'COPY 1:3 Target')).toMatch(/^f1 NO \[OVERQUOTA\] /);
    expect(await messageCount(account, target.id)).toBe(0);
    // MOVE within the account uses no more space: it is allowed.
    expect(await client.command('f2', 'MOVE 1 Target')).toMatch(/^f2 OK MOVE completed/m);
    expect(await messageCount(account, source.id)).toBe(2);
  });

  it('answers BAD for message numbers outside the mailbox and malformed arguments', async () => {
    const { account, target, client } = await selected();
    const bad = [
      'COPY 0 Target',
      'COPY 4 Target',
      'COPY 2:9 Target',
      'COPY 1',
      'COPY Target',
      'COPY 1 Target extra',
      'UID COPY 0:2 Target',
      'MOVE 4 Target',
      'MOVE 1',
    ];
    for (const [index, command] of bad.entries()) {
      expect(await client.command(`g${index}`, command), command).toMatch(new RegExp(`^g${index} BAD `, 'm'));
    }
    expect(await client.command('g98', 'COPY 1 "&Jjo"')).toMatch(/^g98 NO /);
    expect(await messageCount(account, target.id)).toBe(0);
    expect(await client.command('g99', 'NOOP')).toBe('g99 OK NOOP completed\r\n');
  });

  it('answers BAD for message numbers in an empty mailbox', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Empty', []);
    const client = await loggedIn(account);
    await client.command('h0', 'SELECT Empty');
    expect(await client.command('h1', 'COPY 1:* INBOX')).toMatch(/^h1 BAD /);
    expect(await client.command('h2', 'UID COPY 1:* INBOX')).toBe('h2 OK No messages found\r\n');
    expect(await client.command('h3', 'UID MOVE 1:* INBOX')).toBe('h3 OK No messages found\r\n');
  });

  it('says EXPUNGEISSUED when the messages named were expunged by another session', async () => {
    const { account, source, target, client } = await selected();
    await account.server.server.store.deleteMessages(source.id, [2]);
    expect(await client.command('i1', 'COPY 2 Target')).toBe(
      '* 2 EXPUNGE\r\ni1 NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n',
    );
    expect(await messageCount(account, target.id)).toBe(0);
  });
});

describe('MOVE', () => {
  it('moves: untagged COPYUID, then the EXPUNGEs, then the tagged OK', async () => {
    const { account, source, target, client } = await selected();
    expect(await client.command('m1', 'MOVE 1:2 Target')).toBe(
      `* OK [COPYUID ${target.uidValidity} 1:2 1:2] Moved UIDs\r\n` +
        '* 2 EXPUNGE\r\n' +
        '* 1 EXPUNGE\r\n' +
        'm1 OK MOVE completed\r\n',
    );
    expect(await storedFlags(account, target.id)).toEqual({ 1: [], 2: ['\\Seen'] });
    expect(await storedFlags(account, source.id)).toEqual({ 3: ['$Work'] });
    expect(await client.command('m2', 'UID MOVE 3 Target')).toBe(
      `* OK [COPYUID ${target.uidValidity} 3 3] Moved UIDs\r\n` +
        '* 1 EXPUNGE\r\n' +
        'm2 OK UID MOVE completed\r\n',
    );
    expect(await client.command('m3', 'UID MOVE 1:* Target')).toBe('m3 OK No messages found\r\n');
    expect(await messageCount(account, target.id)).toBe(3);
  });

  it('moves messages that are not adjacent', async () => {
    const { target, client } = await selected();
    expect(await client.command('n1', 'UID MOVE 3,1 Target')).toBe(
      `* OK [COPYUID ${target.uidValidity} 1,3 1:2] Moved UIDs\r\n` +
        '* 3 EXPUNGE\r\n' +
        '* 1 EXPUNGE\r\n' +
        'n1 OK UID MOVE completed\r\n',
    );
    expect(await client.command('n2', 'UID FETCH 1:* (FLAGS)')).toMatch(
      /^\* 1 FETCH \((UID 2 FLAGS \(\\Seen\)|FLAGS \(\\Seen\) UID 2)\)\r\n/,
    );
  });

  it('moves within the selected mailbox: EXPUNGE, then EXISTS of the new copy', async () => {
    const { source, client } = await selected();
    expect(await client.command('o1', 'MOVE 1 Box')).toBe(
      `* OK [COPYUID ${source.uidValidity} 1 4] Moved UIDs\r\n` +
        '* 1 EXPUNGE\r\n' +
        '* 3 EXISTS\r\n' +
        '* 1 RECENT\r\n' +
        'o1 OK MOVE completed\r\n',
    );
  });

  it('asks to create a missing target with TRYCREATE and moves nothing', async () => {
    const { account, source, client } = await selected();
    expect(await client.command('p1', 'MOVE 1:3 Nowhere')).toBe('p1 NO [TRYCREATE] No such mailbox\r\n');
    expect(await client.command('p2', 'UID MOVE 1 nowhere/deeper')).toBe(
      'p2 NO [TRYCREATE] No such mailbox\r\n',
    );
    expect(await messageCount(account, source.id)).toBe(3);
  });

  it('refuses MOVE in a mailbox opened with EXAMINE', async () => {
    const { account, source, target, client } = await selected('EXAMINE Box');
    expect(await client.command('q1', 'MOVE 1 Target')).toBe(
      'q1 NO [READ-ONLY] Mailbox is read-only (EXAMINE): messages cannot be moved\r\n',
    );
    expect(await client.command('q2', 'UID MOVE 1:* Target')).toMatch(/^q2 NO \[READ-ONLY\]/);
    expect(await messageCount(account, source.id)).toBe(3);
    expect(await messageCount(account, target.id)).toBe(0);
  });
});

describe('imapflow', () => {
  it('copies and moves with UID maps', async () => {
    const account = await newAccount(server);
    const inbox = await mailboxWith(account, 'INBOX', [[], ['\\Flagged'], []]);
    const archive = (await account.server.server.store.getMailbox(account.userId, 'Archive'))!;
    const client = await imapflowClient(account);
    try {
      await client.mailboxOpen('INBOX');
      const copied = await client.messageCopy('1:2', 'Archive');
      expect(copied).toMatchObject({
        path: 'INBOX',
        destination: 'Archive',
        uidValidity: BigInt(archive.uidValidity),
      });
      expect(copied && [...(copied.uidMap ?? new Map())]).toEqual([
        [1, 1],
        [2, 2],
      ]);
      const moved = await client.messageMove('3', 'Archive', { uid: true });
      expect(moved && [...(moved.uidMap ?? new Map())]).toEqual([[3, 3]]);
      expect(client.mailbox && client.mailbox.exists).toBe(2);
      expect(await storedFlags(account, archive.id)).toEqual({ 1: [], 2: ['\\Flagged'], 3: [] });
      expect(await messageCount(account, inbox.id)).toBe(2);
    } finally {
      await client.logout();
    }
  });
});
