/**
 * The visibility rule, checked on what sessions see (test/mongodb/visibility-checker.ts): two
 * `mallard serve` processes on one store, on either engine (the MongoDB stand-in, or one sqlite
 * data directory shared by both processes). One test file per engine (visibility-*.test.ts), so
 * each runs in a process of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../server/main.ts';
import { loadConfig } from '../../server/config/load.ts';
import type { Store } from '../../server/store/types.ts';
import { makeDataDir } from '../helpers/cli.ts';
import { freshDatabaseUri, startMongoStandIn, type MongoStandIn } from '../helpers/mongo.ts';
import { addUser, openMongo, startServerProcess, type ServerProcess } from './support.ts';
import { runVisibilityChecker } from './visibility-checker.ts';

const USER = 'alice@example.com';
const PASSWORD = 'secret-password';

export function visibilitySuite(engine: 'mongodb' | 'sqlite'): void {
  describe(`visibility rule on ${engine}, two server processes`, () => {
    let standIn: MongoStandIn | null = null;
    let store: Store;
    let servers: ServerProcess[] = [];

    beforeAll(async () => {
      if (engine === 'mongodb') {
        standIn = await startMongoStandIn();
        const uri = freshDatabaseUri(standIn.uri);
        store = await openMongo(uri);
        await addUser(store, USER, PASSWORD);
        servers = await Promise.all([startServerProcess(uri), startServerProcess(uri)]);
      } else {
        const dataDir = makeDataDir('mallard-visibility-');
        store = await openStore(loadConfig({ env: { MALLARD_CONFIG: '', MALLARD_DATA_DIR: dataDir } }));
        await addUser(store, USER, PASSWORD);
        servers = await Promise.all([
          startServerProcess({ sqliteDataDir: dataDir }),
          startServerProcess({ sqliteDataDir: dataDir }),
        ]);
      }
    }, 240_000);

    afterAll(async () => {
      await Promise.all(servers.map((server) => server.stop()));
      await store?.close();
      await standIn?.stop();
    });

    it('every session learns every change once, in order, within 1 s; HIGHESTMODSEQ and STATUS agree', async () => {
      const report = await runVisibilityChecker({ servers, username: USER, password: PASSWORD });
      console.log(
        `${engine}: ${report.acknowledged} messages acknowledged, ${report.flagChanges} flag changes, ` +
          `${report.snapshots} SELECT snapshots, worst delay ${report.worstDelayMs} ms, ` +
          `${report.problems.length} problems${report.problems.length ? ':\n  ' + report.problems.slice(0, 40).join('\n  ') : ''}`,
      );
      expect(report.acknowledged).toBe(servers.length * 2 * 20);
      expect(report.snapshots).toBeGreaterThan(0);
      expect(report.problems).toEqual([]);
    }, 120_000);
  });
}
