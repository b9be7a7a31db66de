/**
 * The management commands as clients of a running server's admin API. Most cases call the commands
 * in this process (a child process costs seconds here); a few run the real `mallard` command.
 *
 * The API path is proven by a second data directory holding only a copy of the server's
 * admin.token: a command pointed at it can reach the server's store only through the API.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, findServer } from '../server/cli/admin-client.ts';
import { CliError } from '../server/cli/cli-error.ts';
import { aliasCommand } from '../server/cli/commands/alias.ts';
import { domainCommand } from '../server/cli/commands/domain.ts';
import { sieveCommand } from '../server/cli/commands/sieve.ts';
import { filtersCommand } from '../server/cli/commands/filters.ts';
import { forwardCommand } from '../server/cli/commands/forward.ts';
import { vacationCommand } from '../server/cli/commands/vacation.ts';
import { spamCommand } from '../server/cli/commands/spam.ts';
import { certCommand } from '../server/cli/commands/cert.ts';
import { ruleCommand } from '../server/cli/commands/rule.ts';
import { sessionsCommand } from '../server/cli/commands/sessions.ts';
import { statusCommand } from '../server/cli/commands/status.ts';
import { userCommand } from '../server/cli/commands/user.ts';
import { loadConfig } from '../server/config/load.ts';
import { call, type Command } from './helpers/cli-call.ts';
import { MALLARD_BIN, ROOT, makeDataDir } from './helpers/cli.ts';
import { LineClient, startTestServer, type TestServer } from './helpers/server.ts';

/**
 * The real `mallard` command, run without blocking this process: the test server in it must answer
 * the child's requests meanwhile (spawnSync would make every probe time out).
 */
function runMallard(
  args: string[],
  options: { dataDir: string; input?: string; env?: Record<string, string> },
): Promise<{ status: number | null; text: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MALLARD_BIN, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        MALLARD_CONFIG: '',
        MALLARD_DATA_DIR: options.dataDir,
        MALLARD_LOG_LEVEL: 'warn',
        MALLARD_CLI_OFFLINE: '',
        ...options.env,
      },
    });
    let text = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, text, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

