/**
 * ManageSieve transcripts over real TCP against a real server: the greeting and CAPABILITY, every
 * command with its errors and response codes, the RFC 5804 examples, literals, SASL PLAIN and LOGIN
 * (initial response, continuations, cancel, app passwords), script checks with line and column,
 * and the script commands on both store engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/password.ts';
import { SieveClient, plainLogin } from '../helpers/managesieve.ts';
import { freshDatabaseUri } from '../helpers/mongo.ts';
import { mongoForTests } from '../helpers/mongo-suite.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const mongoBase = mongoForTests();
const b64 = (text: string) => Buffer.from(text).toString('base64');
/** A string sent as a non-synchronizing literal. */
const literal = (text: string) => `{${Buffer.byteLength(text)}+}\r\n${text}`;

const USER = 'alice@example.com';
/** RFC 5804 2.6's script, with the `require "envelope"` it lacks. */
const RFC_SCRIPT =
  'require ["fileinto", "envelope"];\r\n\r\nif envelope :contains "to" "tmartin+sent" {\r\n  fileinto "INBOX.sent";\r\n}';
const PASSWORD = 'correct horse battery';

async function loggedIn(port: number, username = USER, password = PASSWORD): Promise<SieveClient> {
  const { client } = await SieveClient.open(port);
  const reply = await client.command(plainLogin(username, password));
  expect(reply.status).toBe('OK "Logged in"');
  return client;
}

describe('greeting, CAPABILITY and login', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.addUser(USER, PASSWORD);
  });
  afterAll(() => server.stop());

  it('greets with the capabilities: implementation, SASL, the interpreter’s extensions, STARTTLS, VERSION', async () => {
    const { client, greeting } = await SieveClient.open(server.managesievePort);
    const lines = greeting.text.split('\r\n');
    expect(lines[0]).toMatch(/^"IMPLEMENTATION" "Mallard \d+\.\d+\.\d+"$/);
    expect(lines).toContain('"SASL" "PLAIN LOGIN"');
    expect(lines).toContain('"STARTTLS"');
    expect(lines).toContain('"VERSION" "1.0"');
    expect(lines).toContain('"MAXREDIRECTS" "4"');
    const sieve = lines.find((line) => line.startsWith('"SIEVE" '))!;
    for (const extension of ['fileinto', 'reject', 'vacation', 'imap4flags', 'variables', 'include']) {
      expect(sieve).toMatch(new RegExp(`[" ]${extension}[" ]`));
    }
    expect(lines.some((line) => line.startsWith('"NOTIFY"'))).toBe(false);
    expect(greeting.status).toBe('OK "Mallard ManageSieve ready"');
    const capability = await client.command('CAPABILITY');
    expect(capability.text).toBe(
      greeting.text.replace('OK "Mallard ManageSieve ready"', 'OK "Capability completed"'),
    );
    client.close();
  });

  it('refuses script commands before AUTHENTICATE, and UNAUTHENTICATE before login', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    for (const command of [
      'LISTSCRIPTS',
      'GETSCRIPT "x"',
      'SETACTIVE "x"',
      'HAVESPACE "x" 1',
      'UNAUTHENTICATE',
    ]) {
      expect((await client.command(command)).status).toMatch(/^NO ".* needs AUTHENTICATE first"$/);
    }
    client.close();
  });

  it('AUTHENTICATE PLAIN with an initial response; a wrong password gets NO and nothing more', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    expect((await client.command(plainLogin(USER, 'wrong'))).status).toBe('NO "Authentication failed"');
    expect((await client.command(plainLogin(USER, PASSWORD))).status).toBe('OK "Logged in"');
    const capability = await client.command('CAPABILITY');
    expect(capability.text).toContain(`"OWNER" "${USER}"`);
    expect((await client.command(plainLogin(USER, PASSWORD))).status).toBe(
      'NO "AUTHENTICATE is not allowed after login"',
    );
    client.close();
  });

  it('AUTHENTICATE PLAIN without an initial response: an empty challenge, answered quoted or as a literal', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    client.send('AUTHENTICATE "PLAIN"\r\n');
    expect(await client.line()).toBe('""');
    client.send(`${literal(b64(`\0${USER}\0${PASSWORD}`))}\r\n`);
    expect((await client.response()).status).toBe('OK "Logged in"');
    client.close();
    const second = (await SieveClient.open(server.managesievePort)).client;
    second.send('Authenticate "plain"\r\n');
    expect(await second.line()).toBe('""');
    second.send(`"${b64(`${USER}\0${USER}\0${PASSWORD}`)}"\r\n`);
    expect((await second.response()).status).toBe('OK "Logged in"');
    second.close();
  });

  it('AUTHENTICATE LOGIN asks for the name and the password; "*" cancels', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    client.send('AUTHENTICATE "LOGIN"\r\n');
    expect(await client.line()).toBe(`"${b64('Username:')}"`);
    client.send(`"${b64(USER)}"\r\n`);
    expect(await client.line()).toBe(`"${b64('Password:')}"`);
    client.send(`"*"\r\n`);
    expect((await client.response()).status).toBe('NO "Authentication cancelled"');
    client.send(`AUTHENTICATE "LOGIN" "${b64(USER)}"\r\n`);
    expect(await client.line()).toBe(`"${b64('Password:')}"`);
    client.send(`"${b64(PASSWORD)}"\r\n`);
    expect((await client.response()).status).toBe('OK "Logged in"');
    client.close();
  });

  it('refuses other mechanisms, acting as another user, bad base64 and a SASL answer that is not one string', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    expect((await client.command('AUTHENTICATE "GSSAPI"')).status).toBe(
      'NO "Unsupported authentication mechanism GSSAPI"',
    );
    expect(
      (await client.command(`AUTHENTICATE "PLAIN" "${b64(`bob@example.com\0${USER}\0${PASSWORD}`)}"`)).status,
    ).toBe('NO "Acting as another user is not allowed"');
    expect((await client.command('AUTHENTICATE "PLAIN" "not base64!"')).status).toBe(
      'NO "Invalid base64 in SASL response"',
    );
    client.send('AUTHENTICATE "PLAIN"\r\n');
    expect(await client.line()).toBe('""');
    expect((await client.command('"a" "b"')).status).toBe('NO "A SASL response is one string"');
    expect((await client.command('AUTHENTICATE')).status).toBe(
      'NO "AUTHENTICATE takes 1 to 2 arguments, got 0"',
    );
    client.close();
  });

  it('logs in with an app password, and UNAUTHENTICATE returns to the unauthenticated state', async () => {
    const user = (await server.server.store.getUserByUsername(USER))!;
    await server.server.store.createAppPassword(
      user.id,
      'sieve client',
      await hashPassword('abcdabcdabcdabcd'),
    );
    const client = await loggedIn(server.managesievePort, USER, 'abcd abcd abcd abcd');
    expect((await client.command('UNAUTHENTICATE')).status).toBe('OK "Logged out"');
    expect((await client.command('LISTSCRIPTS')).status).toBe('NO "LISTSCRIPTS needs AUTHENTICATE first"');
    expect((await client.command(plainLogin(USER, PASSWORD))).status).toBe('OK "Logged in"');
    client.close();
  });

  it('NOOP echoes its tag (RFC 5804 2.13), LOGOUT answers OK and closes', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    expect((await client.command('NOOP "STARTTLS-SYNC-42"')).status).toBe(
      'OK (TAG "STARTTLS-SYNC-42") "Done"',
    );
    expect((await client.command('NOOP')).status).toBe('OK "Done"');
    expect((await client.command('LOGOUT')).status).toBe('OK "Logout completed"');
    await client.waitClosed();
  });
});

