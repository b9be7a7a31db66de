/**
 * The ManageSieve connection over real TCP: STARTTLS then AUTHENTICATE, the TLS requirement for
 * passwords (ENCRYPT-NEEDED), limits (line length, literals before and after login, script size
 * and count), the idle timeout, connection rules, the live-session registry, and hostile input
 * that must never bring the service down.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginGuard } from '../../server/auth/login-guard.ts';
import type { Config } from '../../server/config/schema.ts';
import { ALLOW_ALL, type ConnectionHooks } from '../../server/hooks/types.ts';
import type { ManageSieveServices } from '../../server/managesieve/context.ts';
import {
  startManageSieve,
  type ManageSieveOptions,
  type ManageSieveService,
} from '../../server/managesieve/server.ts';
import { SieveClient, plainLogin } from '../helpers/managesieve.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const USER = 'bob@example.com';
const PASSWORD = 'a long enough password';
const literal = (text: string) => `{${Buffer.byteLength(text)}+}\r\n${text}`;

let server: TestServer;
const extra: ManageSieveService[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser(USER, PASSWORD);
});
afterAll(async () => {
  await Promise.all(extra.map((service) => service.stop()));
  await server.stop();
});

/** A second ManageSieve service on the same store, with other settings. */
async function extraService(
  overrides: Partial<ManageSieveServices> & { configPatch?: (config: Config) => Config } = {},
  options: ManageSieveOptions = {},
): Promise<number> {
  const { configPatch, ...rest } = overrides;
  const services: ManageSieveServices = {
    config: configPatch ? configPatch(server.config) : server.config,
    store: server.server.store,
    hooks: ALLOW_ALL,
    guard: new LoginGuard(),
    logger: server.server.logger,
    ...rest,
  };
  const service = await startManageSieve(services, server.server.tls, -1, options);
  extra.push(service);
  return service.listeners[0]!.port;
}

async function loggedIn(port: number): Promise<SieveClient> {
  const { client } = await SieveClient.open(port);
  expect((await client.command(plainLogin(USER, PASSWORD))).status).toBe('OK "Logged in"');
  return client;
}

describe('STARTTLS and the TLS requirement', () => {
  it('STARTTLS: OK, the handshake, the capabilities again without STARTTLS, then AUTHENTICATE', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    expect((await client.command('STARTTLS')).status).toBe('OK "Begin TLS negotiation now"');
    await client.startTls();
    const again = await client.response();
    expect(again.status).toBe('OK "TLS negotiation successful"');
    expect(again.text).toContain('"SASL" "PLAIN LOGIN"');
    expect(again.text).not.toContain('"STARTTLS"');
    expect((await client.command('STARTTLS')).status).toBe('NO "TLS is already active"');
    expect((await client.command(plainLogin(USER, PASSWORD))).status).toBe('OK "Logged in"');
    const session = server.server.sessions
      .list()
      .find((entry) => entry.protocol === 'managesieve' && entry.user === USER);
    expect(session?.secure).toBe(true);
    client.close();
  });

  it('where passwords need TLS: SASL lists no mechanism and AUTHENTICATE gets NO (ENCRYPT-NEEDED) before any secret', async () => {
    const port = await extraService({
      configPatch: (config) => ({ ...config, tls: { ...config.tls, plaintext_auth_on_loopback: false } }),
    });
    const { client, greeting } = await SieveClient.open(port);
    expect(greeting.text).toContain('"SASL" ""');
    client.send('AUTHENTICATE "PLAIN"\r\n');
    expect((await client.response()).status).toBe(
      'NO (ENCRYPT-NEEDED) "Passwords need TLS on this connection: use STARTTLS first"',
    );
    expect((await client.command('STARTTLS')).status).toMatch(/^OK /);
    await client.startTls();
    expect((await client.response()).text).toContain('"SASL" "PLAIN LOGIN"');
    expect((await client.command(plainLogin(USER, PASSWORD))).status).toBe('OK "Logged in"');
    client.close();
  });

  it('drops what the client sent after STARTTLS before the handshake (command injection)', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    client.send(`STARTTLS\r\n${plainLogin(USER, PASSWORD)}\r\n`);
    expect((await client.response()).status).toMatch(/^OK /);
    await client.startTls();
    await client.response();
    expect((await client.command('LISTSCRIPTS')).status).toBe('NO "LISTSCRIPTS needs AUTHENTICATE first"');
    client.close();
  });
});

