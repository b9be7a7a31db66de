/**
 * Literals before authentication are limited to `limits.prelogin_literal_size` (8 KiB by default):
 * a bigger synchronising literal is refused with NO [TOOBIG] and no `+`, a bigger
 * non-synchronising one closes the connection (its bytes cannot be told apart from
 * commands); after login the APPEND limit applies again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, newAccount } from '../helpers/mail-fixtures.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
const clients = new Set<LineClient>();

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => {
  for (const client of clients) client.close();
  clients.clear();
  closeClients();
});
afterAll(() => server.stop());

async function greeted(): Promise<LineClient> {
  const client = await LineClient.connect(server.imapPort);
  clients.add(client);
  await client.readUntil(/^\* OK/);
  return client;
}

describe('literals before login', () => {
  it('refuses a 64 MB synchronising literal with NO [TOOBIG] and no continuation', async () => {
    const client = await greeted();
    client.send(`a LOGIN {${64 * 1024 * 1024}}\r\n`);
    const answer = await client.readUntil(/^a (OK|NO|BAD)/);
    expect(answer).toBe('a NO [TOOBIG] Literal too large before login\r\n');
    // The session goes on: the client did not send the literal.
    expect(await client.command('b', 'NOOP')).toBe('b OK NOOP completed\r\n');
  });

  it('refuses one byte over the limit, and accepts a LOGIN with literals within it', async () => {
    const limit = server.config.limits.prelogin_literal_size;
    expect(limit).toBe(8 * 1024);
    const client = await greeted();
    expect(await client.command('a', `LOGIN {${limit + 1}}`)).toMatch(/^a NO \[TOOBIG\]/);
    const account = await newAccount(server);
    client.send(`b LOGIN {${account.username.length}}\r\n`);
    await client.readUntil(/^\+ /);
    client.send(`${account.username} {${account.password.length}}\r\n`);
    await client.readUntil(/^\+ /);
    client.send(`${account.password}\r\n`);
    expect(await client.readUntil(/^b (OK|NO|BAD)/)).toMatch(/^b OK /m);
  });

  it('closes the connection on a non-synchronising literal over the limit', async () => {
    const client = await greeted();
    client.send(`a LOGIN {${64 * 1024 * 1024}+}\r\n`);
    client.send(Buffer.alloc(64 * 1024, 0x61));
    expect(await client.readUntil(/^\* BYE/)).toMatch(
      /^\* BYE \[TOOBIG\] Literal over 8192 bytes before login/,
    );
    await new Promise<void>((resolve) => (client.closed ? resolve() : client.socket.once('close', resolve)));
  });

  it('accepts a small non-synchronising literal before login', async () => {
    const account = await newAccount(server);
    const client = await greeted();
    client.send(`a LOGIN {${account.username.length}+}\r\n${account.username} "${account.password}"\r\n`);
    expect(await client.readUntil(/^a (OK|NO|BAD)/)).toMatch(/^a OK /m);
  });

  it('allows the full APPEND limit once logged in', async () => {
    const account = await newAccount(server);
    const client = await greeted();
    expect(await client.command('a', `LOGIN ${account.username} "${account.password}"`)).toMatch(/^a OK/m);
    const message = Buffer.concat([
      Buffer.from('Subject: big\r\n\r\n'),
      Buffer.alloc(1024 * 1024, 0x62),
      Buffer.from('\r\n'),
    ]);
    client.send(`b APPEND INBOX {${message.length}}\r\n`);
    await client.readUntil(/^\+ /);
    client.send(Buffer.concat([message, Buffer.from('\r\n')]));
    expect(await client.readUntil(/^b (OK|NO|BAD)/)).toMatch(/^b OK \[APPENDUID /m);
  });
});
