/**
 * Transcripts for the session-level commands: greeting, CAPABILITY, LOGIN, AUTHENTICATE, STARTTLS,
 * ID, ENABLE, NAMESPACE, SELECT/EXAMINE, UNSELECT, CLOSE, IDLE, COMPRESS, LOGOUT, and framing errors.
 */
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let userId: string;

beforeAll(async () => {
  server = await startTestServer();
  userId = await server.addUser('alice@example.test', 'secret pass');
});
afterAll(() => server.stop());

async function loggedIn(): Promise<LineClient> {
  const client = await LineClient.connect(server.imapPort);
  await client.readUntil(/^\* OK/);
  expect(await client.command('L', 'LOGIN alice@example.test "secret pass"')).toMatch(/^L OK /m);
  return client;
}

describe('greeting and capabilities', () => {
  it('greets with capabilities, offering STARTTLS and AUTH on loopback', async () => {
    const client = await LineClient.connect(server.imapPort);
    const greeting = await client.readUntil(/^\* OK/);
    expect(greeting).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 .*STARTTLS.*AUTH=PLAIN.*\] /);
    const capability = await client.command('a1', 'CAPABILITY');
    expect(capability).toMatch(
      /^\* CAPABILITY IMAP4rev1 .*IDLE.*CONDSTORE.*APPENDLIMIT=\d+.*COMPRESS=DEFLATE/m,
    );
    expect(capability).toMatch(/^a1 OK /m);
    client.close();
  });

  it('does not offer STARTTLS on the TLS port', async () => {
    const client = await LineClient.connect(server.imapsPort, true);
    const greeting = await client.readUntil(/^\* OK/);
    expect(greeting).not.toContain('STARTTLS');
    expect(greeting).toContain('AUTH=PLAIN');
    client.close();
  });

  it('answers unknown commands, bad syntax and wrong states with BAD', async () => {
    const client = await LineClient.connect(server.imapPort);
    await client.readUntil(/^\* OK/);
    expect(await client.command('b1', 'FROBNICATE')).toMatch(/^b1 BAD /m);
    expect(await client.command('b2', 'SELECT')).toMatch(/^b2 BAD /m);
    expect(await client.command('b3', 'SELECT INBOX')).toMatch(/^b3 BAD .*before authentication/m);
    expect(await client.command('b4', 'FETCH 1 FLAGS')).toMatch(/^b4 BAD /m);
    client.send('\r\n');
    expect(await client.command('b5', 'NOOP')).toMatch(/^b5 OK /m);
    client.close();
  });

  it('refuses an over-long line and stays usable', async () => {
    const client = await LineClient.connect(server.imapPort);
    await client.readUntil(/^\* OK/);
    client.send(`c1 NOOP ${'x'.repeat(server.config.limits.max_line_length + 10)}\r\n`);
    expect(await client.readUntil(/BAD/)).toMatch(/BAD/);
    expect(await client.command('c2', 'NOOP')).toMatch(/^c2 OK /m);
    client.close();
  });
});

