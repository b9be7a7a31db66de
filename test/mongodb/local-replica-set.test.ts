/**
 * The local replica set (store.mongodb.local) with a fake `mongod` (test/mongodb/fake-mongod.mjs:
 * it records its arguments, runs the Java stand-in, and answers the replica-set commands the
 * stand-in lacks). What this proves: the command lines, the data-directory layout, initiation
 * once, the URI, supervision (a killed member comes back) and a clean stop. What only a real
 * mongod can prove (elections, replication between members, mongod's own option parsing) is not
 * claimed here.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  memberLayout,
  mongodArgs,
  replicaSetConfig,
  replicaSetUri,
  startLocalReplicaSet,
  type LocalReplicaSet,
} from '../../server/store/mongodb/local-replica-set.ts';
import { loadConfig } from '../../server/config/load.ts';
import { MALLARD_BIN, ROOT } from '../helpers/cli.ts';
import { ensureMongoStandInBuilt } from '../helpers/mongo.ts';
import { runProcess } from '../helpers/process.ts';
import { LineClient } from '../helpers/server.ts';
import { startServerProcess } from './support.ts';

const FAKE = path.resolve(path.dirname(new URL(import.meta.url).pathname), 'fake-mongod.mjs');

let dirs: string[] = [];
let sets: LocalReplicaSet[] = [];

/** A data directory with an executable `mongod` that runs the fake. */
function dataDirWithFakeMongod(): { dataDir: string; mongod: string } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mallard-lrs-'));
  dirs.push(dataDir);
  const mongod = path.join(dataDir, 'bin', 'mongod');
  fs.mkdirSync(path.dirname(mongod));
  fs.writeFileSync(mongod, `#!/bin/sh\nexec "${process.execPath}" "${FAKE}" "$@"\n`, { mode: 0o755 });
  return { dataDir, mongod };
}

/** A base port with `count` free ports after it, away from other tests' ports. */
async function freeBase(count: number): Promise<number> {
  for (;;) {
    const base = 30000 + Math.floor(Math.random() * 20000);
    let ok = true;
    for (let port = base; port < base + count && ok; port++) ok = await portFree(port);
    if (ok) return base;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function recordedStarts(dataDir: string, member: number): Array<{ pid: number; args: string[] }> {
  const file = path.join(memberLayout(dataDir, member).dbPath, 'fake-args.jsonl');
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { pid: number; args: string[] });
}

async function writeAndRead(uri: string, value: number): Promise<unknown[]> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    const collection = client.db().collection<{ value: number }>('probe');
    await collection.insertOne({ value });
    return (await collection.find({}, { projection: { _id: 0 } }).toArray()).map((doc) => doc.value);
  } finally {
    await client.close();
  }
}

beforeAll(() => ensureMongoStandInBuilt(), 300_000);

