/**
 * `mallard serve` with two workers on the mongodb engine (the stand-in): both take connections, a
 * delivery through one is pushed to IDLE sessions on both within 1 s (the journal carries it
 * between the processes), and the admin API sees and kicks the sessions of both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { addUser, openMongo } from '../mongodb/support.ts';
import { Cluster } from './cluster.ts';

const PASSWORD = 'correct horse';
const ALICE = 'alice@example.test';

let standIn: MongoStandIn;
let cluster: Cluster;

beforeAll(async () => {
  standIn = await startMongoStandIn();
  const uri = freshDatabaseUri(standIn.uri);
  cluster = await Cluster.start({
    workers: 2,
    accounts: { [ALICE]: PASSWORD },
    async createAccounts(accounts) {
      const store = await openMongo(uri);
      for (const [username, password] of Object.entries(accounts)) await addUser(store, username, password);
      await store.close();
    },
    env: { MALLARD_STORE_ENGINE: 'mongodb', MALLARD_STORE_MONGODB_URI: uri },
  });
}, 180_000);

afterAll(async () => {
  await cluster?.dispose();
  await standIn?.stop();
}, 60_000);

describe('mallard serve with two workers on MongoDB', () => {
  it('pushes a delivery through one worker to IDLE sessions on both, and kicks either', async () => {
    const { first, second, workers } = await cluster.twoSessions(ALICE, PASSWORD);
    expect(new Set(workers)).toEqual(new Set([1, 2]));
    for (const client of [first, second]) {
      await client.ok('SELECT INBOX');
      client.write('i1 IDLE\r\n');
      expect((await client.readResponse()).text).toMatch(/^\+ /);
    }
    expect(await cluster.lmtpDeliver(ALICE, 'pushed')).toMatch(/^250 /);
    for (const client of [first, second]) {
      expect((await client.readResponse(1000)).text).toBe('* 1 EXISTS');
    }
    const listed = await cluster.admin('GET', `/api/sessions?protocol=imap&user=${ALICE}`);
    const sessions = (listed.body as { sessions: Array<{ id: string }> }).sessions;
    expect(sessions).toHaveLength(2);
    for (const session of sessions) {
      expect((await cluster.admin('DELETE', `/api/sessions/${session.id}`)).status).toBe(204);
    }
    for (const client of [first, second]) {
      // After what IDLE still reports (RECENT), the goodbye.
      let text = '';
      for (let read = 0; read < 5 && !text.startsWith('* BYE '); read++)
        text = (await client.readResponse()).text;
      expect(text).toMatch(/^\* BYE /);
    }
  }, 60_000);
});
