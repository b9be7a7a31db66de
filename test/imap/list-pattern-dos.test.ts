/**
 * A hostile LIST pattern must not freeze other sessions: patterns over 1,024 bytes are refused
 * with BAD [LIMIT] at once, and the longest allowed pathological pattern is matched against
 * hundreds of mailboxes in milliseconds while another session's NOOP is answered.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, newAccount, type Account } from '../helpers/mail-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MAILBOXES = 300;

let server: TestServer;
let account: Account;

beforeAll(async () => {
  server = await startTestServer();
  account = await newAccount(server);
  for (let index = 0; index < MAILBOXES; index++) {
    await server.server.store.createMailbox(
      account.userId,
      `Projects/Folder number ${index} with a rather long name/aaaaaaaaaaaa`,
    );
  }
}, 60_000);
afterEach(closeClients);
afterAll(() => server.stop());

/** Sends a LIST on one session and a NOOP on another at once; how long each took to answer. */
async function listBesideNoop(pattern: string) {
  const hostile = await loggedIn(account);
  const canary = await loggedIn(account);
  const started = performance.now();
  const listing = hostile.command('l', `LIST "" "${pattern}"`, 30_000).then((answer) => ({
    answer,
    ms: performance.now() - started,
  }));
  const noop = canary.command('n', 'NOOP', 30_000).then(() => performance.now() - started);
  return { list: await listing, noopMs: await noop };
}

describe('hostile LIST patterns', () => {
  it('refuses a 60 KB pattern with BAD [LIMIT] at once, without holding up another session', async () => {
    const { list, noopMs } = await listBesideNoop('*a'.repeat(30 * 1024));
    expect(list.answer).toMatch(/^l BAD \[LIMIT\] Mailbox pattern too long/m);
    expect(list.ms).toBeLessThan(500);
    expect(noopMs).toBeLessThan(500);
  }, 60_000);

  it('matches the longest allowed pathological pattern quickly, while a NOOP is answered', async () => {
    const pattern = '*a'.repeat(511) + '*b'; // 1,024 bytes: at the limit
    const { list, noopMs } = await listBesideNoop(pattern);
    expect(list.answer).toBe('l OK LIST completed\r\n');
    expect(list.ms).toBeLessThan(1000);
    expect(noopMs).toBeLessThan(300);
  }, 60_000);

  it('still lists what a long pattern matches', async () => {
    const client = await loggedIn(account);
    const pattern = `Projects/%${'%*'.repeat(200)}7 with a rather long name/${'a'.repeat(12)}`;
    const answer = await client.command('l', `LIST "" "${pattern}"`);
    const names = answer.split('\r\n').filter((line) => line.startsWith('* LIST'));
    // Folder numbers ending in 7: 7, 17, ..., 297.
    expect(names).toHaveLength(30);
    expect(answer).toMatch(/^l OK/m);
  }, 60_000);
});
