/**
 * Cross-session updates: what one session (or a delivery straight to the store) changes reaches
 * another session with the same mailbox selected, as untagged FETCH / EXISTS / EXPUNGE at its next
 * command, or within a second while it IDLEs; never an EXPUNGE while it is answered a FETCH, STORE
 * or SEARCH by sequence number (RFC 3501 7.4.1); and \Recent for exactly one session.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closeClients,
  loggedIn,
  mailboxWith,
  newAccount,
  rawMessage,
  type Account,
} from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(closeClients);
afterAll(() => server.stop());

/** Two sessions (a, b) of one account, both with `Box` selected; Box holds messages with these flags. */
async function twoSessions(flags: string[][] = [[], [], []], selectA = 'SELECT Box') {
  const account = await newAccount(server);
  const mailbox = await mailboxWith(account, 'Box', flags);
  const a = await loggedIn(account);
  const b = await loggedIn(account);
  expect(await a.command('SA', selectA)).toMatch(/^SA OK /m);
  expect(await b.command('SB', 'SELECT Box')).toMatch(/^SB OK /m);
  return { account, mailbox, a, b };
}

function append(account: Account, mailboxId: string, flags: string[] = []) {
  return account.server.server.store.append(mailboxId, rawMessage('new'), { flags });
}

async function startIdle(client: LineClient, tag: string): Promise<void> {
  client.send(`${tag} IDLE\r\n`);
  await client.readUntil(/^\+ /);
}

/** Waits for an untagged line while idling; returns it with the time it took. */
async function idleUpdate(client: LineClient, pattern: RegExp): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  const text = await client.readUntil(pattern, 2000);
  return { text, ms: Date.now() - started };
}

describe('updates at the next command', () => {
  it('reports another session’s STORE as FETCH, and not a session’s own STORE twice', async () => {
    const { a, b } = await twoSessions();
    expect(await b.command('b1', 'STORE 2 +FLAGS (\\Flagged)')).toMatch(
      /^\* 2 FETCH \(FLAGS \(\\Flagged\)\)/,
    );
    expect(await a.command('a1', 'NOOP')).toBe(
      '* 2 FETCH (UID 2 FLAGS (\\Flagged))\r\na1 OK NOOP completed\r\n',
    );
    expect(await a.command('a2', 'NOOP')).toBe('a2 OK NOOP completed\r\n');
    expect(await b.command('b2', 'NOOP')).toBe('b2 OK NOOP completed\r\n');
  });

  it('announces another session’s new keyword in FLAGS, and adds MODSEQ under CONDSTORE', async () => {
    const { a, b } = await twoSessions([[], []], 'SELECT Box (CONDSTORE)');
    const stored = await b.command('b1', 'UID STORE 1 +FLAGS ($Todo)');
    expect(stored).toMatch(/^\* FLAGS \(.*\$Todo\)\r\n/);
    const response = await a.command('a1', 'NOOP');
    expect(response).toMatch(/^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Todo\)\r\n/);
    expect(response).toMatch(/^\* OK \[PERMANENTFLAGS \(.*\$Todo \\\*\)\]/m);
    expect(response).toMatch(
      /^\* 1 FETCH \(UID 1 FLAGS \(\$Todo\) MODSEQ \(\d+\)\)\r\na1 OK NOOP completed\r\n/m,
    );
  });

  it('does not announce a known keyword again when it comes in another case', async () => {
    const { account, mailbox, a } = await twoSessions([['Todo']]);
    await append(account, mailbox.id, ['TODO']);
    expect(await a.command('a1', 'NOOP')).toBe('* 2 EXISTS\r\n* 1 RECENT\r\na1 OK NOOP completed\r\n');
  });

  it('reports a delivery as EXISTS and RECENT', async () => {
    const { account, mailbox, a } = await twoSessions();
    await append(account, mailbox.id);
    expect(await a.command('a1', 'NOOP')).toBe('* 4 EXISTS\r\n* 1 RECENT\r\na1 OK NOOP completed\r\n');
  });

  it('reports another session’s EXPUNGE, MOVE and COPY', async () => {
    const { a, b } = await twoSessions([[], ['\\Deleted'], [], []]);
    await b.command('b1', 'EXPUNGE');
    expect(await a.command('a1', 'NOOP')).toBe('* 2 EXPUNGE\r\na1 OK NOOP completed\r\n');
    expect(await b.command('b2', 'MOVE 3 INBOX')).toMatch(/^b2 OK MOVE completed/m);
    expect(await a.command('a2', 'CHECK')).toBe('* 3 EXPUNGE\r\na2 OK CHECK completed\r\n');
    expect(await b.command('b3', 'COPY 1 Box')).toMatch(/^b3 OK \[COPYUID /m);
    expect(await a.command('a3', 'NOOP')).toMatch(
      /^\* 3 EXISTS\r\n\* (0|1) RECENT\r\na3 OK NOOP completed\r\n$/,
    );
  });
});

