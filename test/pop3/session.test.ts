/**
 * POP3 transcripts over real TCP against a real server on the sqlite store: greeting, CAPA, USER/
 * PASS, AUTH PLAIN/LOGIN, STLS, the TLS rule, every TRANSACTION command and its errors, the
 * maildrop lock, QUIT's commit (seen by IMAP), dropped connections, dot-stuffing, bare-LF messages,
 * pipelining, line limits, connection hooks and AUTH-RESP-CODE replies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginGuard } from '../../server/auth/login-guard.ts';
import type { Config } from '../../server/config/schema.ts';
import { ALLOW_ALL, type ConnectionHooks, type ConnectionSession } from '../../server/hooks/types.ts';
import type { Pop3Services } from '../../server/pop3/context.ts';
import { startPop3, type Pop3Options, type Pop3Service } from '../../server/pop3/server.ts';
import { StoreError } from '../../server/store/errors.ts';
import type { Store } from '../../server/store/types.ts';
import { message, Pop3Client, pop3Account, unstuff, type Pop3Account } from '../helpers/pop3.ts';
import { LineClient, startTestServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
const extraServices: Pop3Service[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await Promise.all(extraServices.map((service) => service.stop()));
  await server.stop();
});

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A second POP3 service on the same store, with other settings (plain port only). */
async function extraPop3(
  overrides: Partial<Pop3Services> & { configPatch?: (config: Config) => Config } = {},
  options: Pop3Options = {},
): Promise<number> {
  const { configPatch, ...rest } = overrides;
  const services: Pop3Services = {
    config: configPatch ? configPatch(server.config) : server.config,
    store: server.server.store,
    hooks: ALLOW_ALL,
    guard: new LoginGuard(),
    logger: server.server.logger,
    ...rest,
  };
  const service = await startPop3(services, server.server.tls, { port: -1, tlsPort: 0 }, options);
  extraServices.push(service);
  return service.listeners[0]!.port;
}

async function loggedIn(account: Pop3Account, port = server.pop3Port): Promise<Pop3Client> {
  const client = await Pop3Client.open(port);
  await client.login(account.username, account.password);
  return client;
}

async function inboxUids(account: Pop3Account): Promise<number[]> {
  return (await server.server.store.listMessages(account.inboxId)).map((summary) => summary.uid);
}

describe('greeting and CAPA', () => {
  it('greets, and lists capabilities with USER, SASL and STLS on plain loopback', async () => {
    const client = await Pop3Client.connect(server.pop3Port);
    expect(await client.readLine()).toBe('+OK Mallard POP3 ready');
    const capa = await client.multiline('CAPA');
    expect(capa.status).toBe('+OK Capability list follows');
    expect(capa.lines).toEqual([
      'TOP',
      'UIDL',
      'RESP-CODES',
      'AUTH-RESP-CODE',
      'PIPELINING',
      'USER',
      'SASL PLAIN LOGIN',
      'STLS',
      'EXPIRE NEVER',
      'IMPLEMENTATION Mallard',
    ]);
    expect(await client.command('QUIT')).toBe('+OK Bye');
    await client.waitClosed();
  });

  it('does not offer STLS on the implicit-TLS port, and announces the same list after login', async () => {
    const account = await pop3Account(server);
    const client = await Pop3Client.open(server.pop3sPort, true);
    const capa = await client.multiline('CAPA');
    expect(capa.lines).toContain('USER');
    expect(capa.lines).not.toContain('STLS');
    await client.login(account.username, account.password);
    // RFC 2449 5: capabilities of the AUTHORIZATION state are announced in both states.
    const after = await client.multiline('CAPA');
    expect(after.lines).toEqual(capa.lines);
    client.close();
  });

  it('keeps USER, SASL and STLS in CAPA after login on the plain port', async () => {
    const account = await pop3Account(server);
    const client = await Pop3Client.open(server.pop3Port);
    const before = await client.multiline('CAPA');
    await client.login(account.username, account.password);
    const after = await client.multiline('CAPA');
    expect(after.lines).toEqual(before.lines);
    expect(after.lines).toEqual(expect.arrayContaining(['USER', 'SASL PLAIN LOGIN', 'STLS']));
    client.close();
  });

  it('answers unknown commands and commands in the wrong state with -ERR', async () => {
    const client = await Pop3Client.open(server.pop3Port);
    expect(await client.command('FROB')).toBe('-ERR Unknown command FROB');
    expect(await client.command('STAT')).toBe('-ERR STAT is not allowed before login');
    expect(await client.command('RETR 1')).toBe('-ERR RETR is not allowed before login');
    expect(await client.command('APOP user 0123456789abcdef0123456789abcdef')).toBe(
      '-ERR Unknown command APOP',
    );
    expect(await client.command('CAPA extra')).toBe('-ERR Too many arguments for CAPA');
    client.send('\r\n'); // an empty line is ignored
    expect(await client.command('USER')).toMatch(/^-ERR USER needs one argument/);
    const account = await pop3Account(server);
    await client.login(account.username, account.password);
    expect(await client.command('USER x')).toBe('-ERR USER is not allowed after login');
    expect(await client.command('STLS')).toBe('-ERR STLS is not allowed after login');
    expect(await client.command('AUTH PLAIN')).toBe('-ERR AUTH is not allowed after login');
    client.close();
  });

  it('refuses an over-long line and stays usable; closes after repeated abuse', async () => {
    const client = await Pop3Client.open(server.pop3Port);
    client.send(`NOOP ${'x'.repeat(600)}\r\n`);
    expect(await client.readLine()).toBe('-ERR Command line too long');
    expect((await client.multiline('CAPA')).status).toMatch(/^\+OK/);
    for (let index = 0; index < 10; index++) client.send(`${'y'.repeat(2000)}\r\n`);
    for (let index = 0; index < 9; index++)
      expect(await client.readLine()).toBe('-ERR Command line too long');
    expect(await client.readLine()).toBe('-ERR Too many invalid commands, closing connection');
    await client.waitClosed();
  });
});

