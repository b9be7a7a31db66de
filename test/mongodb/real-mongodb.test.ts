/**
 * What only a real MongoDB can prove, run when MALLARD_TEST_MONGODB_URI points at one (skipped
 * otherwise: the stand-in has no replica sets and no sharding):
 * - on a replica set: an acknowledged APPEND survives the primary stepping down, and the server
 *   serves again by itself after the election;
 * - on a mongos: `mallard db shard` shards the collections with the engine's keys, and a second
 *   run is harmless;
 * - on either: the visibility checker (visibility-checker.ts) with two server processes.
 * Each test works in a database of its own (freshDatabaseUri) and drops it afterwards.
 */
import { MongoClient } from 'mongodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARD_KEYS } from '../../server/store/mongodb/shard-keys.ts';
import { MALLARD_BIN, ROOT } from '../helpers/cli.ts';
import { freshDatabaseUri } from '../helpers/mongo.ts';
import { runProcess } from '../helpers/process.ts';
import { LineClient } from '../helpers/server.ts';
import { addUser, openMongo, startServerProcess } from './support.ts';
import { runVisibilityChecker } from './visibility-checker.ts';

const URI = process.env.MALLARD_TEST_MONGODB_URI ?? '';
const SKIP_REASON = 'set MALLARD_TEST_MONGODB_URI to a real MongoDB (replica set or mongos) to run';

interface Topology {
  replicaSet: boolean;
  mongos: boolean;
}

let topology: Topology = { replicaSet: false, mongos: false };
const databases: string[] = [];

async function withClient<T>(uri: string, run: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

function fresh(): string {
  const uri = freshDatabaseUri(URI);
  databases.push(uri);
  return uri;
}

if (!URI) console.log(`test/mongodb/real-mongodb.test.ts skipped: ${SKIP_REASON}`);

describe.skipIf(!URI)(`real MongoDB (${URI ? 'MALLARD_TEST_MONGODB_URI' : SKIP_REASON})`, () => {
  beforeAll(async () => {
    // isMaster answers on every version (hello needs 4.4.2+).
    const hello = await withClient(URI, (client) => client.db('admin').command({ isMaster: 1 }));
    topology = { replicaSet: typeof hello.setName === 'string', mongos: hello.msg === 'isdbgrid' };
  });

  afterAll(async () => {
    for (const uri of databases)
      await withClient(uri, (client) => client.db().dropDatabase()).catch(() => undefined);
  });

  it('an acknowledged APPEND survives a primary step-down, and service resumes by itself', async (context) => {
    if (!topology.replicaSet) context.skip('MALLARD_TEST_MONGODB_URI is not a replica set');
    const uri = fresh();
    const store = await openMongo(uri);
    await addUser(store, 'alice@example.com', 'secret-password');
    const server = await startServerProcess(uri);
    try {
      const client = await LineClient.connect(server.imapPort);
      await client.readUntil(/^\* OK/);
      expect(await client.command('l', 'LOGIN alice@example.com secret-password')).toMatch(/^l OK/m);
      const text = 'From: a@example.com\r\nSubject: before the election\r\n\r\nkept\r\n';
      const appended = await client.command('a', `APPEND INBOX {${text.length}+}\r\n${text}`);
      expect(appended).toMatch(/^a OK \[APPENDUID/m);

      // Step the primary down right after the acknowledgement.
      await withClient(URI, async (admin) => {
        await admin
          .db('admin')
          .command({ replSetStepDown: 30, secondaryCatchUpPeriodSecs: 10, force: true })
          .catch(() => undefined); // the primary may close our connection while stepping down
      });

      const deadline = Date.now() + 60_000;
      let fetched = '';
      while (Date.now() < deadline) {
        fetched = await client.command('f', 'SELECT INBOX', 30_000);
        if (/^f OK/m.test(fetched)) break;
        expect(fetched).toMatch(/^f NO \[UNAVAILABLE\]/m); // a clean temporary failure meanwhile
        await sleep(500);
      }
      expect(fetched).toMatch(/^\* 1 EXISTS/m);
      const body = await client.command('b', 'FETCH 1 BODY.PEEK[]', 30_000);
      expect(body).toContain(text);
      client.close();
    } finally {
      await server.stop();
      await store.close();
    }
  }, 180_000);

  it('every session learns every change once, in order, within 1 s (the visibility checker)', async () => {
    const uri = fresh();
    const store = await openMongo(uri);
    await addUser(store, 'alice@example.com', 'secret-password');
    const servers = await Promise.all([startServerProcess(uri), startServerProcess(uri)]);
    try {
      const report = await runVisibilityChecker({
        servers,
        username: 'alice@example.com',
        password: 'secret-password',
      });
      console.log(`real MongoDB: ${report.acknowledged} acknowledged, worst delay ${report.worstDelayMs} ms`);
      expect(report.problems).toEqual([]);
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
      await store.close();
    }
  }, 180_000);

  it('mallard db shard shards the collections on a mongos, and a second run is harmless', async (context) => {
    if (!topology.mongos) context.skip('MALLARD_TEST_MONGODB_URI is not a mongos');
    const uri = fresh();
    const store = await openMongo(uri); // creates the collections and their indexes
    await store.close();
    const env = { ...process.env, MALLARD_CONFIG: '', MALLARD_LOG_LEVEL: 'warn' };
    const first = await runProcess(process.execPath, [MALLARD_BIN, 'db', 'shard', '--uri', uri], {
      cwd: ROOT,
      env,
    });
    expect(first.status, first.stderr).toBe(0);
    for (const { collection } of SHARD_KEYS)
      expect(first.stdout).toMatch(new RegExp(`\\.${collection}\\tsharded`));
    const second = await runProcess(process.execPath, [MALLARD_BIN, 'db', 'shard', '--uri', uri], {
      cwd: ROOT,
      env,
    });
    expect(second.status, second.stderr).toBe(0);
    const database = new URL(uri.replace(/^mongodb(\+srv)?:/, 'http:')).pathname.slice(1);
    await withClient(URI, async (client) => {
      const sharded = await client
        .db('config')
        .collection('collections')
        .find({ _id: { $regex: `^${database}\\.` } as never })
        .toArray();
      for (const { collection, key } of SHARD_KEYS) {
        const found = sharded.find((doc) => String(doc._id) === `${database}.${collection}`);
        expect(found?.key).toEqual(key);
      }
    });
  }, 180_000);
});