describe('EXPUNGE only when sequence numbers may change', () => {
  it('holds an EXPUNGE back during FETCH, STORE and SEARCH, and sends it on UID FETCH', async () => {
    const { account, mailbox, a } = await twoSessions();
    await account.server.server.store.deleteMessages(mailbox.id, [2]);
    await append(account, mailbox.id);
    const fetched = await a.command('a1', 'FETCH 1:* (FLAGS)');
    expect(fetched).not.toMatch(/EXPUNGE/);
    expect(fetched).toMatch(/^\* 4 EXISTS\r\n/m);
    expect(fetched).toMatch(/^a1 OK /m);
    expect(await a.command('a2', 'STORE 3 +FLAGS (\\Seen)')).toMatch(
      /^\* 3 FETCH \(FLAGS \(\\Seen\)\)\r\na2 OK /,
    );
    const searched = await a.command('a3', 'SEARCH ALL');
    expect(searched).toMatch(/^\* SEARCH 1 2 3 4\r\na3 OK /);
    expect(await a.command('a4', 'UID FETCH 1 (FLAGS)')).toMatch(
      /^\* 1 FETCH \(.*\r\n\* 2 EXPUNGE\r\na4 OK /,
    );
  });

  it('sends a held-back EXPUNGE on NOOP, UID STORE and UID SEARCH', async () => {
    const { account, mailbox, a } = await twoSessions([[], [], [], []]);
    const { store } = account.server.server;
    await store.deleteMessages(mailbox.id, [4]);
    expect(await a.command('a1', 'STORE 1 +FLAGS.SILENT (\\Seen)')).toBe('a1 OK STORE completed\r\n');
    expect(await a.command('a2', 'NOOP')).toBe('* 4 EXPUNGE\r\na2 OK NOOP completed\r\n');
    await store.deleteMessages(mailbox.id, [3]);
    expect(await a.command('a3', 'UID STORE 1 -FLAGS.SILENT (\\Seen)')).toBe(
      '* 3 EXPUNGE\r\na3 OK UID STORE completed\r\n',
    );
    await store.deleteMessages(mailbox.id, [2]);
    expect(await a.command('a4', 'UID SEARCH ALL')).toMatch(/^\* SEARCH 1 2\r\n\* 2 EXPUNGE\r\na4 OK /);
  });
});

describe('IDLE', () => {
  it('pushes STORE, delivery and EXPUNGE of others within a second', async () => {
    const { account, mailbox, a, b } = await twoSessions([[], ['\\Deleted'], []]);
    await startIdle(a, 'i1');
    await b.command('b1', 'STORE 1 +FLAGS (\\Answered)');
    const flags = await idleUpdate(a, /^\* 1 FETCH/);
    expect(flags.text).toBe('* 1 FETCH (UID 1 FLAGS (\\Answered))\r\n');
    expect(flags.ms).toBeLessThan(1000);
    await append(account, mailbox.id);
    const exists = await idleUpdate(a, /^\* 1 RECENT/);
    expect(exists.text).toBe('* 4 EXISTS\r\n* 1 RECENT\r\n');
    expect(exists.ms).toBeLessThan(1000);
    await b.command('b2', 'EXPUNGE');
    const expunge = await idleUpdate(a, /^\* 2 EXPUNGE/);
    expect(expunge.text).toBe('* 2 EXPUNGE\r\n');
    expect(expunge.ms).toBeLessThan(1000);
    a.send('DONE\r\n');
    expect(await a.readUntil(/^i1 /)).toBe('i1 OK IDLE terminated\r\n');
  });

  it('answers commands pipelined right after DONE in the same packet', async () => {
    const { account, mailbox, a } = await twoSessions();
    await startIdle(a, 'i1');
    await append(account, mailbox.id);
    await a.readUntil(/^\* 4 EXISTS/);
    a.send('DONE\r\np1 UID STORE 4 +FLAGS (\\Seen)\r\np2 NOOP\r\np3 UID FETCH 4 (FLAGS)\r\n');
    const answered = await a.readUntil(/^p3 /);
    expect(answered).toMatch(/^i1 OK IDLE terminated\r\n/m);
    expect(answered).toMatch(
      /^\* 4 FETCH \(FLAGS \(\\Seen \\Recent\) UID 4\)\r\np1 OK UID STORE completed\r\n/m,
    );
    expect(answered).toMatch(/^p2 OK NOOP completed\r\n/m);
    expect(answered).toMatch(/^p3 OK /m);
  });

  it('reports every one of a burst of deliveries', async () => {
    const { account, mailbox, a } = await twoSessions([]);
    await startIdle(a, 'i1');
    for (let round = 1; round <= 10; round++) {
      await append(account, mailbox.id);
      await new Promise((resolve) => setTimeout(resolve, round * 23));
    }
    expect(await a.readUntil(/^\* 10 EXISTS/, 2000)).toMatch(/10 EXISTS/);
    a.send('DONE\r\n');
    await a.readUntil(/^i1 /);
  });
});

describe('\\Recent', () => {
  it('is given to exactly one of two sessions with the mailbox selected', async () => {
    const { account, mailbox, a, b } = await twoSessions([]);
    await append(account, mailbox.id);
    const [fromA, fromB] = await Promise.all([a.command('a1', 'NOOP'), b.command('b1', 'NOOP')]);
    const recent = [fromA, fromB].map((text) => /^\* 1 RECENT/m.test(text));
    expect([fromA, fromB].every((text) => /^\* 1 EXISTS/m.test(text))).toBe(true);
    expect(recent.filter(Boolean)).toHaveLength(1);
    const winner = recent[0] ? a : b;
    const loser = recent[0] ? b : a;
    expect(await winner.command('w1', 'FETCH 1 (FLAGS)')).toMatch(/^\* 1 FETCH \(FLAGS \(\\Recent\)\)/);
    expect(await loser.command('l1', 'FETCH 1 (FLAGS)')).toMatch(/^\* 1 FETCH \(FLAGS \(\)\)/);
  });

  it('is given to the first of two sessions that SELECT; EXAMINE shows it without claiming it', async () => {
    const account = await newAccount(server);
    await mailboxWith(account, 'Box', [[]], { recent: true });
    const [a, b] = [await loggedIn(account), await loggedIn(account)];
    expect(await b.command('e1', 'EXAMINE Box')).toMatch(/^\* 1 RECENT/m);
    expect(await a.command('s1', 'SELECT Box')).toMatch(/^\* 1 RECENT/m);
    expect(await b.command('s2', 'SELECT Box')).toMatch(/^\* 0 RECENT/m);
  });
});
