/**
 * Child process for the multi-process contract tests on the sqlite engine:
 *   node bin/run-ts.mjs server/store/sqlite/append-worker.ts DATA_DIR MAILBOX_ID COUNT TAG
 */
import { runAppendWorker } from '../contract-worker.ts';
import { SqliteStore } from './store.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: append-worker.ts DATA_DIR MAILBOX_ID COUNT TAG');
await runAppendWorker(() => SqliteStore.open(dataDir), process.argv);