describe.each(['sqlite', 'mongodb'] as const)('script commands (%s store)', (engine) => {
  let server: TestServer;
  let client: SieveClient;
  beforeAll(async () => {
    server = await startTestServer(
      engine === 'mongodb'
        ? { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: freshDatabaseUri(mongoBase()) }
        : {},
    );
    await server.addUser(USER, PASSWORD);
    client = await loggedIn(server.managesievePort);
  }, 60_000);
  afterAll(async () => {
    client.close();
    await server.stop();
  });

  it('PUTSCRIPT: the RFC 5804 2.6 example, a script that does not compile is refused with its line and column', async () => {
    const bad = await client.command(`Putscript "foo" ${literal('#comment\r\nInvalidSieveCommand\r\n')}`);
    // The command has no ";": the parser finds out at the end of the script (Pigeonhole says line 2).
    expect(bad.status).toBe('NO "line 3, column 1: expected \\";\\" or \\"{\\", found end of script"');
    // The RFC's script tests envelope without requiring it, which RFC 5228 forbids (Pigeonhole
    // refuses it too); with the require it is stored.
    expect((await client.command(`Putscript "mysievescript" ${literal(RFC_SCRIPT)}`)).status).toBe(
      'OK "Script stored"',
    );
    const missing = await client.command(`PUTSCRIPT "x" ${literal('fileinto "Junk";\r\n')}`);
    expect(missing.status).toMatch(/^NO "line 1, column 1: .*fileinto.*require/i);
  });

  it('LISTSCRIPTS, SETACTIVE and GETSCRIPT (RFC 5804 2.7 to 2.9), names quoted or as literals', async () => {
    for (const name of ['summer_script', 'vacation_script', 'clever"script', 'main_script']) {
      expect((await client.command(`PUTSCRIPT ${literal(name)} "keep;"`)).status).toBe('OK "Script stored"');
    }
    expect((await client.command('SETACTIVE "main_script"')).status).toBe('OK "Script activated"');
    const list = await client.command('Listscripts');
    expect(list.text).toBe(
      [
        '"clever\\"script"',
        '"main_script" ACTIVE',
        '"mysievescript"',
        '"summer_script"',
        '"vacation_script"',
        'OK "Listscripts completed"',
        '',
      ].join('\r\n'),
    );
    const get = await client.command('GETSCRIPT "mysievescript"');
    expect(get.text).toBe(
      `{${Buffer.byteLength(RFC_SCRIPT)}}\r\n${RFC_SCRIPT}\r\nOK "Getscript completed"\r\n`,
    );
    expect((await client.command('GETSCRIPT "nosuch"')).status).toBe(
      'NO (NONEXISTENT) "There is no script by that name"',
    );
    expect((await client.command('SETACTIVE "nosuch"')).status).toBe(
      'NO (NONEXISTENT) "There is no script by that name"',
    );
    const user = (await server.server.store.getUserByUsername(USER))!;
    expect((await server.server.store.getActiveSieveScript(user.id))?.name).toBe('main_script');
  });

  it('DELETESCRIPT: NO (ACTIVE) for the active script, NONEXISTENT for none; SETACTIVE "" deactivates', async () => {
    expect((await client.command('DELETESCRIPT "main_script"')).status).toBe(
      'NO (ACTIVE) "The active script cannot be deleted"',
    );
    expect((await client.command('DELETESCRIPT "nosuch"')).status).toBe(
      'NO (NONEXISTENT) "There is no script by that name"',
    );
    expect((await client.command('SETACTIVE ""')).status).toBe('OK "No script is active"');
    expect((await client.command('LISTSCRIPTS')).text).not.toContain('ACTIVE');
    expect((await client.command('DELETESCRIPT "main_script"')).status).toBe('OK "Script deleted"');
    expect((await client.command('LISTSCRIPTS')).text).not.toContain('main_script');
  });

  it('RENAMESCRIPT moves the active flag along; ALREADYEXISTS and NONEXISTENT', async () => {
    await client.command('SETACTIVE "summer_script"');
    expect((await client.command('RENAMESCRIPT "summer_script" "winter_script"')).status).toBe(
      'OK "Script renamed"',
    );
    expect((await client.command('LISTSCRIPTS')).text).toContain('"winter_script" ACTIVE');
    expect((await client.command('RENAMESCRIPT "winter_script" "vacation_script"')).status).toBe(
      'NO (ALREADYEXISTS) "A script by that name exists already"',
    );
    expect((await client.command('RENAMESCRIPT "nosuch" "other"')).status).toBe(
      'NO (NONEXISTENT) "There is no script by that name"',
    );
  });

  it('CHECKSCRIPT says whether a script compiles without storing it', async () => {
    expect(
      (await client.command(`CHECKSCRIPT ${literal('require "vacation";\r\nvacation "away";\r\n')}`)).status,
    ).toBe('OK "Script is valid"');
    const bad = await client.command(
      `CHECKSCRIPT ${literal('require "fileinto";\r\nif true {\r\n  fileinto 42;\r\n}\r\n')}`,
    );
    expect(bad.status).toMatch(/^NO "line 3, column \d+: /);
    expect((await client.command('LISTSCRIPTS')).text.split('\r\n')).toHaveLength(6);
  });

  it('an include :personal of another script of the user compiles; of a missing one does not', async () => {
    const including = 'require "include";\r\ninclude :personal "vacation_script";\r\n';
    expect((await client.command(`PUTSCRIPT "main" ${literal(including)}`)).status).toBe(
      'OK "Script stored"',
    );
    const missing = 'require "include";\r\ninclude :personal "nosuch";\r\n';
    expect((await client.command(`PUTSCRIPT "main" ${literal(missing)}`)).status).toMatch(
      /^NO "line 2, column \d+: /,
    );
  });

  it('HAVESPACE (RFC 5804 2.5): QUOTA/MAXSIZE for a script over the size limit', async () => {
    expect((await client.command('HAVESPACE "foobar" 435')).status).toBe('OK "Putscript would succeed"');
    expect((await client.command('HAVESPACE "myscript" 999999')).status).toBe(
      'NO (QUOTA/MAXSIZE) "The script is larger than 262144 bytes"',
    );
    expect((await client.command('HAVESPACE "myscript" "12"')).status).toBe(
      'NO "HAVESPACE takes a name and a number"',
    );
  });
});
