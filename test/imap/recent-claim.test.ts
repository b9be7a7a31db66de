/**
 * \Recent with many sessions on one mailbox (RFC 3501 2.3.2: a message is recent in exactly one
 * session): sessions of one process share what they claimed, so a delivery to a mailbox that
 * twenty sessions idle on is claimed from the store once, not twenty times, and still exactly one
 * session reports it as recent.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const IDLERS = 20;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('rita@example.test', 'secret pass');
});
afterAll(() => server.stop());

async function idler(): Promise<LineClient> {
  const client = await LineClient.connect(server.imapPort);
  await client.readUntil(/^\* OK/);
  expect(await client.command('L', 'LOGIN rita@example.test "secret pass"')).toMatch(/^L OK /m);
  expect(await client.command('S', 'SELECT INBOX')).toMatch(/^S OK /m);
  client.send('I IDLE\r\n');
  await client.readUntil(/^\+ /);
  return client;
}

describe('\\Recent claimed once per process', () => {
  it('reports a new message as recent in one session of twenty, with one claim on the store', async () => {
    const clients = await Promise.all(Array.from({ length: IDLERS }, idler));
    const claims = vi.spyOn(server.server.store, 'claimRecent');
    const sender = await LineClient.connect(server.imapPort);
    await sender.readUntil(/^\* OK/);
    expect(await sender.command('L', 'LOGIN rita@example.test "secret pass"')).toMatch(/^L OK /m);
    const message = 'Subject: recent\r\n\r\nbody\r\n';
    sender.send(`A APPEND INBOX {${message.length}+}\r\n${message}\r\n`);
    await sender.readUntil(/^A OK /);
    const recent = await Promise.all(
      clients.map(async (client) => {
        await client.readUntil(/^\* 1 EXISTS$/, 30_000);
        return (await client.readUntil(/^\* \d+ RECENT$/, 30_000)).trim();
      }),
    );
    expect(recent.filter((line) => line === '* 1 RECENT')).toHaveLength(1);
    expect(recent.filter((line) => line === '* 0 RECENT')).toHaveLength(IDLERS - 1);
    expect(claims).toHaveBeenCalledTimes(1);
    claims.mockRestore();
    for (const client of [...clients, sender]) client.close();
  });
});