describe('authentication', () => {
  it('logs in with LOGIN and reports capabilities after login', async () => {
    const client = await LineClient.connect(server.imapPort);
    await client.readUntil(/^\* OK/);
    const response = await client.command('l1', 'LOGIN alice@example.test "secret pass"');
    expect(response).toMatch(/^l1 OK \[CAPABILITY IMAP4rev1 [^\]]*\] alice@example.test authenticated/m);
    expect(response).not.toMatch(/AUTH=PLAIN/);
    expect(await client.command('l2', 'LOGIN alice@example.test "secret pass"')).toMatch(/^l2 BAD /m);
    client.close();
  });

  it('refuses a wrong password with AUTHENTICATIONFAILED', async () => {
    const client = await LineClient.connect(server.imapPort);
    await client.readUntil(/^\* OK/);
    expect(await client.command('w1', 'LOGIN alice@example.test wrong')).toMatch(
      /^w1 NO \[AUTHENTICATIONFAILED\] Authentication failed/m,
    );
    expect(await client.command('w2', 'LOGIN nobody@example.test wrong')).toMatch(
      /^w2 NO \[AUTHENTICATIONFAILED\] Authentication failed/m,
    );
    client.close();
  });

  it('authenticates with AUTHENTICATE PLAIN, with and without SASL-IR', async () => {
    const token = Buffer.from('\0alice@example.test\0secret pass').toString('base64');
    const client = await LineClient.connect(server.imapPort);
    await client.readUntil(/^\* OK/);
    expect(await client.command('p1', `AUTHENTICATE PLAIN ${token}`)).toMatch(/^p1 OK /m);
    client.close();

    const second = await LineClient.connect(server.imapPort);
    await second.readUntil(/^\* OK/);
    second.send('p2 AUTHENTICATE PLAIN\r\n');
    await second.readUntil(/^\+/);
    second.send(`${token}\r\n`);
    expect(await second.readUntil(/^p2 /)).toMatch(/^p2 OK /m);
    second.close();
  });

  it('authenticates with AUTHENTICATE LOGIN and can be cancelled', async () => {
    const client = await LineClient.connect(server.imapPort);
    await client.readUntil(/^\* OK/);
    client.send('q1 AUTHENTICATE LOGIN\r\n');
    expect(await client.readUntil(/^\+/)).toBe(`+ ${Buffer.from('Username:').toString('base64')}\r\n`);
    client.send('*\r\n');
    expect(await client.readUntil(/^q1 /)).toMatch(/^q1 BAD /m);
    client.send('q2 AUTHENTICATE LOGIN\r\n');
    await client.readUntil(/^\+/);
    client.send(`${Buffer.from('alice@example.test').toString('base64')}\r\n`);
    await client.readUntil(/^\+/);
    client.send(`${Buffer.from('secret pass').toString('base64')}\r\n`);
    expect(await client.readUntil(/^q2 /)).toMatch(/^q2 OK /m);
    client.close();
  });

  it('upgrades with STARTTLS and drops what was pipelined behind it', async () => {
    const client = await LineClient.connect(server.imapPort);
    await client.readUntil(/^\* OK/);
    client.send('s1 STARTTLS\r\ns2 LOGIN alice@example.test "secret pass"\r\n');
    expect(await client.readUntil(/^s1 /)).toMatch(/^s1 OK /m);
    await client.startTls();
    const capability = await client.command('s3', 'CAPABILITY');
    expect(capability).not.toContain('STARTTLS');
    expect(capability).not.toMatch(/^s2 /m);
    expect(await client.command('s4', 'STARTTLS')).toMatch(/^s4 BAD /m);
    client.close();
  });
});