afterEach(async () => {
  await Promise.all(sets.map((set) => set.stop()));
  sets = [];
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

describe('local replica set: arguments and layout', () => {
  it('takes 1 or 3 members from store.mongodb.local_members', () => {
    const load = (members: string) =>
      loadConfig({ env: { MALLARD_DATA_DIR: '/data', MALLARD_STORE_MONGODB_LOCAL_MEMBERS: members } });
    expect(loadConfig({ env: { MALLARD_DATA_DIR: '/data' } }).store.mongodb.local_members).toBe(1);
    expect(load('3').store.mongodb.local_members).toBe(3);
    expect(() => load('2')).toThrow(/store\.mongodb\.local_members: got 2 .*expected 1 or 3/);
  });

  it('builds one member without a cache limit and three with one', () => {
    const layout = memberLayout('/data', 2);
    expect(layout).toEqual({
      index: 2,
      dir: path.join('/data', 'mongodb', 'member-2'),
      dbPath: path.join('/data', 'mongodb', 'member-2', 'db'),
      logPath: path.join('/data', 'mongodb', 'member-2', 'mongod.log'),
    });
    expect(mongodArgs(layout, { name: 'mallard', port: 27218, members: 1 })).toEqual([
      '--replSet',
      'mallard',
      '--port',
      '27218',
      '--bind_ip',
      '127.0.0.1',
      '--dbpath',
      layout.dbPath,
      '--logpath',
      layout.logPath,
      '--logappend',
    ]);
    expect(mongodArgs(layout, { name: 'mallard', port: 27218, members: 3 }).slice(-2)).toEqual([
      '--wiredTigerCacheSizeGB',
      '0.25',
    ]);
    expect(replicaSetConfig('rs', [1, 2, 3])).toEqual({
      _id: 'rs',
      members: [
        { _id: 0, host: '127.0.0.1:1' },
        { _id: 1, host: '127.0.0.1:2' },
        { _id: 2, host: '127.0.0.1:3' },
      ],
    });
    expect(replicaSetUri({ name: 'mallard', ports: [5, 6] })).toBe(
      'mongodb://127.0.0.1:5,127.0.0.1:6/mallard?replicaSet=mallard',
    );
  });
});

describe('local replica set with a fake mongod', () => {
  it('starts one member, initiates it once, and keeps its ports and data across restarts', async () => {
    const { dataDir, mongod } = dataDirWithFakeMongod();
    const basePort = await freeBase(1);
    const set = await startLocalReplicaSet({ mongod, dataDir, members: 1, basePort });
    sets.push(set);
    expect(set.owned).toBe(true);
    expect(set.uri).toBe(`mongodb://127.0.0.1:${basePort}/mallard?replicaSet=mallard`);
    const root = path.join(dataDir, 'mongodb');
    expect(JSON.parse(fs.readFileSync(path.join(root, 'replset.json'), 'utf8'))).toEqual({
      name: 'mallard',
      ports: [basePort],
    });
    const layout = memberLayout(dataDir, 1);
    expect(recordedStarts(dataDir, 1).map((start) => start.args)).toEqual([
      mongodArgs(layout, { name: 'mallard', port: basePort, members: 1 }),
    ]);
    expect(await writeAndRead(set.uri, 1)).toEqual([1]);

    await set.stop();
    expect(alive(recordedStarts(dataDir, 1)[0]!.pid)).toBe(false);
    expect(await portFree(basePort)).toBe(true);

    const again = await startLocalReplicaSet({ mongod, dataDir, members: 1, basePort: basePort + 1 });
    sets.push(again);
    expect(again.uri).toBe(set.uri); // the recorded port, not the new base
    expect(await writeAndRead(again.uri, 2)).toEqual([1, 2]);
    const log = fs.readFileSync(layout.logPath, 'utf8');
    expect(log.match(/initiated/g)).toHaveLength(1);
  }, 120_000);

  it('restarts a member that dies and stops every member on stop()', async () => {
    const { dataDir, mongod } = dataDirWithFakeMongod();
    const set = await startLocalReplicaSet({ mongod, dataDir, members: 1, basePort: await freeBase(1) });
    sets.push(set);
    const [before] = set.members();
    expect(before!.pid).not.toBeNull();
    process.kill(before!.pid!, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !(set.members()[0]!.restarts === 1 && set.members()[0]!.pid)) {
      await sleep(100);
    }
    const [after] = set.members();
    expect(after!.restarts).toBe(1);
    expect(after!.pid).not.toBe(before!.pid);
    expect(await writeAndRead(set.uri, 7)).toEqual([7]);
    await set.stop();
    expect(alive(after!.pid!)).toBe(false);
    expect(recordedStarts(dataDir, 1)).toHaveLength(2);
  }, 120_000);

  it('runs three members on one machine with a primary, and a second process reuses them', async () => {
    const { dataDir, mongod } = dataDirWithFakeMongod();
    const basePort = await freeBase(3);
    const set = await startLocalReplicaSet({ mongod, dataDir, members: 3, basePort });
    sets.push(set);
    expect(set.ports).toHaveLength(3);
    expect(set.uri).toBe(
      `mongodb://${set.ports.map((port) => `127.0.0.1:${port}`).join(',')}/mallard?replicaSet=mallard`,
    );
    for (let member = 1; member <= 3; member++) {
      const args = recordedStarts(dataDir, member)[0]!.args;
      expect(args).toEqual(
        mongodArgs(memberLayout(dataDir, member), {
          name: 'mallard',
          port: set.ports[member - 1]!,
          members: 3,
        }),
      );
    }
    expect(await writeAndRead(set.uri, 3)).toEqual([3]);
    const other = await startLocalReplicaSet({ mongod, dataDir, members: 3 });
    expect(other).toMatchObject({ owned: false, uri: set.uri });
    await other.stop(); // not its members: they keep running
    expect(set.members().every((member) => member.pid !== null && alive(member.pid))).toBe(true);
    await expect(startLocalReplicaSet({ mongod, dataDir, members: 1 })).rejects.toThrow(/has 3 member/);
  }, 180_000);

  it('says so when the binary is missing', async () => {
    const { dataDir } = dataDirWithFakeMongod();
    await expect(
      startLocalReplicaSet({ mongod: path.join(dataDir, 'nope'), dataDir, members: 1 }),
    ).rejects.toThrow(/no mongod binary/);
  });

  it('mallard serve runs the set from store.mongodb.local, the CLI shares it, and stopping stops it', async () => {
    const { mongod } = dataDirWithFakeMongod();
    const server = await startServerProcess('', { MALLARD_STORE_MONGODB_LOCAL: mongod });
    let pids: number[] = [];
    try {
      pids = recordedStarts(server.dataDir, 1).map((start) => start.pid);
      expect(pids).toHaveLength(1);
      const env = {
        ...process.env,
        MALLARD_CONFIG: '',
        MALLARD_DATA_DIR: server.dataDir,
        MALLARD_STORE_ENGINE: 'mongodb',
        MALLARD_STORE_MONGODB_LOCAL: mongod,
        MALLARD_ADMIN_PORT: '0',
        MALLARD_LOG_LEVEL: 'warn',
      };
      const domain = await runProcess(process.execPath, [MALLARD_BIN, 'domain', 'add', 'example.com'], {
        cwd: ROOT,
        env,
        timeoutMs: 120_000,
      });
      expect(domain.status, domain.stderr).toBe(0);
      const add = await runProcess(
        process.execPath,
        [MALLARD_BIN, 'user', 'add', 'alice@example.com', '--password', 'secret-password'],
        { cwd: ROOT, env, timeoutMs: 120_000 },
      );
      expect(add.status, add.stderr).toBe(0);
      expect(recordedStarts(server.dataDir, 1)).toHaveLength(1); // the CLI used the running set
      const client = await LineClient.connect(server.imapPort);
      await client.readUntil(/^\* OK/);
      expect(await client.command('l', 'LOGIN alice@example.com secret-password')).toMatch(/^l OK/m);
      const text = 'From: a@example.com\r\nSubject: local\r\n\r\nhi\r\n';
      expect(await client.command('a', `APPEND INBOX {${text.length}+}\r\n${text}`)).toMatch(/^a OK/m);
      expect(await client.command('s', 'SELECT INBOX')).toMatch(/^\* 1 EXISTS/m);
      client.close();
    } finally {
      await server.stop();
    }
    expect(pids.every((pid) => !alive(pid))).toBe(true);
  }, 180_000);
});
