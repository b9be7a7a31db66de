/**
 * Where passwords need TLS (issue 19, item 4), transcripts over raw sockets: the server advertises
 * no password mechanism (IMAP LOGINDISABLED, POP3 CAPA without USER/SASL) and refuses a login
 * BEFORE any secret is sent: no `+` continuation for AUTHENTICATE or for a LOGIN literal, POP3
 * refuses USER (not PASS) and AUTH. Both causes: a connection without TLS from a non-loopback
 * client (played by `tls.plaintext_auth_on_loopback: false`) and the `require-tls` connection rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pop3Client } from '../helpers/pop3.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

const PLAIN = Buffer.from('\0eve@example.test\0secret pass').toString('base64');

/** Sends a command and returns the first line that is a continuation or the tagged reply. */
async function firstAnswer(client: LineClient, tag: string, command: string): Promise<string> {
  client.send(`${tag} ${command}\r\n`);
  const text = await client.readUntil(new RegExp(`^(\\+|${tag} )`));
  const lines = text.split('\r\n');
  return lines[lines.length - 2]!;
}

async function imapGreeting(port: number): Promise<{ client: LineClient; greeting: string }> {
  const client = await LineClient.connect(port);
  return { client, greeting: await client.readUntil(/^\* OK/) };
}

/** The IMAP refusals every "TLS first" case shares. */
async function expectImapRefusesBeforeSecrets(port: number, text: RegExp): Promise<void> {
  const { client, greeting } = await imapGreeting(port);
  expect(greeting).toContain('LOGINDISABLED');
  // (URLAUTH=BINARY is a capability of its own, not a SASL mechanism)
  expect(greeting).not.toMatch(/ AUTH=/);
  expect(greeting).toContain('STARTTLS');
  for (const [tag, command] of [
    ['a1', 'AUTHENTICATE PLAIN'],
    ['a2', 'AUTHENTICATE LOGIN'],
    ['a3', `AUTHENTICATE PLAIN ${PLAIN}`],
    ['a4', 'LOGIN {16}'],
    ['a5', 'LOGIN eve@example.test {11}'],
    ['a6', 'LOGIN eve@example.test "secret pass"'],
  ] as const) {
    const answer = await firstAnswer(client, tag, command);
    expect(answer, command).toMatch(new RegExp(`^${tag} NO \\[PRIVACYREQUIRED\\] `));
    expect(answer, command).toMatch(text);
  }
  // The connection is still in step (no literal or continuation answer was expected).
  expect(await client.command('n1', 'NOOP')).toMatch(/^n1 OK/m);
  expect(await client.command('c1', 'CAPABILITY')).toContain('LOGINDISABLED');
  // After STARTTLS, passwords are welcome: AUTHENTICATE PLAIN asks for them.
  expect(await client.command('s1', 'STARTTLS')).toMatch(/^s1 OK/m);
  await client.startTls();
  const capability = await client.command('c2', 'CAPABILITY');
  expect(capability).toContain('AUTH=PLAIN');
  expect(capability).not.toContain('LOGINDISABLED');
  expect(await firstAnswer(client, 'p1', 'AUTHENTICATE PLAIN')).toBe('+ ');
  client.send(`${PLAIN}\r\n`);
  expect(await client.readUntil(/^p1 /)).toMatch(/^p1 OK/m);
  client.close();
}

/** The POP3 refusals every "TLS first" case shares. */
async function expectPop3RefusesBeforeSecrets(port: number, text: RegExp): Promise<void> {
  const client = await Pop3Client.open(port);
  const capa = (await client.multiline('CAPA')).lines;
  expect(capa).toContain('STLS');
  expect(capa).not.toContain('USER');
  expect(capa.some((line) => line.startsWith('SASL'))).toBe(false);
  for (const command of ['USER eve@example.test', 'AUTH PLAIN', `AUTH PLAIN ${PLAIN}`, 'AUTH LOGIN']) {
    const reply = await client.command(command);
    expect(reply, command).toMatch(/^-ERR \[AUTH\] /);
    expect(reply, command).toMatch(text);
  }
  expect((await client.multiline('AUTH')).lines).toEqual([]);
  expect(await client.command('STLS')).toMatch(/^\+OK/);
  await client.startTls();
  expect((await client.multiline('CAPA')).lines).toContain('USER');
  await client.login('eve@example.test', 'secret pass');
  client.close();
}

describe('no TLS, not from (allowed) loopback', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ MALLARD_TLS_PLAINTEXT_AUTH_ON_LOOPBACK: 'false' });
    await strict.addUser('eve@example.test', 'secret pass');
  });
  afterAll(() => strict.stop());

  it('IMAP: LOGINDISABLED, and LOGIN/AUTHENTICATE refused before any continuation', async () => {
    await expectImapRefusesBeforeSecrets(strict.imapPort, /STARTTLS or port 993/);
  });

  it('POP3: no USER/SASL in CAPA, USER and AUTH refused with [AUTH] before the password', async () => {
    await expectPop3RefusesBeforeSecrets(strict.pop3Port, /STLS or port 995/);
  });
});

describe('the require-tls rule on loopback', () => {
  let test: TestServer;
  beforeAll(async () => {
    test = await startTestServer();
    await test.addUser('eve@example.test', 'secret pass');
  });
  afterAll(() => test.stop());

  it('applies to what is advertised and refused, in its protocols only, after an allow rule', async () => {
    const rule = await test.server.store.createRule({ kind: 'require-tls' });
    await test.server.rules!.reload();
    await expectImapRefusesBeforeSecrets(test.imapPort, /requires TLS for passwords, even from this machine/);
    await expectPop3RefusesBeforeSecrets(test.pop3Port, /requires TLS for passwords, even from this machine/);

    // Scoped to POP3: IMAP takes passwords from loopback again.
    await test.server.store.updateRule(rule.id, { protocols: ['pop3'] });
    await test.server.rules!.reload();
    let { client, greeting } = await imapGreeting(test.imapPort);
    expect(greeting).toContain('AUTH=PLAIN');
    expect(await firstAnswer(client, 'p1', 'AUTHENTICATE PLAIN')).toBe('+ ');
    client.close();

    // An allow rule before it admits the address whatever follows, TLS requirement included.
    await test.server.store.updateRule(rule.id, { protocols: [] });
    const allow = await test.server.store.createRule({ kind: 'allow', cidrs: ['127.0.0.0/8'], position: 1 });
    await test.server.rules!.reload();
    ({ client, greeting } = await imapGreeting(test.imapPort));
    expect(greeting).not.toContain('LOGINDISABLED');
    expect(await client.command('l1', 'LOGIN eve@example.test "secret pass"')).toMatch(/^l1 OK/m);
    client.close();
    await test.server.store.deleteRule(allow.id);
    await test.server.store.deleteRule(rule.id);
    await test.server.rules!.reload();
  });
});