describe('management commands through the admin API', () => {
  let h: TestServer;
  let clientDir: string;
  let apiEnv: Record<string, string>;
  let offlineEnv: Record<string, string>;
  const clients: LineClient[] = [];

  /** Through the API: the client directory has the token and nothing else. */
  const api = (command: Command, ...args: string[]) => call(command, args, apiEnv);
  /** Straight to the server's store. */
  const offline = (command: Command, ...args: string[]) => call(command, args, offlineEnv);
  const ok = async (command: Command, ...args: string[]) => {
    const result = await api(command, ...args);
    expect(result.error).toBe('');
    expect(result.status).toBe(0);
    return result.text;
  };

  beforeAll(async () => {
    h = await startTestServer();
    clientDir = makeDataDir('mallard-cli-client-');
    fs.copyFileSync(path.join(h.config.data_dir, 'admin.token'), path.join(clientDir, 'admin.token'));
    const port = String(h.server.admin!.port);
    apiEnv = {
      MALLARD_CONFIG: '',
      MALLARD_DATA_DIR: clientDir,
      MALLARD_ADMIN_PORT: port,
      MALLARD_CLI_OFFLINE: '',
    };
    offlineEnv = { MALLARD_CONFIG: '', MALLARD_DATA_DIR: h.config.data_dir, MALLARD_CLI_OFFLINE: '1' };
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  afterAll(async () => {
    await h.stop();
    fs.rmSync(clientDir, { recursive: true, force: true });
  });

  it('finds the server from the token and admin.port, and not with --offline or without a token', async () => {
    const config = loadConfig({
      env: { MALLARD_DATA_DIR: clientDir, MALLARD_ADMIN_PORT: apiEnv.MALLARD_ADMIN_PORT },
    });
    expect((await findServer(config))?.status.version).toMatch(/\d/);
    expect(await findServer({ ...config, data_dir: makeDataDir() })).toBeNull();
    process.env.MALLARD_CLI_OFFLINE = '1';
    try {
      expect(await findServer(config)).toBeNull();
    } finally {
      delete process.env.MALLARD_CLI_OFFLINE;
    }
  });

  it('adds domains through the API and refuses a user in a domain that is not local', async () => {
    const refused = await api(userCommand, 'add', 'x@example.test', '--password', 'a long password');
    expect(refused.status).toBe(65);
    expect(refused.error).toContain('mallard domain add example.test');
    expect(await ok(domainCommand, 'add', 'Example.TEST')).toBe('example.test\tadded\n');
    expect(await ok(domainCommand, 'list')).toBe('example.test\t-\tdkim\n');
    expect(await ok(domainCommand, 'set', 'example.test', '--dkim', 'off')).toBe(
      'example.test\t-\tno-dkim\n',
    );
    expect((await h.server.store.getDomain('example.test'))?.dkim).toBe(false);
    await ok(domainCommand, 'set', 'example.test', '--dkim', 'on');
  });

  it('adds a user through the API, printing what the store path prints', async () => {
    expect(
      await ok(userCommand, 'add', 'Dora@Example.test', '--password', 'a long password', '--quota', '5M'),
    ).toBe('dora@example.test\tcreated\n');
    expect(await h.server.store.getUserByUsername('dora@example.test')).toMatchObject({
      quotaBytes: 5 * 1024 * 1024,
    });
    expect(fs.readdirSync(clientDir)).toEqual(['admin.token']); // no store was opened there
    for (const args of [
      ['list'],
      ['list', '--json'],
      ['show', 'dora@example.test'],
      ['show', 'dora@example.test', '--json'],
    ]) {
      const viaApi = await api(userCommand, ...args);
      expect(viaApi.status).toBe(0);
      expect(viaApi.text).toBe((await offline(userCommand, ...args)).text);
    }
    expect(JSON.parse((await api(userCommand, 'show', 'dora@example.test', '--json')).text)).toMatchObject({
      username: 'dora@example.test',
      addresses: [{ address: 'dora@example.test', kind: 'primary' }],
    });
  });

  it('disables, enables, changes a password and deletes through the API', async () => {
    await ok(userCommand, 'add', 'erin@example.test', '--password', 'first password');
    expect(await ok(userCommand, 'disable', 'erin@example.test')).toBe('erin@example.test\tdisabled\n');
    expect((await h.server.store.getUserByUsername('erin@example.test'))!.disabled).toBe(true);
    expect(await ok(userCommand, 'enable', 'erin@example.test')).toBe('erin@example.test\tenabled\n');
    expect(await ok(userCommand, 'passwd', 'erin@example.test', '--password', 'second password')).toBe(
      'erin@example.test\tpassword changed\n',
    );
    const client = await LineClient.connect(h.imapPort);
    clients.push(client);
    await client.readUntil(/^\* OK/);
    expect(await client.command('a', 'LOGIN erin@example.test "second password"')).toMatch(/^a OK/m);
    expect(await ok(userCommand, 'del', 'erin@example.test')).toBe('erin@example.test\tdeleted\n');
    expect(await h.server.store.getUserByUsername('erin@example.test')).toBeNull();
  });

  it('manages aliases through the API', async () => {
    expect(await ok(aliasCommand, 'add', 'dee@example.test', 'dora@example.test')).toBe(
      'dee@example.test\talias\tdora@example.test\n',
    );
    // A catch-all, like any address, needs its domain to be local first.
    expect((await api(aliasCommand, 'add', '*@catch.test', 'dora@example.test')).status).toBe(65);
    await ok(domainCommand, 'add', 'catch.test');
    expect(await ok(aliasCommand, 'add', '*@catch.test', 'dora@example.test')).toContain('\tcatchall\t');
    const list = await api(aliasCommand, 'list', 'dora@example.test', '--json');
    expect(list.text).toBe((await offline(aliasCommand, 'list', 'dora@example.test', '--json')).text);
    expect(await ok(aliasCommand, 'del', 'DEE@example.test')).toBe('dee@example.test\tdeleted\n');
    expect(
      (
        await h.server.store.listAddresses((await h.server.store.getUserByUsername('dora@example.test'))!.id)
      ).map((a) => a.address),
    ).toEqual(['dora@example.test', '*@catch.test']);
    expect((await api(aliasCommand, 'del', 'nobody@example.test')).status).toBe(67);
  });

  it('manages spam allow and block lists through the API, as the store path does', async () => {
    expect(await ok(spamCommand, 'allow', 'dora@example.test', 'Boss@Work.test')).toBe(
      'boss@work.test\tallow\n',
    );
    expect(await ok(spamCommand, 'block', 'dora@example.test', '@work.test')).toBe('work.test\tblock\n');
    const list = await api(spamCommand, 'list', 'dora@example.test', '--json');
    expect(JSON.parse(list.text)).toEqual([
      expect.objectContaining({ pattern: 'boss@work.test', list: 'allow' }),
      expect.objectContaining({ pattern: 'work.test', list: 'block' }),
    ]);
    expect(list.text).toBe((await offline(spamCommand, 'list', 'dora@example.test', '--json')).text);
    expect(await ok(spamCommand, 'remove', 'dora@example.test', 'work.test')).toBe('work.test\tremoved\n');
    const dora = (await h.server.store.getUserByUsername('dora@example.test'))!;
    expect((await h.server.store.listSpamEntries(dora.id)).map((entry) => entry.pattern)).toEqual([
      'boss@work.test',
    ]);
    // Not a sender: refused (65); the wrong user: 67; both paths alike.
    expect((await api(spamCommand, 'block', 'dora@example.test', 'not a sender')).status).toBe(65);
    expect((await offline(spamCommand, 'block', 'dora@example.test', 'not a sender')).status).toBe(65);
    expect((await api(spamCommand, 'list', 'nobody@example.test')).status).toBe(67);
  });

  it('manages Sieve scripts through the API, as the store path does', async () => {
    const script = path.join(clientDir, 'filter.sieve');
    fs.writeFileSync(script, 'require "fileinto";\nfileinto "Lists";\n');
    expect(await ok(sieveCommand, 'put', 'dora@example.test', 'filter', script)).toBe('filter\tstored\n');
    expect(await ok(sieveCommand, 'activate', 'dora@example.test', 'filter')).toBe('filter\tactive\n');
    const list = await api(sieveCommand, 'list', 'dora@example.test', '--json');
    expect(JSON.parse(list.text)).toEqual([expect.objectContaining({ name: 'filter', active: true })]);
    expect(list.text).toBe((await offline(sieveCommand, 'list', 'dora@example.test', '--json')).text);
    // A broken script: refused with its position (65) on both paths; an unknown script: 67.
    fs.writeFileSync(script, 'fileinto "x";');
    const refused = await api(sieveCommand, 'put', 'dora@example.test', 'broken', script);
    expect(refused.status).toBe(65);
    expect(refused.error).toMatch(/line 1, column 1: command "fileinto" used without require/);
    expect((await offline(sieveCommand, 'put', 'dora@example.test', 'broken', script)).status).toBe(65);
    expect((await api(sieveCommand, 'activate', 'dora@example.test', 'nope')).status).toBe(67);
  });

  it('sets filters, forwarding and vacation through the API, as the store path does', async () => {
    const settings = path.join(clientDir, 'filters.json');
    fs.writeFileSync(
      settings,
      JSON.stringify({ filters: [{ conditions: { from: 'boss@' }, actions: { star: true } }] }),
    );
    // dora's active script is the hand-written "filter" above: refused on both paths (65) ...
    const refused = await api(filtersCommand, 'set', 'dora@example.test', settings);
    expect(refused.status).toBe(65);
    expect(refused.error).toMatch(/the active Sieve script "filter" was written by hand/);
    expect((await offline(filtersCommand, 'set', 'dora@example.test', settings)).status).toBe(65);
    // ... until told to replace it.
    expect(await ok(filtersCommand, 'set', 'dora@example.test', settings, '--overwrite')).toBe(
      '1 filter(s) saved; in force (script "mallard-filters" is active)\n',
    );
    expect(await ok(forwardCommand, 'dora@example.test', 'dora@elsewhere.example')).toBe(
      'dora@example.test: forwarding to dora@elsewhere.example, no copy kept\n',
    );
    expect(await ok(vacationCommand, 'dora@example.test', '--subject', 'Away', '--body', 'Back soon.')).toBe(
      'dora@example.test: vacation reply "Away"\n',
    );
    const shown = await api(filtersCommand, 'show', 'dora@example.test', '--json');
    expect(JSON.parse(shown.text)).toMatchObject({
      state: 'managed',
      settings: {
        forwarding: { address: 'dora@elsewhere.example', keepCopy: false },
        vacation: { subject: 'Away' },
      },
    });
    expect(shown.text).toBe((await offline(filtersCommand, 'show', 'dora@example.test', '--json')).text);
  });

  it('manages rules through the API and tests addresses against the server’s rules', async () => {
    const added = await ok(ruleCommand, 'add', 'deny', '203.0.113.0/24', '--note', 'docs');
    const id = added.split('\t')[0]!;
    expect(added).toMatch(/added at position 1/);
    await ok(ruleCommand, 'add', 'max-conn', '50');
    for (const args of [['list'], ['list', '--json']])
      expect((await api(ruleCommand, ...args)).text).toBe((await offline(ruleCommand, ...args)).text);
    expect(await ok(ruleCommand, 'move', id, '2')).toBe(`${id}\tnow at position 2\n`);
    expect(await ok(ruleCommand, 'test', '203.0.113.9')).toMatch(/^connect: refused by rule /m);
    const viaApi = await api(ruleCommand, 'test', '203.0.113.9', '--json');
    expect(viaApi.text).toBe((await offline(ruleCommand, 'test', '203.0.113.9', '--json')).text);
    expect(await ok(ruleCommand, 'disable', id)).toBe(`${id}\tdisabled\n`);
    expect(await ok(ruleCommand, 'test', '203.0.113.9')).toMatch(/^connect: allowed/m);
    expect(await ok(ruleCommand, 'del', id)).toBe(`${id}\tdeleted\n`);
    const missing = await api(ruleCommand, 'del', id);
    expect(missing).toMatchObject({ status: 65, error: `no such rule: ${id}` });
    expect((await offline(ruleCommand, 'del', id)).status).toBe(65);
  });

  it('maps API errors to exit codes', async () => {
    expect(await api(userCommand, 'show', 'nobody@example.test')).toMatchObject({
      status: 67,
      error: 'no such user: nobody@example.test',
    });
    const duplicate = await api(userCommand, 'add', 'dora@example.test', '--password', 'a long password');
    expect(duplicate.status).toBe(65);
    expect(duplicate.error).toMatch(/exists/);
    expect(
      (await offline(userCommand, 'add', 'dora@example.test', '--password', 'a long password')).status,
    ).toBe(65);
    expect((await api(sessionsCommand, 'kick', 'no-such-session')).status).toBe(65);
  });

  it('lists and kicks live sessions, and shows them in the status', async () => {
    const client = await LineClient.connect(h.imapPort);
    clients.push(client);
    await client.readUntil(/^\* OK/);
    expect(await client.command('a', 'LOGIN dora@example.test "a long password"')).toMatch(/^a OK/m);
    const sessions = JSON.parse(await ok(sessionsCommand, '--json')) as Array<{
      id: string;
      user: string | null;
    }>;
    const mine = sessions.find((session) => session.user === 'dora@example.test')!;
    expect(mine).toBeDefined();
    expect(await ok(sessionsCommand)).toMatch(
      new RegExp(`^${mine.id}\\timap\\t127\\.0\\.0\\.1:\\d+\\tdora@example\\.test\\t`, 'm'),
    );
    const status = await ok(statusCommand);
    expect(status).toMatch(/^server: running since .* \(up \d/m);
    expect(status).toMatch(/^sessions: imap 1, pop3 0, lmtp 0, smtp 0, submission 0, managesieve 0$/m);
    expect(status).toMatch(/^listeners: .*imaps 127\.0\.0\.1:\d+ \(tls\)/m);
    expect(status).toMatch(/^delivered: 0 /m);
    expect(JSON.parse(await ok(statusCommand, '--json'))).toMatchObject({
      store: { ok: true },
      sessions: { imap: 1 },
      delivered: { total: 0 },
    });
    expect(await ok(sessionsCommand, 'kick', mine.id)).toBe(`${mine.id}\tkicked\n`);
    expect(await client.readUntil(/^\* BYE/)).toMatch(/BYE/);
  });

  it('issues, activates, lists, exports and removes certificates through the API', async () => {
    const issued = await ok(certCommand, 'issue', 'mail.example.test', '192.0.2.7', '--ecdsa', '--activate');
    const id = issued.split('\t')[0]!;
    expect(issued).toMatch(/\tserver\tmail\.example\.test,192\.0\.2\.7\texpires .*\tactive\n$/);
    expect(h.server.tls.certificates.active()?.id).toBe(id); // the server's own store
    expect(await ok(certCommand, 'list')).toMatch(new RegExp(`^${id}\\tserver\\tactive\\t`, 'm'));
    const json = JSON.parse(await ok(certCommand, 'list', '--json')) as Array<Record<string, unknown>>;
    expect(json.find((info) => info.kind === 'ca')).toBeDefined();
    expect(JSON.stringify(json)).not.toMatch(/PRIVATE KEY/);
    expect((await api(certCommand, 'export-ca')).text).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const der = (await api(certCommand, 'export-ca', '--der')).bytes;
    expect(der[0]).toBe(0x30);
    expect((await api(certCommand, 'ca')).status).toBe(65); // there is one already
    expect((await api(certCommand, 'remove', id)).status).toBe(65); // active
    expect((await api(certCommand, 'activate', 'nope')).status).toBe(65);
  });

  it('uses the certificate store directly when no server runs', async () => {
    const dataDir = makeDataDir();
    const env = { MALLARD_CONFIG: '', MALLARD_DATA_DIR: dataDir, MALLARD_CLI_OFFLINE: '' };
    try {
      expect((await call(certCommand, ['ca', '--ecdsa', '--name', 'Test CA'], env)).text).toMatch(
        /\tca\tCN=Test CA/,
      );
      const issued = await call(certCommand, ['issue', 'host.test', '--ecdsa'], env);
      const id = issued.text.split('\t')[0]!;
      expect((await call(certCommand, ['activate', id], env)).text).toMatch(/\tactive\n$/);
      expect((await call(certCommand, ['list'], env)).text).toMatch(
        new RegExp(`^${id}\\tserver\\tactive\\t`, 'm'),
      );
      expect((await call(certCommand, ['remove', id], env)).status).toBe(65);
      expect(
        (await call(certCommand, ['import', '--cert', '/nonexistent', '--key', '/nonexistent'], env)).status,
      ).toBe(66);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('works as the real mallard command: API user add, status, --offline', async () => {
    const env = { MALLARD_ADMIN_PORT: apiEnv.MALLARD_ADMIN_PORT! };
    const added = await runMallard(['user', 'add', 'fay@example.test', '--password', '-'], {
      dataDir: clientDir,
      env,
      input: 'a long password\n',
    });
    expect(added.stderr).toBe('');
    expect(added).toMatchObject({ status: 0, text: 'fay@example.test\tcreated\n' });
    expect(await h.server.store.getUserByUsername('fay@example.test')).not.toBeNull();
    const listed = await runMallard(['user', 'list'], { dataDir: clientDir, env });
    expect(listed.text).toMatch(/^fay@example\.test\t/m);
    // --offline: the client directory's own (empty) store
    const offlineList = await runMallard(['user', 'list', '--offline'], { dataDir: clientDir, env });
    expect(offlineList).toMatchObject({ status: 0, text: '' });
    const status = await runMallard(['status'], { dataDir: clientDir, env });
    expect(status.status).toBe(0);
    expect(status.text).toMatch(/^server: running since/m);
    const noSessions = await runMallard(['sessions', '--protocol', 'pop3'], { dataDir: clientDir, env });
    expect(noSessions).toMatchObject({ status: 0, text: '', stderr: 'no live sessions match\n' });
  });

  it('exits 77 when the server refuses the token, and 75 for sessions without a server', async () => {
    const dir = makeDataDir();
    try {
      fs.writeFileSync(path.join(dir, 'admin.token'), 'wrong\n', { mode: 0o600 });
      const refused = await runMallard(['user', 'list'], {
        dataDir: dir,
        env: { MALLARD_ADMIN_PORT: apiEnv.MALLARD_ADMIN_PORT! },
      });
      expect(refused.status).toBe(77);
      expect(refused.stderr).toMatch(/refused the admin token/);
      fs.rmSync(path.join(dir, 'admin.token'));
      const none = await runMallard(['sessions'], { dataDir: dir });
      expect(none.status).toBe(75);
      expect(none.stderr).toMatch(/no server is running/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the admin client', () => {
  it('turns API errors into exit codes, with the API’s message', async () => {
    const answers: Record<string, number> = {
      '/a': 404,
      '/b': 409,
      '/c': 400,
      '/d': 401,
      '/e': 403,
      '/f': 500,
      '/g': 503,
    };
    const server = http.createServer((request, response) => {
      response.writeHead(answers[request.url!] ?? 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'x', message: `message for ${request.url}` } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = adminClient(`http://127.0.0.1:${port}`, 'token', {} as never);
    const code = (path: string, options?: { notFound?: number }) =>
      client.request('GET', path, undefined, options).then(
        (): [number, string] => [0, ''],
        (error: CliError): [number, string] => [error.code, error.message],
      );
    try {
      expect(await code('/a')).toEqual([65, 'message for /a']);
      expect(await code('/a', { notFound: 67 })).toEqual([67, 'message for /a']);
      expect(await code('/b')).toEqual([65, 'message for /b']);
      expect(await code('/c')).toEqual([65, 'message for /c']);
      expect((await code('/d'))[0]).toBe(77);
      expect((await code('/e'))[0]).toBe(77);
      expect((await code('/f'))[0]).toBe(75);
      expect((await code('/g'))[0]).toBe(75);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const gone = adminClient(`http://127.0.0.1:${port}`, 'token', {} as never);
    expect(await gone.request('GET', '/x').catch((error: CliError) => error.code)).toBe(75);
  });
});
