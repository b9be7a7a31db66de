/**
 * `mallard db status|shard|migrate` as a user runs them: real processes, the embedded store and
 * the MongoDB stand-in. (The 1,000-message migration has its own file: migration.test.ts.)
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARD_KEYS } from '../../server/store/mongodb/shard-keys.ts';
import { MALLARD_BIN, makeDataDir, ROOT } from '../helpers/cli.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { runProcess } from '../helpers/process.ts';
import { addUser, mongoEnv, openMongo } from './support.ts';

let standIn: MongoStandIn;
let dataDir: string;

function mallard(args: string[], env: Record<string, string> = {}) {
  return runProcess(process.execPath, [MALLARD_BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, MALLARD_CONFIG: '', MALLARD_DATA_DIR: dataDir, MALLARD_LOG_LEVEL: 'warn', ...env },
    timeoutMs: 120_000,
  });
}

beforeAll(async () => {
  standIn = await startMongoStandIn();
  dataDir = makeDataDir('mallard-db-cli-');
}, 120_000);

afterAll(async () => {
  await standIn?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('mallard db', () => {
  it('status names the engine, says it answers, and counts what it holds', async () => {
    const uri = freshDatabaseUri(standIn.uri);
    const store = await openMongo(uri);
    await addUser(store, 'alice@example.com', 'secret-password');
    await store.close();
    const result = await mallard(['db', 'status'], mongoEnv(uri, dataDir));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^engine: mongodb$/m);
    expect(result.stdout).toMatch(/^reachable: yes/m);
    expect(result.stdout).toMatch(/^users: 1$/m);
    const json = await mallard(['db', 'status', '--json'], mongoEnv(uri, dataDir));
    expect(JSON.parse(json.stdout)).toMatchObject({ engine: 'mongodb', reachable: true, users: 1 });
    const sqlite = await mallard(['db', 'status']);
    expect(sqlite.stdout).toMatch(/^engine: sqlite$/m);
  });

  it('status exits 75 when the database does not answer', async () => {
    const gone = await mallard(['db', 'status'], mongoEnv(`mongodb://127.0.0.1:1/nothing`, dataDir));
    expect(gone.status, gone.stdout + gone.stderr).toBe(75);
    expect(gone.stdout).toMatch(/^reachable: no/m);
  });

  it('shard --dry-run prints enableSharding and one shardCollection per shard key', async () => {
    const result = await mallard([
      'db',
      'shard',
      '--uri',
      'mongodb://router.example:27017/maildb',
      '--dry-run',
    ]);
    expect(result.status, result.stderr).toBe(0);
    const commands = result.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [key, json] = line.split('\t');
        expect(key).toBe('command');
        return JSON.parse(json!) as Record<string, unknown>;
      });
    expect(commands).toEqual([
      { enableSharding: 'maildb' },
      ...SHARD_KEYS.map(({ collection, key }) => ({ shardCollection: `maildb.${collection}`, key })),
    ]);
  });

  it('shard refuses a server that is not a mongos, and says why', async () => {
    const result = await mallard(['db', 'shard', '--uri', freshDatabaseUri(standIn.uri)]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/is not a mongos/);
  });

  it('migrate checks its arguments before touching anything', async () => {
    expect((await mallard(['db', 'migrate'])).status).toBe(64);
    const bad = await mallard(['db', 'migrate', '--to', 'postgres://x']);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/must be a mongodb:\/\//);
    expect((await mallard(['db', 'frobnicate'])).status).toBe(64);
    const unreachable = await mallard(['db', 'migrate', '--to', 'mongodb://127.0.0.1:1/none']);
    expect(unreachable.status, unreachable.stderr).toBe(75);
  });

  it('migrate copies a small store and verifies it, and a second run finds it all there', async () => {
    const dir = makeDataDir('mallard-db-cli-src-');
    try {
      const env = { MALLARD_DATA_DIR: dir };
      expect((await mallard(['domain', 'add', 'example.com'], env)).status).toBe(0);
      const add = await mallard(['user', 'add', 'bob@example.com', '--password', 'long-password'], env);
      expect(add.status, add.stderr).toBe(0);
      const deliver = await runProcess(process.execPath, [MALLARD_BIN, 'deliver', 'bob@example.com'], {
        cwd: ROOT,
        env: { ...process.env, MALLARD_CONFIG: '', MALLARD_DATA_DIR: dir, MALLARD_LOG_LEVEL: 'warn' },
        input: 'From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n',
      });
      expect(deliver.status, deliver.stderr).toBe(0);
      const uri = freshDatabaseUri(standIn.uri);
      const first = await mallard(['db', 'migrate', '--to', uri], env);
      expect(first.status, first.stdout + first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^migrate\tsqlite .*-> mongodb mongodb:\/\/127\.0\.0\.1:\d+\//m);
      expect(first.stdout).toMatch(/^verified\tbob@example.com\tINBOX\t1 messages\tok$/m);
      expect(first.stdout).toMatch(
        /^summary\tverified: 1 users, 6 mailboxes, 1 messages \(1 copied, 0 already there/m,
      );
      const again = await mallard(['db', 'migrate', '--to', uri, '--json'], env);
      expect(again.status, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        messagesCopied: 0,
        messagesSkipped: 1,
        mismatches: [],
      });
      const listed = await mallard(['user', 'list', '--offline'], mongoEnv(uri, dataDir));
      expect(listed.stdout).toMatch(/^bob@example.com\t/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
