/**
 * One stuck store call must not freeze every session (issue 19, item 11). The embedded engine's
 * writer thread is really stalled (MALLARD_TEST_STALL_STORE blocks it with Atomics.wait in the
 * middle of a call, as a frozen fsync would), and over real sockets:
 * - the stuck command answers NO [UNAVAILABLE] at the call deadline, not when the disk thaws;
 * - meanwhile other sessions are served at once: NOOP and FETCH in a selected mailbox, a new
 *   connection's greeting, LOGIN, LIST and SELECT (reads, which never wait for the writer);
 * - writes queued behind the stuck one (APPEND, an LMTP delivery) get a temporary failure at their
 *   deadline and never happen later; the stuck write itself, already started, lands when the disk
 *   thaws and is there exactly once.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SmtpLineClient } from '../delivery/clients.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const STALL_MS = 7000;
const CALL_TIMEOUT_MS = 1500;
/** "At once": far below the deadline, with room for a loaded 2-core machine. */
const PROMPT_MS = 600;

let server: TestServer;
let aliceId: string;

beforeAll(async () => {
  // Read by the store threads when they start: only calls naming the mailbox "Frozen" stall.
  process.env.MALLARD_TEST_STALL_STORE = `${STALL_MS}:Frozen`;
  try {
    server = await startTestServer({ MALLARD_STORE_SQLITE_CALL_TIMEOUT: String(CALL_TIMEOUT_MS / 1000) });
  } finally {
    delete process.env.MALLARD_TEST_STALL_STORE;
  }
  aliceId = await server.addUser('alice@example.test', 'secret pass');
  const inbox = (await server.server.store.getMailbox(aliceId, 'INBOX'))!;
  await server.server.store.append(inbox.id, Buffer.from('Subject: one\r\n\r\nfirst\r\n'));
});
afterAll(() => server?.stop());

async function loggedIn(): Promise<LineClient> {
  const client = await LineClient.connect(server.imapPort);
  await client.readUntil(/^\* OK/);
  expect(await client.command('L', 'LOGIN alice@example.test "secret pass"')).toMatch(/^L OK /m);
  return client;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

it('answers every other session at once while a write is stuck, and the stuck one NO [UNAVAILABLE] at its deadline', async () => {
  const watcher = await loggedIn();
  expect(await watcher.command('s', 'SELECT INBOX')).toMatch(/^\* 1 EXISTS/m);
  const stuck = await loggedIn();

  const stalledAt = performance.now();
  const create = await timed(() => stuck.command('c', 'CREATE Frozen', 10_000));
  expect(create.value).toMatch(/^c NO \[UNAVAILABLE\] /m);
  expect(create.ms).toBeGreaterThanOrEqual(CALL_TIMEOUT_MS - 50);
  expect(create.ms).toBeLessThan(STALL_MS - 2000);

  // The writer thread is still frozen: everything that only reads is served at once.
  const noop = await timed(() => watcher.command('n', 'NOOP'));
  expect(noop.value).toMatch(/^n OK /m);
  const fetch = await timed(() => watcher.command('f', 'FETCH 1:* (UID FLAGS)'));
  expect(fetch.value).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(/m);
  const greeting = await timed(async () => {
    const client = await LineClient.connect(server.imapPort);
    return { client, text: await client.readUntil(/^\* OK/) };
  });
  const fresh = greeting.value.client;
  const login = await timed(() => fresh.command('L', 'LOGIN alice@example.test "secret pass"'));
  expect(login.value).toMatch(/^L OK /m);
  const list = await timed(() => fresh.command('l', 'LIST "" *'));
  expect(list.value).toMatch(/^\* LIST .* INBOX\r\n/m);
  // SELECT writes only to claim \Recent for mail that arrived since the last SELECT: none here.
  const select = await timed(() => fresh.command('s', 'SELECT INBOX'));
  expect(select.value).toMatch(/^s OK \[READ-WRITE\]/m);
  for (const [what, ms] of [
    ['NOOP', noop.ms],
    ['FETCH', fetch.ms],
    ['greeting', greeting.ms],
    ['LOGIN', login.ms],
    ['LIST', list.ms],
    ['SELECT', select.ms],
  ] as const) {
    expect(ms, `${what} took ${ms.toFixed(0)} ms during the stall`).toBeLessThan(PROMPT_MS);
  }

  // Writes queued behind the stuck one: a temporary failure at their deadline, IMAP and LMTP alike.
  const lmtp = (await SmtpLineClient.connect(server.lmtpPort)).client;
  expect(await lmtp.command('LHLO client.test')).toMatch(/^250 /m);
  expect(await lmtp.command('MAIL FROM:<sender@remote.test>')).toMatch(/^250 /);
  expect(await lmtp.command('RCPT TO:<alice@example.test>')).toMatch(/^250 /);
  const [append, delivery] = await Promise.all([
    timed(() => watcher.command('a', 'APPEND INBOX {24+}\r\nSubject: two\r\n\r\nsecond\r\n', 10_000)),
    timed(() => lmtp.data(Buffer.from('Subject: three\r\n\r\nthird\r\n'))),
  ]);
  expect(append.value).toMatch(/^a NO \[UNAVAILABLE\] /m);
  expect(delivery.value.at(-1)).toMatch(/^451 4\.3\.0 <alice@example\.test>: /);
  for (const { ms } of [append, delivery]) expect(ms).toBeLessThan(CALL_TIMEOUT_MS + PROMPT_MS);
  // All of the above happened while the writer was frozen, or it proves nothing.
  expect(performance.now() - stalledAt).toBeLessThan(STALL_MS);

  // Once the disk thaws, the stuck CREATE (already started) lands; the queued writes never do.
  let listed = '';
  for (let attempt = 0; attempt < 100 && !/Frozen/.test(listed); attempt++) {
    listed = await fresh.command(`w${attempt}`, 'LIST "" Frozen');
    if (!/Frozen/.test(listed)) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(listed).toMatch(/^\* LIST \([^)]*\) "\/" "?Frozen"?\r\n/m);
  expect(await fresh.command('t', 'STATUS INBOX (MESSAGES)')).toMatch(/^\* STATUS INBOX \(MESSAGES 1\)/m);
  // And the store takes writes again.
  expect(await watcher.command('b', 'APPEND INBOX {22+}\r\nSubject: 4\r\n\r\nfourth\r\n')).toMatch(
    /^b OK \[APPENDUID \d+ 2\]/m,
  );
  for (const client of [watcher, stuck, fresh]) client.close();
  lmtp.close();
});
