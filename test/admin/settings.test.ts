/**
 * PUT /api/settings writes the configuration file in place (comments kept) and the next start uses
 * it; protocols can be switched off; POST /api/store/test-connection tries a MongoDB URI (against
 * the MongoDB stand-in, and against nothing).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configFileOf, loadConfig } from '../../server/config/load.ts';
import { createLogger } from '../../server/log.ts';
import { startServer, type RunningServer } from '../../server/main.ts';
import { makeDataDir } from '../helpers/cli.ts';
import { startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';

let dataDir: string;
let file: string;
let server: RunningServer;
let url: string;
let token: string;

const ORIGINAL = (dir: string) => `# Mallard test configuration
data_dir: ${dir} # where the mail lives
hostname: localhost

imap:
  host: 127.0.0.1 # loopback only
pop3:
  host: 127.0.0.1
smtp:
  host: 127.0.0.1
`;

async function call(method: string, route: string, body?: unknown) {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, body: (await response.json()) as any };
}

function quietLogger() {
  return createLogger(process.env.MALLARD_TEST_LOG ?? 'silent', process.stderr);
}

beforeAll(async () => {
  dataDir = makeDataDir('mallard-settings-');
  file = path.join(dataDir, 'test.yaml');
  fs.writeFileSync(file, ORIGINAL(dataDir));
  const config = loadConfig({ file, env: {} });
  expect(configFileOf(config)).toBe(file);
  server = await startServer(config, { ephemeralPorts: true, logger: quietLogger() });
  url = server.admin!.url;
  token = server.admin!.token;
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('PUT /api/settings', () => {
  it('writes the changes into the file in place, keeping its comments, and says a restart is needed', async () => {
    const result = await call('PUT', '/api/settings', {
      hostname: 'mail.example.org',
      imap: { port: 1143, tls_port: 1993, enabled: false },
      pop3: { enabled: true, port: 1110 },
      limits: { max_message_size: 10_485_760 },
    });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      restartRequired: true,
      file,
      warnings: [],
      settings: {
        hostname: 'mail.example.org',
        imap: { enabled: false, port: 1143, tls_port: 1993, host: '127.0.0.1' },
        pop3: { enabled: true, port: 1110 },
        limits: { max_message_size: 10_485_760 },
      },
    });
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('# Mallard test configuration');
    expect(text).toContain('host: 127.0.0.1 # loopback only');
    expect(text).toContain(`data_dir: ${dataDir} # where the mail lives`);
    expect(parseYaml(text)).toMatchObject({
      hostname: 'mail.example.org',
      imap: { port: 1143, enabled: false },
    });
    // The configuration in force is unchanged until the restart.
    expect((await call('GET', '/api/settings')).body.hostname).toBe('localhost');
  });

  it('the next start reads it: a switched-off protocol has no listener', async () => {
    const next = loadConfig({ file, env: {} });
    expect(next.imap.enabled).toBe(false);
    expect(next.hostname).toBe('mail.example.org');
    const restarted = await startServer(
      { ...next, data_dir: makeDataDir('mallard-settings-next-') },
      { ephemeralPorts: true, logger: quietLogger() },
    );
    try {
      expect(restarted.imap.listeners).toEqual([]);
      expect(restarted.pop3.listeners.length).toBe(2);
    } finally {
      await restarted.stop();
      fs.rmSync(restarted.config.data_dir, { recursive: true, force: true });
    }
  });

  it('refuses bad values with the key named, and leaves the file alone', async () => {
    const before = fs.readFileSync(file, 'utf8');
    const cases: Array<[unknown, RegExp]> = [
      [{ imap: { port: 70000 } }, /imap\.port/],
      [{ smtp: { enabled: 'yes' } }, /smtp\.enabled/],
      [{ colour: 'blue' }, /colour|unrecognized/i],
      [{ hostname: 'not a host name' }, /hostname/],
      [{ store: { engine: 'mongodb' } }, /needs a URI/],
      [{ store: { mongodb: { uri: 'http://example.com' } } }, /mongodb:\/\//],
      [{ lmtp: { port: 2525 }, smtp: { port: 2525 } }, /port 2525 is already used/],
      // Submission's ports count too (587 is its default here).
      [{ pop3: { port: 587 } }, /submission\.port: port 587 is already used by pop3\.port/],
      [{ limits: { max_line_length: 10 } }, /max_line_length/],
    ];
    for (const [body, pattern] of cases) {
      const result = await call('PUT', '/api/settings', body);
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body.error.code).toBe('validation_failed');
      expect(JSON.stringify(result.body.error), JSON.stringify(body)).toMatch(pattern);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('keeps a MongoDB password out of answers, and the masked URI sent back keeps the real one', async () => {
    const set = await call('PUT', '/api/settings', {
      store: { mongodb: { uri: 'mongodb://mallard:s3cret@127.0.0.1:1/mail' } },
    });
    expect(set.status).toBe(200);
    const masked = set.body.settings.store.mongodb.uri as string;
    expect(masked).toBe('mongodb://mallard:***@127.0.0.1:1/mail');
    expect(JSON.stringify(set.body)).not.toContain('s3cret');
    expect(fs.readFileSync(file, 'utf8')).toContain('mongodb://mallard:s3cret@127.0.0.1:1/mail');
    // A server started with that file (so its URI in force is the real one) gets the masked
    // form back from the page, unchanged: the real URI stays in the file. (It shares the data
    // directory with the first server: the sqlite store takes two processes' worth of users.)
    const withUri = await startServer(loadConfig({ file, env: {} }), {
      ephemeralPorts: true,
      logger: quietLogger(),
    });
    try {
      const response = await fetch(`${withUri.admin!.url}/api/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${withUri.admin!.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ store: { engine: 'sqlite', mongodb: { uri: masked } } }),
      });
      expect(response.status).toBe(200);
      expect(fs.readFileSync(file, 'utf8')).toContain('mongodb://mallard:s3cret@127.0.0.1:1/mail');
    } finally {
      await withUri.stop();
    }
  });

  it('sets sending through a relay; the relay password never comes back, and its mask keeps it', async () => {
    const set = await call('PUT', '/api/settings', {
      outbound: {
        relay: {
          host: 'smtp.provider.test',
          port: 465,
          tls: 'tls',
          username: 'me@provider.test',
          password: 'r3lay-pw',
        },
      },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.settings.outbound.relay).toEqual({
      host: 'smtp.provider.test',
      port: 465,
      tls: 'tls',
      username: 'me@provider.test',
      password: '********',
    });
    expect(JSON.stringify(set.body)).not.toContain('r3lay-pw');
    expect(loadConfig({ file, env: {} }).outbound.relay.password).toBe('r3lay-pw');
    // The page sends the mask back with another change: the real password stays.
    const again = await call('PUT', '/api/settings', {
      outbound: { relay: { port: 587, tls: 'starttls', password: '********' } },
    });
    expect(again.status).toBe(200);
    expect(loadConfig({ file, env: {} }).outbound.relay).toMatchObject({
      port: 587,
      tls: 'starttls',
      password: 'r3lay-pw',
    });
    // The server in force (started before) never shows its own relay password either.
    expect(JSON.stringify((await call('GET', '/api/settings')).body)).not.toContain('r3lay-pw');
    expect((await call('PUT', '/api/settings', { outbound: { relay: { tls: 'ssl' } } })).status).toBe(400);
    // Back to direct delivery.
    expect((await call('PUT', '/api/settings', { outbound: { relay: { host: '' } } })).status).toBe(200);
    expect(loadConfig({ file, env: {} }).outbound.relay.host).toBe('');
  });

  it('writes <data_dir>/mallard.yaml when the server was started without a file, and loadConfig reads it', async () => {
    const dir = makeDataDir('mallard-settings-default-');
    const env = {
      MALLARD_DATA_DIR: dir,
      MALLARD_IMAP_HOST: '127.0.0.1',
      MALLARD_POP3_HOST: '127.0.0.1',
      MALLARD_SMTP_HOST: '127.0.0.1',
    };
    const config = loadConfig({ env });
    expect(configFileOf(config)).toBeUndefined();
    const plain = await startServer(config, { ephemeralPorts: true, logger: quietLogger() });
    try {
      const response = await fetch(`${plain.admin!.url}/api/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${plain.admin!.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ hostname: 'default-file.example' }),
      });
      const body = (await response.json()) as { file: string };
      expect(response.status).toBe(200);
      expect(body.file).toBe(path.join(dir, 'mallard.yaml'));
      expect(fs.statSync(body.file).mode & 0o777).toBe(0o600);
      const reloaded = loadConfig({ env });
      expect(reloaded.hostname).toBe('default-file.example');
      expect(configFileOf(reloaded)).toBe(body.file);
      // The environment still wins over the file.
      expect(loadConfig({ env: { ...env, MALLARD_HOSTNAME: 'from-env' } }).hostname).toBe('from-env');
    } finally {
      await plain.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('POST /api/store/test-connection', () => {
  let mongo: MongoStandIn | null = null;
  afterAll(async () => {
    await mongo?.stop();
  });

  it('says why nothing answers, within the 3 s timeout', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const started = Date.now();
    const result = await call('POST', '/api/store/test-connection', {
      uri: `mongodb://127.0.0.1:${closed}/mail`,
    });
    expect(result.status).toBe(200);
    expect(result.body.ok).toBe(false);
    expect(result.body.detail).toMatch(/^cannot connect: .*(ECONNREFUSED|Server selection timed out)/);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('refuses what is not a MongoDB URI, and reports a malformed one', async () => {
    const wrong = await call('POST', '/api/store/test-connection', { uri: 'postgres://x' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('validation_failed');
    expect((await call('POST', '/api/store/test-connection', {})).status).toBe(400);
    const malformed = await call('POST', '/api/store/test-connection', { uri: 'mongodb://a:b:c@/x' });
    expect(malformed.status).toBe(200);
    expect(malformed.body).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^not a usable MongoDB URI/),
    });
  });

  it('connects to a MongoDB server and reports its version', async () => {
    mongo = await startMongoStandIn();
    const result = await call('POST', '/api/store/test-connection', { uri: `${mongo.uri}/mallard` });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ ok: true, version: '5.0.0' });
    expect(result.body.detail).toMatch(/^connected to MongoDB 5\.0\.0, /);
  }, 120_000);
});
