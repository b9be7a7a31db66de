/**
 * Child process for the multi-process contract tests on the threaded sqlite engine (the one
 * `mallard serve` runs): an append is acknowledged only once the store thread has committed it.
 *   node bin/run-ts.mjs server/store/sqlite/thread-append-worker.ts DATA_DIR MAILBOX_ID COUNT TAG
 */
import { runAppendWorker } from '../contract-worker.ts';
import { ThreadedSqliteStore } from './thread.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: thread-append-worker.ts DATA_DIR MAILBOX_ID COUNT TAG');
await runAppendWorker(() => ThreadedSqliteStore.open(dataDir), process.argv);