describe('authenticated commands', () => {
  it('answers ID, ENABLE and NAMESPACE', async () => {
    const client = await loggedIn();
    expect(await client.command('i1', 'ID ("name" "Thunderbird" "version" "128")')).toMatch(
      /^\* ID \("name" "Mallard" "version" "[^"]+"/m,
    );
    expect(await client.command('i2', 'ENABLE CONDSTORE UTF8=ACCEPT X-UNKNOWN')).toMatch(
      /^\* ENABLED CONDSTORE UTF8=ACCEPT\r\ni2 OK/m,
    );
    expect(await client.command('i3', 'NAMESPACE')).toMatch(/^\* NAMESPACE \(\("" "\/"\)\) NIL NIL/m);
    client.close();
  });

  it('selects INBOX with its state and examines read-only', async () => {
    await server.server.store.append(
      (await server.server.store.getMailbox(userId, 'INBOX'))!.id,
      Buffer.from('Subject: one\r\n\r\nbody\r\n'),
      { flags: ['$Important'] },
    );
    const client = await loggedIn();
    const selected = await client.command('s1', 'SELECT inbox');
    expect(selected).toMatch(/^\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Important\)/m);
    expect(selected).toMatch(/^\* OK \[PERMANENTFLAGS \(.*\\\*\)\]/m);
    expect(selected).toMatch(/^\* 1 EXISTS/m);
    expect(selected).toMatch(/^\* 1 RECENT/m);
    expect(selected).toMatch(/^\* OK \[UNSEEN 1\]/m);
    expect(selected).toMatch(/^\* OK \[UIDVALIDITY \d+\]/m);
    expect(selected).toMatch(/^\* OK \[UIDNEXT 2\]/m);
    expect(selected).toMatch(/^\* OK \[HIGHESTMODSEQ \d+\]/m);
    expect(selected).toMatch(/^s1 OK \[READ-WRITE\]/m);
    const examined = await client.command('s2', 'EXAMINE INBOX');
    expect(examined).toMatch(/^\* 0 RECENT/m);
    expect(examined).toMatch(/^s2 OK \[READ-ONLY\]/m);
    expect(await client.command('s3', 'SELECT "No such box"')).toMatch(/^s3 NO \[NONEXISTENT\]/m);
    expect(await client.command('s4', 'CHECK')).toMatch(/^s4 BAD /m);
    client.close();
  });

  it('unselects and closes', async () => {
    const client = await loggedIn();
    await client.command('u1', 'SELECT INBOX');
    expect(await client.command('u2', 'UNSELECT')).toMatch(/^u2 OK /m);
    expect(await client.command('u3', 'UNSELECT')).toMatch(/^u3 BAD /m);
    await client.command('u4', 'SELECT INBOX');
    expect(await client.command('u5', 'CLOSE')).toMatch(/^u5 OK /m);
    expect(await client.command('u6', 'CLOSE')).toMatch(/^u6 BAD /m);
    client.close();
  });

  it('idles, reports a delivery within a second, and handles commands pipelined after DONE', async () => {
    const client = await loggedIn();
    await client.command('d1', 'SELECT INBOX');
    client.send('d2 IDLE\r\n');
    await client.readUntil(/^\+ /);
    const inbox = (await server.server.store.getMailbox(userId, 'INBOX'))!;
    const started = Date.now();
    await server.server.store.append(inbox.id, Buffer.from('Subject: two\r\n\r\nbody\r\n'));
    expect(await client.readUntil(/^\* \d+ EXISTS/, 1500)).toMatch(/EXISTS/);
    expect(Date.now() - started).toBeLessThan(1000);
    client.send('DONE\r\nd3 NOOP\r\n');
    expect(await client.readUntil(/^d2 /)).toMatch(/^d2 OK /m);
    expect(await client.readUntil(/^d3 /)).toMatch(/^d3 OK /m);
    client.close();
  });

  it('idles without a selected mailbox (Outlook does)', async () => {
    const client = await loggedIn();
    client.send('o1 IDLE\r\n');
    await client.readUntil(/^\+ /);
    client.send('DONE\r\n');
    expect(await client.readUntil(/^o1 /)).toMatch(/^o1 OK /m);
    client.close();
  });

  it('compresses with DEFLATE', async () => {
    const client = await loggedIn();
    expect(await client.command('z1', 'COMPRESS DEFLATE')).toMatch(/^z1 OK /m);
    const inflate = zlib.createInflateRaw();
    const deflate = zlib.createDeflateRaw();
    const socket = client.socket;
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer | string) =>
      inflate.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk),
    );
    deflate.pipe(socket);
    let text = '';
    inflate.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    deflate.write('z2 NOOP\r\n');
    deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    await expect.poll(() => text, { timeout: 3000 }).toMatch(/^z2 OK /m);
    client.close();
  });

  it('says BYE on LOGOUT and closes', async () => {
    const client = await loggedIn();
    const response = await client.command('x1', 'LOGOUT');
    expect(response).toMatch(/^\* BYE /m);
    expect(response).toMatch(/^x1 OK /m);
    await expect.poll(() => client.closed).toBe(true);
  });
});

describe('without TLS where passwords are not allowed in clear text', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ MALLARD_TLS_PLAINTEXT_AUTH_ON_LOOPBACK: 'false' });
    await strict.addUser('eve@example.test', 'secret pass');
  });
  afterAll(() => strict.stop());

  it('advertises LOGINDISABLED and no AUTH=, refuses LOGIN, and allows it after STARTTLS', async () => {
    const client = await LineClient.connect(strict.imapPort);
    const greeting = await client.readUntil(/^\* OK/);
    expect(greeting).toContain('LOGINDISABLED');
    // (URLAUTH=BINARY is a capability of its own, not a SASL mechanism)
    expect(greeting).not.toMatch(/ AUTH=/);
    expect(await client.command('n1', 'LOGIN eve@example.test "secret pass"')).toMatch(
      /^n1 NO \[PRIVACYREQUIRED\]/m,
    );
    const token = Buffer.from('\0eve@example.test\0secret pass').toString('base64');
    expect(await client.command('n2', `AUTHENTICATE PLAIN ${token}`)).toMatch(/^n2 NO \[PRIVACYREQUIRED\]/m);
    expect(await client.command('n3', 'STARTTLS')).toMatch(/^n3 OK/m);
    await client.startTls();
    const capability = await client.command('n4', 'CAPABILITY');
    expect(capability).toContain('AUTH=PLAIN');
    expect(capability).not.toContain('LOGINDISABLED');
    expect(await client.command('n5', 'LOGIN eve@example.test "secret pass"')).toMatch(/^n5 OK/m);
    client.close();
  });

  it('allows LOGIN on the implicit TLS port', async () => {
    const client = await LineClient.connect(strict.imapsPort, true);
    await client.readUntil(/^\* OK/);
    expect(await client.command('t1', 'LOGIN eve@example.test "secret pass"')).toMatch(/^t1 OK/m);
    client.close();
  });
});