describe('authentication', () => {
  it('logs in with USER/PASS; a password may contain spaces', async () => {
    const account = await pop3Account(server);
    const client = await Pop3Client.open(server.pop3Port);
    expect(await client.command(`USER ${account.username}`)).toBe('+OK Send your password');
    expect(await client.command('PASS secret pass')).toBe('+OK Logged in');
    expect(await client.command('STAT')).toBe('+OK 0 0');
    client.close();
  });

  it('refuses a wrong password or unknown user with [AUTH], and PASS without USER', async () => {
    const account = await pop3Account(server);
    const client = await Pop3Client.open(await extraPop3()); // its own throttle: failures slow the next logins
    expect(await client.command('PASS secret pass')).toBe('-ERR Send USER first');
    await client.command(`USER ${account.username}`);
    expect(await client.command('PASS wrong')).toBe('-ERR [AUTH] Authentication failed');
    // The USER is used up by the failed PASS.
    expect(await client.command('PASS secret pass')).toBe('-ERR Send USER first');
    await client.command('USER nobody@example.test');
    expect(await client.command('PASS secret pass')).toBe('-ERR [AUTH] Authentication failed');
    client.close();
  });

  it('authenticates with AUTH PLAIN and an initial response', async () => {
    const account = await pop3Account(server);
    const client = await Pop3Client.open(server.pop3Port);
    expect(await client.command(`AUTH PLAIN ${b64(`\0${account.username}\0${account.password}`)}`)).toBe(
      '+OK Logged in',
    );
    expect(await client.command('STAT')).toBe('+OK 0 0');
    client.close();
  });

  it('authenticates with AUTH PLAIN and a continuation; "*" cancels; authzid must match', async () => {
    const account = await pop3Account(server);
    const client = await Pop3Client.open(server.pop3Port);
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command('*')).toBe('-ERR Authentication cancelled');
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command('not base64!')).toBe('-ERR Invalid base64 in SASL response');
    expect(await client.command(`AUTH PLAIN ${b64(`other@example.test\0${account.username}\0x`)}`)).toBe(
      '-ERR [AUTH] Acting as another user is not allowed',
    );
    expect(await client.command(`AUTH PLAIN ${b64('only-one-part')}`)).toBe('-ERR Malformed PLAIN response');
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command(b64(`${account.username}\0${account.username}\0${account.password}`))).toBe(
      '+OK Logged in',
    );
    client.close();
  });

  it('authenticates with AUTH LOGIN, lists mechanisms, refuses unknown ones', async () => {
    const account = await pop3Account(server);
    const client = await Pop3Client.open(server.pop3Port);
    const list = await client.multiline('AUTH');
    expect(list.lines).toEqual(['PLAIN', 'LOGIN']);
    expect(await client.command('AUTH CRAM-MD5')).toBe('-ERR Unsupported authentication mechanism CRAM-MD5');
    expect(await client.command('AUTH LOGIN')).toBe(`+ ${b64('Username:')}`);
    expect(await client.command(b64(account.username))).toBe(`+ ${b64('Password:')}`);
    expect(await client.command(b64(account.password))).toBe('+OK Logged in');
    client.close();

    const second = await Pop3Client.open(await extraPop3());
    expect(await second.command(`AUTH LOGIN ${b64(account.username)}`)).toBe(`+ ${b64('Password:')}`);
    expect(await second.command(b64('wrong'))).toBe('-ERR [AUTH] Authentication failed');
    second.close();
  });

  it('upgrades with STLS, dropping anything pipelined before the handshake', async () => {
    const account = await pop3Account(server);
    const client = await Pop3Client.open(server.pop3Port);
    client.send(`STLS\r\nUSER ${account.username}\r\n`);
    expect(await client.readLine()).toBe('+OK Begin TLS negotiation now');
    await client.startTls();
    // The injected USER was dropped: PASS has no user to go with.
    expect(await client.command('PASS secret pass')).toBe('-ERR Send USER first');
    const capa = await client.multiline('CAPA');
    expect(capa.lines).not.toContain('STLS');
    expect(await client.command('STLS')).toBe('-ERR TLS is already active');
    await client.login(account.username, account.password);
    expect(await client.command('STAT')).toBe('+OK 0 0');
    client.close();
  });

  it('refuses passwords before TLS when plaintext auth is not allowed, and accepts them after STLS', async () => {
    const port = await extraPop3({
      configPatch: (config) => ({ ...config, tls: { ...config.tls, plaintext_auth_on_loopback: false } }),
    });
    const account = await pop3Account(server);
    const client = await Pop3Client.open(port);
    const capa = await client.multiline('CAPA');
    expect(capa.lines).toContain('STLS');
    expect(capa.lines).not.toContain('USER');
    expect(capa.lines.some((line) => line.startsWith('SASL'))).toBe(false);
    const refusal =
      '-ERR [AUTH] Plaintext authentication disallowed on non-secure connections: use STLS or port 995 first';
    expect(await client.command(`USER ${account.username}`)).toBe(refusal);
    expect(await client.command(`AUTH PLAIN ${b64(`\0${account.username}\0${account.password}`)}`)).toBe(
      refusal,
    );
    expect((await client.multiline('AUTH')).lines).toEqual([]);
    expect(await client.command('STLS')).toBe('+OK Begin TLS negotiation now');
    await client.startTls();
    expect((await client.multiline('CAPA')).lines).toContain('SASL PLAIN LOGIN');
    await client.login(account.username, account.password);
    client.close();
  });

  it('answers a locked-out address exactly like a wrong password', async () => {
    const guard = new LoginGuard({ baseDelayMs: 1, maxDelayMs: 1, addressFailureLimit: 2 });
    const port = await extraPop3({ guard });
    const account = await pop3Account(server);
    const client = await Pop3Client.open(port);
    for (let attempt = 0; attempt < 2; attempt++) {
      await client.command(`USER ${account.username}`);
      expect(await client.command(`PASS wrong ${attempt}`)).toBe('-ERR [AUTH] Authentication failed');
    }
    await client.command(`USER ${account.username}`);
    expect(await client.command(`PASS ${account.password}`)).toBe('-ERR [AUTH] Authentication failed');
    client.close();
  });

  it('answers [SYS/TEMP] when the store is unavailable', async () => {
    const store = new Proxy(server.server.store, {
      get(target, property, receiver) {
        if (property === 'getCredentials') {
          return () => Promise.reject(new StoreError('UNAVAILABLE', 'database down'));
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    const port = await extraPop3({ store });
    const account = await pop3Account(server);
    const client = await Pop3Client.open(port);
    await client.command(`USER ${account.username}`);
    expect(await client.command(`PASS ${account.password}`)).toBe(
      '-ERR [SYS/TEMP] The mail store is unavailable, try again later',
    );
    client.close();
  });

  it('answers [SYS/TEMP] when the maildrop lock cannot be taken', async () => {
    const store = new Proxy(server.server.store, {
      get(target, property, receiver) {
        if (property === 'acquireLease') {
          return () => Promise.reject(new StoreError('UNAVAILABLE', 'database down'));
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    const port = await extraPop3({ store });
    const account = await pop3Account(server);
    const client = await Pop3Client.open(port);
    await client.command(`USER ${account.username}`);
    expect(await client.command(`PASS ${account.password}`)).toBe(
      '-ERR [SYS/TEMP] Cannot lock the maildrop now, try again later',
    );
    // Still in AUTHORIZATION: nothing was locked, so a normal session gets in.
    expect(await client.command('STAT')).toMatch(/^-ERR /);
    client.close();
    (await loggedIn(account)).close();
  });
});

describe('the maildrop lock', () => {
  it('gives a second session [IN-USE] while the first holds the maildrop, until it ends', async () => {
    const port = await extraPop3(); // its own throttle: the failure below slows the next logins
    const account = await pop3Account(server, [message('one')]);
    const first = await loggedIn(account, port);
    const second = await Pop3Client.open(port);
    await second.command(`USER ${account.username}`);
    expect(await second.command(`PASS ${account.password}`)).toBe(
      '-ERR [IN-USE] Mailbox is locked by another POP3 session',
    );
    // The same over AUTH, and a wrong password still says [AUTH] (the lock is not revealed).
    expect(await second.command(`AUTH PLAIN ${b64(`\0${account.username}\0${account.password}`)}`)).toMatch(
      /^-ERR \[IN-USE\]/,
    );
    await second.command(`USER ${account.username}`);
    expect(await second.command('PASS wrong')).toBe('-ERR [AUTH] Authentication failed');
    expect(await first.command('QUIT')).toMatch(/^\+OK/);
    await first.waitClosed();
    await second.login(account.username, account.password);
    expect(await second.command('STAT')).toMatch(/^\+OK 1 /);
    // A dropped connection releases the lock too.
    second.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const third = await loggedIn(account, port);
    third.close();
  });

  it('holds the lock across every listener of the process (plain and TLS ports)', async () => {
    const account = await pop3Account(server);
    const first = await loggedIn(account);
    const second = await Pop3Client.open(server.pop3sPort, true);
    await second.command(`USER ${account.username}`);
    expect(await second.command(`PASS ${account.password}`)).toMatch(/^-ERR \[IN-USE\]/);
    first.close();
    second.close();
  });
});

describe('TRANSACTION commands', () => {
  const bodies = [message('one'), message('two', 'Line 1\r\nLine 2\r\nLine 3\r\n'), message('three')];

  it('STAT, LIST, LIST n, UIDL, UIDL n', async () => {
    const account = await pop3Account(server, bodies);
    const mailbox = (await server.server.store.getMailbox(account.userId, 'INBOX'))!;
    const client = await loggedIn(account);
    const total = bodies.reduce((sum, body) => sum + body.length, 0);
    expect(await client.command('STAT')).toBe(`+OK 3 ${total}`);
    const list = await client.multiline('LIST');
    expect(list.status).toBe(`+OK 3 messages (${total} octets)`);
    expect(list.lines).toEqual(bodies.map((body, index) => `${index + 1} ${body.length}`));
    expect(await client.command('LIST 2')).toBe(`+OK 2 ${bodies[1]!.length}`);
    const uidl = await client.multiline('UIDL');
    expect(uidl.lines).toEqual([1, 2, 3].map((n) => `${n} ${mailbox.uidValidity}-${n}`));
    expect(await client.command('UIDL 3')).toBe(`+OK 3 ${mailbox.uidValidity}-3`);
    client.close();
  });

  it('RETR sends the message as stored; TOP the header and n body lines', async () => {
    const account = await pop3Account(server, bodies);
    const client = await loggedIn(account);
    const retr = await client.multiline('RETR 2');
    expect(retr.status).toBe(`+OK ${bodies[1]!.length} octets`);
    expect(retr.body).toEqual(bodies[1]);
    const header = 'From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: two\r\n\r\n';
    expect((await client.multiline('TOP 2 0')).body.toString()).toBe(header);
    expect((await client.multiline('TOP 2 2')).body.toString()).toBe(`${header}Line 1\r\nLine 2\r\n`);
    expect((await client.multiline('TOP 2 100')).body).toEqual(bodies[1]);
    client.close();
  });

  it('refuses bad message numbers with clear -ERR texts', async () => {
    const account = await pop3Account(server, bodies);
    const client = await loggedIn(account);
    expect(await client.command('RETR 4')).toBe('-ERR No such message 4');
    expect(await client.command('RETR 0')).toBe('-ERR Invalid message number: 0');
    expect(await client.command('RETR x')).toBe('-ERR Invalid message number: x');
    expect(await client.command('RETR')).toBe('-ERR RETR needs 1 argument');
    expect(await client.command('RETR 1 2')).toBe('-ERR Too many arguments for RETR');
    expect(await client.command('LIST 99999999999')).toBe('-ERR Invalid message number: 99999999999');
    expect(await client.command('TOP 1')).toBe('-ERR TOP needs 2 arguments');
    expect(await client.command('TOP 1 -1')).toBe('-ERR Invalid number of lines: -1');
    expect(await client.command('UIDL 7')).toBe('-ERR No such message 7');
    expect(await client.command('DELE 1')).toBe('+OK Message 1 deleted');
    for (const command of ['RETR 1', 'TOP 1 0', 'LIST 1', 'UIDL 1', 'DELE 1']) {
      expect(await client.command(command)).toBe('-ERR Message 1 is deleted');
    }
    client.close();
  });

  it('DELE marks, LIST/STAT/UIDL skip marked messages, RSET unmarks, NOOP answers', async () => {
    const account = await pop3Account(server, bodies);
    const client = await loggedIn(account);
    expect(await client.command('DELE 2')).toBe('+OK Message 2 deleted');
    expect(await client.command('STAT')).toBe(`+OK 2 ${bodies[0]!.length + bodies[2]!.length}`);
    expect((await client.multiline('LIST')).lines.map((line) => line.split(' ')[0])).toEqual(['1', '3']);
    expect((await client.multiline('UIDL')).lines.map((line) => line.split(' ')[0])).toEqual(['1', '3']);
    expect(await client.command('NOOP')).toBe('+OK Done');
    const total = bodies.reduce((sum, body) => sum + body.length, 0);
    expect(await client.command('RSET')).toBe(`+OK Maildrop has 3 messages (${total} octets)`);
    expect(await client.command('RETR 2')).toMatch(/^\+OK/);
    await client.readMultiline();
    expect(await client.command('QUIT')).toBe('+OK Bye, 0 messages deleted');
    await client.waitClosed();
    expect(await inboxUids(account)).toEqual([1, 2, 3]);
  });

  it('pipelined commands are answered in order', async () => {
    const account = await pop3Account(server, bodies);
    const client = await Pop3Client.open(server.pop3Port);
    client.send(
      `USER ${account.username}\r\nPASS ${account.password}\r\nSTAT\r\nLIST 1\r\nRETR 1\r\nUIDL\r\nDELE 3\r\nBOGUS\r\nSTAT\r\n`,
    );
    expect(await client.readLine()).toBe('+OK Send your password');
    expect(await client.readLine()).toBe('+OK Logged in');
    expect(await client.readLine()).toMatch(/^\+OK 3 /);
    expect(await client.readLine()).toBe(`+OK 1 ${bodies[0]!.length}`);
    expect(await client.readLine()).toMatch(/^\+OK \d+ octets$/);
    expect(unstuff(await client.readMultiline())).toEqual(bodies[0]);
    expect(await client.readLine()).toBe('+OK Unique-ID listing follows');
    expect((await client.readMultiline()).toString().split('\r\n').length).toBe(4);
    expect(await client.readLine()).toBe('+OK Message 3 deleted');
    expect(await client.readLine()).toBe('-ERR Unknown command BOGUS');
    expect(await client.readLine()).toBe(`+OK 2 ${bodies[0]!.length + bodies[1]!.length}`);
    client.close();
  });

  it('takes a flood of pipelined commands, more than the input buffer, and answers each', async () => {
    const account = await pop3Account(server, [message('one')]);
    const client = await loggedIn(account);
    const count = 15_000; // 90 KB of commands: reading stops and resumes on the way
    client.send('NOOP\r\n'.repeat(count) + 'STAT\r\n');
    for (let index = 0; index < count; index++) expect(await client.readLine()).toBe('+OK Done');
    expect(await client.readLine()).toMatch(/^\+OK 1 /);
    client.close();
  });

  it('copes with a message expunged over IMAP during the session', async () => {
    const account = await pop3Account(server, [
      message('one'),
      message(`gone ${Date.now()}`),
      message('three'),
    ]);
    const client = await loggedIn(account);
    await server.server.store.deleteMessages(account.inboxId, [2]);
    expect(await client.command('STAT')).toMatch(/^\+OK 3 /);
    expect(await client.command('RETR 2')).toBe('-ERR Message 2 is no longer available');
    expect((await client.multiline('RETR 3')).body).toEqual(message('three'));
    expect(await client.command('DELE 2')).toMatch(/^\+OK/);
    expect(await client.command('QUIT')).toBe('+OK Bye, 0 messages deleted');
    expect(await inboxUids(account)).toEqual([1, 3]);
  });

  it('sees the INBOX as it was at login; new mail waits for the next session', async () => {
    const account = await pop3Account(server, [message('one')]);
    const client = await loggedIn(account);
    await server.server.store.append(account.inboxId, message('late'));
    expect(await client.command('STAT')).toMatch(/^\+OK 1 /);
    expect(await client.command('RETR 2')).toBe('-ERR No such message 2');
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
    const next = await loggedIn(account);
    expect(await next.command('STAT')).toMatch(/^\+OK 2 /);
    next.close();
  });

  it('keeps a maildrop of hundreds of messages whole (no cap at the newest N)', async () => {
    const account = await pop3Account(server);
    for (let index = 0; index < 600; index++)
      await server.server.store.append(account.inboxId, message(`m${index}`));
    const client = await loggedIn(account);
    expect(await client.command('STAT')).toMatch(/^\+OK 600 /);
    const uidl = await client.multiline('UIDL');
    expect(uidl.lines).toHaveLength(600);
    expect(new Set(uidl.lines.map((line) => line.split(' ')[1])).size).toBe(600);
    expect((await client.multiline('RETR 600')).body.toString()).toContain('Subject: m599');
    client.close();
  });
});

describe('QUIT commits, a dropped connection does not', () => {
  it('DELE + QUIT expunges; IMAP STATUS, SELECT and a selected session see it', async () => {
    const account = await pop3Account(server, [message('one'), message('two'), message('three')]);
    const imapWatcher = await LineClient.connect(server.imapPort);
    await imapWatcher.readUntil(/^\* OK/);
    await imapWatcher.command('L', `LOGIN ${account.username} "${account.password}"`);
    expect(await imapWatcher.command('S', 'SELECT INBOX')).toMatch(/^\* 3 EXISTS/m);

    const client = await loggedIn(account);
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    expect(await client.command('DELE 3')).toMatch(/^\+OK/);
    expect(await client.command('QUIT')).toBe('+OK Bye, 2 messages deleted');
    await client.waitClosed();
    expect(await inboxUids(account)).toEqual([2]);

    const noop = await imapWatcher.command('N', 'NOOP');
    expect(noop).toMatch(/^\* 3 EXPUNGE\r\n\* 1 EXPUNGE/m);
    imapWatcher.close();

    const imap = await LineClient.connect(server.imapPort);
    await imap.readUntil(/^\* OK/);
    await imap.command('L', `LOGIN ${account.username} "${account.password}"`);
    expect(await imap.command('T', 'STATUS INBOX (MESSAGES UIDNEXT)')).toMatch(
      /^\* STATUS INBOX \(MESSAGES 1 UIDNEXT 4\)/m,
    );
    expect(await imap.command('S', 'SELECT INBOX')).toMatch(/^\* 1 EXISTS/m);
    imap.close();

    // The UIDL of the remaining message is unchanged; the deleted ones never come back.
    const mailbox = (await server.server.store.getMailbox(account.userId, 'INBOX'))!;
    const again = await loggedIn(account);
    expect((await again.multiline('UIDL')).lines).toEqual([`1 ${mailbox.uidValidity}-2`]);
    await server.server.store.append(account.inboxId, message('four'));
    again.close();
    const third = await loggedIn(account);
    expect((await third.multiline('UIDL')).lines).toEqual([
      `1 ${mailbox.uidValidity}-2`,
      `2 ${mailbox.uidValidity}-4`,
    ]);
    third.close();
  });

  it('a connection dropped before QUIT changes nothing (no deletion, no \\Seen)', async () => {
    const account = await pop3Account(server, [message('one'), message('two')]);
    const client = await loggedIn(account);
    await client.multiline('RETR 1');
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    expect(await client.command('DELE 2')).toMatch(/^\+OK/);
    client.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const messages = await server.server.store.listMessages(account.inboxId);
    expect(messages.map((summary) => [summary.uid, summary.flags])).toEqual([
      [1, []],
      [2, []],
    ]);
  });

  it('QUIT flags retrieved messages \\Seen (RETR, not TOP)', async () => {
    const account = await pop3Account(server, [message('one'), message('two'), message('three')]);
    const client = await loggedIn(account);
    await client.multiline('RETR 1');
    await client.multiline('TOP 2 1');
    await client.multiline('RETR 3');
    await client.command('DELE 3');
    expect(await client.command('QUIT')).toBe('+OK Bye, 1 messages deleted');
    await client.waitClosed();
    const messages = await server.server.store.listMessages(account.inboxId);
    expect(messages.map((summary) => [summary.uid, summary.flags])).toEqual([
      [1, ['\\Seen']],
      [2, []],
    ]);
  });

  it('moves deleted messages to Trash with pop3.delete_mode: trash', async () => {
    const port = await extraPop3({
      configPatch: (config) => ({ ...config, pop3: { ...config.pop3, delete_mode: 'trash' } }),
    });
    const account = await pop3Account(server, [message('one'), message('two')]);
    const client = await loggedIn(account, port);
    await client.command('DELE 2');
    expect(await client.command('QUIT')).toBe('+OK Bye, 1 messages deleted');
    await client.waitClosed();
    expect(await inboxUids(account)).toEqual([1]);
    const trash = (await server.server.store.getMailbox(account.userId, 'Trash'))!;
    const trashed = await server.server.store.listMessages(trash.id);
    expect(trashed).toHaveLength(1);
    expect((await server.server.store.readBlob(trashed[0]!.blobId)).toString()).toContain('Subject: two');
  });

  it('does not fail QUIT when a marked message was expunged over IMAP meanwhile', async () => {
    const account = await pop3Account(server, [message('one'), message('two')]);
    const client = await loggedIn(account);
    await client.command('DELE 1');
    await client.command('DELE 2');
    await server.server.store.deleteMessages(account.inboxId, [1]);
    expect(await client.command('QUIT')).toBe('+OK Bye, 1 messages deleted');
    expect(await inboxUids(account)).toEqual([]);
  });
});

describe('message bytes on the wire', () => {
  it('dot-stuffs lines starting with "." and the client gets the stored bytes back', async () => {
    const raw = Buffer.from(
      'Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nmiddle.\r\n\r\n.\r\n\r\n. \r\n...\r\nlast line.\r\n',
    );
    const account = await pop3Account(server, [raw]);
    const client = await loggedIn(account);
    expect(await client.command('RETR 1')).toBe(`+OK ${raw.length} octets`);
    const wire = await client.readMultiline();
    expect(wire.toString()).toBe(
      'Subject: dots\r\n\r\n..\r\n...\r\n..leading\r\nmiddle.\r\n\r\n..\r\n\r\n.. \r\n....\r\nlast line.\r\n',
    );
    expect(unstuff(wire)).toEqual(raw);
    expect((await client.multiline('TOP 1 3')).body.toString()).toBe(
      'Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n',
    );
    client.close();
  });

  it('sends bare-LF messages with CRLF, and sizes count the CRLF bytes sent', async () => {
    const raw = Buffer.from('Subject: bare\nX-Test: 1\n\nline one\n.dotted\n\nlast\n');
    const noFinalNewline = Buffer.from('Subject: end\r\n\r\nno newline at the end');
    const account = await pop3Account(server, [raw, noFinalNewline]);
    const client = await loggedIn(account);
    const crlf = raw.toString().replace(/\n/g, '\r\n');
    expect(await client.command('LIST 1')).toBe(`+OK 1 ${crlf.length}`);
    expect(await client.command('STAT')).toBe(`+OK 2 ${crlf.length + noFinalNewline.length}`);
    const retr = await client.multiline('RETR 1');
    expect(retr.status).toBe(`+OK ${crlf.length} octets`);
    expect(retr.body.toString()).toBe(crlf);
    expect(retr.body.length).toBe(crlf.length);
    expect((await client.multiline('TOP 1 1')).body.toString()).toBe(
      'Subject: bare\r\nX-Test: 1\r\n\r\nline one\r\n',
    );
    // A final line without a line end gets one, so the terminator stays on its own line.
    expect((await client.multiline('RETR 2')).body.toString()).toBe(`${noFinalNewline.toString()}\r\n`);
    client.close();
  });

  it('sends 8-bit and binary bytes unchanged', async () => {
    const raw = Buffer.concat([
      Buffer.from('Subject: bin\r\n\r\n'),
      Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x2e, 0x0d, 0x0a]),
    ]);
    const account = await pop3Account(server, [raw]);
    const client = await loggedIn(account);
    expect((await client.multiline('RETR 1')).body).toEqual(raw);
    client.close();
  });
});

describe('shutdown', () => {
  it('ends idle sessions with -ERR [SYS/TEMP] and commits nothing', async () => {
    const services: Pop3Services = {
      config: server.config,
      store: server.server.store,
      hooks: ALLOW_ALL,
      guard: new LoginGuard(),
      logger: server.server.logger,
    };
    const service = await startPop3(services, server.server.tls, { port: -1, tlsPort: 0 });
    const account = await pop3Account(server, [message('one')]);
    const client = await loggedIn(account, service.listeners[0]!.port);
    await client.command('DELE 1');
    await service.stop();
    expect(await client.readLine()).toBe('-ERR [SYS/TEMP] Server shutting down');
    await client.waitClosed();
    expect(await inboxUids(account)).toEqual([1]);
    // The session's maildrop lease was released: anyone may take it now.
    const store = server.server.store;
    expect(await store.acquireLease(`pop3:${account.userId}`, 'probe', 1000)).toBe(true);
    await store.releaseLease(`pop3:${account.userId}`, 'probe');
  });
});

describe('connection hooks', () => {
  it('a refused connection gets -ERR [SYS/PERM] with the reason, and onClose runs once', async () => {
    const closed: ConnectionSession[] = [];
    const hooks: ConnectionHooks = {
      onConnect: () => Promise.resolve({ allow: false, reason: 'Too many connections from your address' }),
      onClose: (session) => closed.push(session),
    };
    const port = await extraPop3({ hooks });
    const client = await Pop3Client.connect(port);
    expect(await client.readLine()).toBe('-ERR [SYS/PERM] Too many connections from your address');
    await client.waitClosed();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({
      protocol: 'pop3',
      remoteAddress: '127.0.0.1',
      secure: false,
      user: null,
    });
  });

  it('onClose gets the session with its user and TLS state; checkAuthAllowed and onAuthFailure are asked', async () => {
    const closed: ConnectionSession[] = [];
    const failures: string[] = [];
    const hooks: ConnectionHooks = {
      onConnect: () => Promise.resolve({ allow: true }),
      onClose: (session) => closed.push({ ...session }),
      onAuthFailure: (_session, username) => failures.push(username),
      checkAuthAllowed: (_session, username) =>
        Promise.resolve(
          username === 'blocked@example.test' ? { allow: false, reason: 'locked' } : { allow: true },
        ),
    };
    const port = await extraPop3({ hooks });
    const account = await pop3Account(server);
    const client = await Pop3Client.open(port);
    await client.command('USER blocked@example.test');
    expect(await client.command('PASS whatever')).toBe('-ERR [AUTH] Authentication failed');
    await client.command(`USER ${account.username}`);
    expect(await client.command('PASS wrong')).toBe('-ERR [AUTH] Authentication failed');
    expect(await client.command('STLS')).toMatch(/^\+OK/);
    await client.startTls();
    await client.login(account.username, account.password);
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
    await client.waitClosed();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(failures).toEqual([account.username]);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ protocol: 'pop3', secure: true, user: account.username });
  });
});
