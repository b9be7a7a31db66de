/**
 * LITERAL- (RFC 7888) before login, LITERAL+ after: the capability lists, a non-synchronising
 * literal of 4096 bytes accepted and one of 4097 refused with a tagged BAD [TOOBIG] (the session
 * goes on), the same literal accepted after login, and imapflow logging in with a password longer
 * than 4096 bytes (it then sends a synchronising literal, as RFC 7888 asks).
 */
import { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => closeClients());
afterAll(() => server.stop());

async function greeted(): Promise<{ client: LineClient; greeting: string }> {
  const client = await LineClient.connect(server.imapPort);
  const greeting = await client.readUntil(/^\* OK/);
  return { client, greeting };
}

function capabilitiesOf(response: string): string[] {
  const match = /CAPABILITY ([^\]\r\n]*)/.exec(response);
  return match ? match[1]!.split(' ') : [];
}

describe('LITERAL-', () => {
  it('is advertised before login and replaced by LITERAL+ after it, never both', async () => {
    const account = await newAccount(server);
    const { client, greeting } = await greeted();
    try {
      const before = capabilitiesOf(greeting);
      expect(before).toContain('LITERAL-');
      expect(before).not.toContain('LITERAL+');
      const login = await client.command('a', `LOGIN ${account.username} "${account.password}"`);
      const after = capabilitiesOf(login);
      expect(after).toContain('LITERAL+');
      expect(after).not.toContain('LITERAL-');
      expect(capabilitiesOf(await client.command('b', 'CAPABILITY'))).toEqual(after);
    } finally {
      client.close();
    }
  });

  it('accepts a 4096-byte non-synchronising literal and refuses 4097 with BAD [TOOBIG]', async () => {
    const account = await newAccount(server);
    const { client } = await greeted();
    try {
      // 4096 bytes: read as the user name (no such user).
      client.send(`a LOGIN {4096+}\r\n${'u'.repeat(4096)} "${account.password}"\r\n`);
      expect(await client.readUntil(/^a (OK|NO|BAD)/)).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/m);
      // 4097 bytes: refused before login, the bytes thrown away, the session goes on.
      client.send(`b LOGIN {4097+}\r\n${'u'.repeat(4097)} "${account.password}"\r\n`);
      expect(await client.readUntil(/^b (OK|NO|BAD)/)).toBe(
        'b BAD [TOOBIG] Non-synchronizing literal over 4096 bytes (LITERAL-): send it synchronizing\r\n',
      );
      // The same size as a synchronising literal is fine (the pre-login limit is 8 KiB).
      client.send(`c LOGIN {4097}\r\n`);
      await client.readUntil(/^\+ /);
      client.send(`${'u'.repeat(4097)} "${account.password}"\r\n`);
      expect(await client.readUntil(/^c (OK|NO|BAD)/)).toMatch(/^c NO \[AUTHENTICATIONFAILED\]/m);
      expect(await client.command('d', `LOGIN ${account.username} "${account.password}"`)).toMatch(/^d OK/m);
    } finally {
      client.close();
    }
  });

  it('takes big non-synchronising literals after login (LITERAL+)', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    const message = `Subject: big\r\n\r\n${'b'.repeat(10_000)}\r\n`;
    client.send(`a APPEND INBOX {${message.length}+}\r\n${message}\r\n`);
    expect(await client.readUntil(/^a (OK|NO|BAD)/)).toMatch(/^a OK \[APPENDUID \d+ 1\]/);
  });

  it('lets imapflow send a password over 4096 bytes as a synchronising literal', async () => {
    const account = await newAccount(server);
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: server.imapPort,
      secure: false,
      auth: { user: account.username, pass: 'p'.repeat(5000) },
      logger: false,
      disableAutoIdle: true,
      tls: { rejectUnauthorized: false },
    });
    client.on('error', () => undefined);
    // Refused as a wrong password (NO), not as a protocol error (BAD).
    await expect(client.connect()).rejects.toMatchObject({ authenticationFailed: true });
    client.close();
  });
});
