/**
 * BINARY (RFC 3516) end to end: the capability, APPEND with a literal8 `~{n}` (synchronising and
 * not) holding NUL bytes, FETCH BINARY / BINARY.PEEK / BINARY.SIZE / partials as in the RFC's
 * examples (section 5), \Seen set by BINARY and not by BINARY.PEEK, bad syntax refused with BAD,
 * then imapflow appending a message with NUL bytes and fetching parts with `binary: true`.
 * Decoding details and UNKNOWN-CTE are in test/imap/fetch.test.ts; Dovecot comparisons in
 * test/oracle/dovecot.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, imapflowClient, loggedIn, newAccount } from '../helpers/mail-fixtures.ts';
import { startTestServer, type LineClient, type TestServer } from '../helpers/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => closeClients());
afterAll(() => server.stop());

/** Bytes of the binary attachment: NUL, CR, LF and 8-bit octets. */
const BLOB = Buffer.from([0x00, 0x0d, 0x0a, 0x00, 0xff, 0x80, 0x7f, 0x00]);

/** A multipart whose second part is sent in binary (RFC 3516 allows it with APPEND literal8). */
function binaryMessage(): Buffer {
  return Buffer.concat([
    Buffer.from(
      'From: a@example.test\r\nSubject: binary\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: multipart/mixed; boundary="xx"\r\n\r\n--xx\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
        `${Buffer.from('Grüße, see the blob.').toString('base64')}\r\n--xx\r\n` +
        'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n',
    ),
    BLOB,
    Buffer.from('\r\n--xx--\r\n'),
  ]);
}

async function tagged(client: LineClient, tag: string): Promise<string> {
  return client.readUntil(new RegExp(`^${tag} (OK|NO|BAD)`));
}

describe('BINARY', () => {
  it('is advertised once logged in', async () => {
    const client = await loggedIn(await newAccount(server));
    expect(await client.command('c', 'CAPABILITY')).toMatch(/^\* CAPABILITY .* BINARY( |\r\n)/m);
  });

  it('appends a literal8 with NUL bytes and fetches the decoded parts back (RFC 3516 5)', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    const message = binaryMessage();
    // A synchronising literal8: the server answers "+" as for any literal.
    client.send(`a1 APPEND INBOX (\\Draft) ~{${message.length}}\r\n`);
    await client.readUntil(/^\+ /);
    client.send(Buffer.concat([message, Buffer.from('\r\n')]));
    expect(await tagged(client, 'a1')).toMatch(/^a1 OK \[APPENDUID \d+ 1\]/m);
    // The same bytes as a non-synchronising literal8.
    client.send(
      Buffer.concat([Buffer.from(`a2 APPEND INBOX ~{${message.length}+}\r\n`), message, Buffer.from('\r\n')]),
    );
    expect(await tagged(client, 'a2')).toMatch(/^a2 OK \[APPENDUID \d+ 2\]/m);
    await client.command('s', 'SELECT INBOX');

    // A part sent as binary comes back as literal8, byte for byte; its size without fetching it.
    expect(await client.command('f1', 'FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])')).toBe(
      `* 1 FETCH (BINARY.SIZE[2] ${BLOB.length} BINARY[2] ~{${BLOB.length}}\r\n${BLOB.toString('latin1')})\r\n` +
        'f1 OK FETCH completed\r\n',
    );
    // The base64 text part decoded; without NUL it is a plain literal.
    const text = Buffer.from('Grüße, see the blob.');
    expect(await client.command('f2', 'FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])')).toBe(
      `* 1 FETCH (BINARY[1] {${text.length}}\r\n${text.toString('latin1')} BINARY.SIZE[1] ${text.length})\r\n` +
        'f2 OK FETCH completed\r\n',
    );
    // A partial counts decoded octets.
    expect(await client.command('f3', 'FETCH 1 BINARY.PEEK[2]<3.2>')).toBe(
      '* 1 FETCH (BINARY[2]<3> ~{2}\r\n\x00\xff)\r\nf3 OK FETCH completed\r\n',
    );
    // BINARY (not .PEEK) sets \Seen and says so; BINARY.PEEK did not.
    expect(await client.command('f4', 'FETCH 2 BINARY[1]')).toBe(
      `* 2 FETCH (BINARY[1] {${text.length}}\r\n${text.toString('latin1')} FLAGS (\\Seen \\Recent))\r\n` +
        'f4 OK FETCH completed\r\n',
    );
    expect(await client.command('f5', 'FETCH 1 FLAGS')).toMatch(
      /^\* 1 FETCH \(FLAGS \(\\Draft \\Recent\)\)/m,
    );
  });

  it('refuses what RFC 3516 does not allow with BAD', async () => {
    const account = await newAccount(server);
    const client = await loggedIn(account);
    await client.command('s', 'SELECT INBOX');
    client.send(
      Buffer.concat([Buffer.from('a APPEND INBOX ~{20+}\r\n'), Buffer.alloc(20, 0x61), Buffer.from('\r\n')]),
    );
    expect(await tagged(client, 'a')).toMatch(/^a OK/m);
    // BINARY takes part numbers only (no HEADER/TEXT), BINARY.SIZE no partial.
    expect(await client.command('b1', 'FETCH 1 BINARY[HEADER]')).toMatch(/^b1 BAD /m);
    expect(await client.command('b2', 'FETCH 1 BINARY.SIZE[1]<0.5>')).toMatch(/^b2 BAD /m);
    // A literal8 only where the grammar has one (not as a mailbox name).
    client.send('b3 SELECT ~{5+}\r\nINBOX\r\n');
    expect(await tagged(client, 'b3')).toMatch(/^b3 BAD /m);
    expect(await client.command('b4', 'NOOP')).toMatch(/^b4 OK/m);
  });

  it('works with imapflow: append with NUL bytes (sent as literal8) and fetch with binary: true', async () => {
    const account = await newAccount(server);
    const client = await imapflowClient(account);
    expect(client.capabilities.has('BINARY')).toBe(true);
    const appended = await client.append('INBOX', binaryMessage());
    expect(appended).toMatchObject({ uid: 1 });
    await client.mailboxOpen('INBOX');
    const message = await client.fetchOne('1', { bodyParts: ['1', '2'] }, { uid: true, binary: true });
    expect(message).not.toBe(false);
    if (message === false) return;
    expect(message.bodyParts?.get('2')).toEqual(BLOB);
    expect(message.bodyParts?.get('1')?.toString('utf8')).toBe('Grüße, see the blob.');
    const stored = await server.server.store.listMessages(
      (await server.server.store.getMailbox(account.userId, 'INBOX'))!.id,
    );
    expect((await server.server.store.readBlob(stored[0]!.blobId)).equals(binaryMessage())).toBe(true);
    await client.logout();
  });
});