describe('limits', () => {
  it('a line over 8 KiB gets NO and the session goes on; ten bad commands in a row end it', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    expect((await client.command(`NOOP "${'x'.repeat(9000)}"`)).status).toBe('NO "Command line too long"');
    expect((await client.command('NOOP')).status).toBe('OK "Done"');
    for (let index = 0; index < 9; index++)
      expect((await client.command('FROB')).status).toBe('NO "Unknown command FROB"');
    expect((await client.command('FROB')).status).toBe('BYE "Too many invalid commands, closing connection"');
    await client.waitClosed();
  });

  it('a large literal before login ends the connection before its octets are read', async () => {
    const { client } = await SieveClient.open(server.managesievePort);
    client.send('AUTHENTICATE "PLAIN" {100000000+}\r\n');
    expect((await client.response()).status).toBe('BYE "Literal too large before login"');
    await client.waitClosed();
  });

  it('after login a literal over max_script_size is skipped with NO (QUOTA/MAXSIZE); the next command is read', async () => {
    const client = await loggedIn(server.managesievePort);
    const big = `# ${'x'.repeat(300 * 1024)}\r\nkeep;\r\n`;
    client.send(`PUTSCRIPT "big" ${literal(big)}\r\n`);
    expect((await client.response()).status).toBe(
      'NO (QUOTA/MAXSIZE) "The script is larger than 262144 bytes"',
    );
    expect((await client.command('NOOP "after"')).status).toBe('OK (TAG "after") "Done"');
    expect((await client.command('LISTSCRIPTS')).text).not.toContain('"big"');
    client.close();
  });

  it('managesieve.max_scripts and max_script_size: QUOTA/MAXSCRIPTS and QUOTA/MAXSIZE, replacing is allowed', async () => {
    const port = await extraService({
      configPatch: (config) => ({
        ...config,
        managesieve: { ...config.managesieve, max_scripts: 2, max_script_size: 2048 },
      }),
    });
    const client = await loggedIn(port);
    for (const name of await server.server.store.listSieveScripts(
      (await server.server.store.getUserByUsername(USER))!.id,
    )) {
      await client.command(`DELETESCRIPT "${name.name}"`);
    }
    expect((await client.command('PUTSCRIPT "a" "keep;"')).status).toBe('OK "Script stored"');
    expect((await client.command('PUTSCRIPT "b" "keep;"')).status).toBe('OK "Script stored"');
    expect((await client.command('PUTSCRIPT "c" "keep;"')).status).toBe(
      'NO (QUOTA/MAXSCRIPTS) "No more than 2 scripts may be kept"',
    );
    expect((await client.command('HAVESPACE "c" 10')).status).toMatch(/^NO \(QUOTA\/MAXSCRIPTS\)/);
    expect((await client.command('PUTSCRIPT "b" "discard;"')).status).toBe('OK "Script stored"');
    expect((await client.command(`PUTSCRIPT "a" ${literal(`#${'x'.repeat(3000)}\r\nkeep;`)}`)).status).toBe(
      'NO (QUOTA/MAXSIZE) "The script is larger than 2048 bytes"',
    );
    expect((await client.command('HAVESPACE "a" 2049')).status).toMatch(/^NO \(QUOTA\/MAXSIZE\)/);
    expect((await client.command('PUTSCRIPT "bad/name" "keep;"')).status).toBe(
      'NO "A script name is 1 to 128 characters, without control characters or \\"/\\""',
    );
    client.close();
  });

  it('an idle session is told BYE and closed', async () => {
    const port = await extraService({}, { idleTimeoutMs: 300 });
    const { client } = await SieveClient.open(port);
    expect((await client.response()).status).toBe('BYE "Disconnected for inactivity"');
    await client.waitClosed();
  });
});

describe('connection rules and the session registry', () => {
  it('a refusing rule gets BYE with its reason; onClose runs', async () => {
    let closed = 0;
    const hooks: ConnectionHooks = {
      onConnect: (session) =>
        Promise.resolve(
          session.protocol === 'managesieve'
            ? { allow: false, reason: 'Not from here', temporary: true }
            : { allow: true },
        ),
      onClose: () => void closed++,
    };
    const port = await extraService({ hooks });
    const client = await SieveClient.connect(port);
    expect((await client.response()).status).toBe('BYE (TRYLATER) "Not from here"');
    await client.waitClosed();
    await expect.poll(() => closed).toBe(1);
  });

  it('a logged-in session is listed with its user, and the admin can end it with BYE', async () => {
    const client = await loggedIn(server.managesievePort);
    await client.command('LISTSCRIPTS');
    const session = server.server.sessions
      .list()
      .find((entry) => entry.protocol === 'managesieve' && entry.user === USER && !entry.secure);
    expect(session).toBeDefined();
    expect(await server.server.sessions.kick(session!.id, 'Closed by the administrator')).toBe(true);
    expect((await client.response()).status).toBe('BYE (TRYLATER) "Closed by the administrator"');
    await client.waitClosed();
  });
});

describe('hostile input', () => {
  it('garbage, bad quoting, bad UTF-8 and misplaced literals get NO; the service stays up', async () => {
    const client = await loggedIn(server.managesievePort);
    const cases: Array<[string | Buffer, RegExp]> = [
      ['PUTSCRIPT "unterminated', /^NO "Unterminated quoted string"$/],
      ['PUTSCRIPT "a\\x" "keep;"', /^NO "Only/],
      ['PUTSCRIPT {3+} "x"', /^NO "Misplaced literal/],
      [
        Buffer.concat([Buffer.from('PUTSCRIPT "'), Buffer.from([0xff, 0xfe]), Buffer.from('" "keep;"')]),
        /^NO "A quoted string is not valid UTF-8"$/,
      ],
      ['"PUTSCRIPT"', /^NO "A command starts with its name"$/],
      ['GETSCRIPT name', /^NO "Unexpected name: strings are quoted"$/],
      ['SETACTIVE', /^NO "SETACTIVE takes 1 argument, got 0"$/],
      ['GETSCRIPT 12', /^NO "Argument 1 of GETSCRIPT must be a string"$/],
    ];
    for (const [line, expected] of cases) {
      client.send(Buffer.concat([Buffer.from(line), Buffer.from('\r\n')]));
      expect((await client.response()).status).toMatch(expected);
      await client.command('NOOP');
    }
    client.close();
  });

  it('random bytes on many connections never crash the service', async () => {
    const random = crypto.createHash('sha256');
    for (let round = 0; round < 30; round++) {
      random.update(String(round));
      const seed = random.copy().digest();
      const bytes = Buffer.concat(
        Array.from({ length: 40 }, (_, index) =>
          crypto.createHash('sha256').update(seed).update(String(index)).digest(),
        ),
      );
      // Sprinkle line ends and literal announcements so the framer's paths are all taken.
      const text = Buffer.concat([
        bytes.subarray(0, 400),
        Buffer.from('\r\n{5+}\r\nab\r\n"x\r\n'),
        bytes.subarray(400),
        Buffer.from('\r\n'),
      ]);
      const socket = net.connect({ port: server.managesievePort, host: '127.0.0.1' });
      socket.on('error', () => {});
      socket.resume(); // read and drop the answers, so that the close is seen
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.end(text);
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    }
    const { client } = await SieveClient.open(server.managesievePort);
    expect((await client.command('NOOP')).status).toBe('OK "Done"');
    client.close();
  });
});
